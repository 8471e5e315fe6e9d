//! Public keys and the three signature checks of imgtool's key types (docs/mcuboot.md,
//! "Hash and signatures"): RSA-2048/3072 PSS (SHA-256, MGF1-SHA-256, salt 32, e = 65537), ECDSA P-256
//! over the image hash, Ed25519 with the 32-byte image hash as the message.
//!
//! RSA is done here over `crypto-bigint` fixed-width integers (RFC 8017 EMSA-PSS-VERIFY),
//! because the `rsa` crate needs an allocator.

use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
use crypto_bigint::{Odd, Uint, U2048, U3072};
use sha2::{Digest, Sha256};

use super::image::SigKind;

/// The algorithm of a public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// RSA (2048 or 3072 bits).
    Rsa,
    /// ECDSA on P-256.
    EcdsaP256,
    /// Ed25519.
    Ed25519,
}

/// A public key, borrowed from its DER encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicKey<'a> {
    kind: KeyKind,
    /// The bytes MCUboot hashes for KEYHASH: PKCS#1 for RSA, SubjectPublicKeyInfo otherwise.
    der: &'a [u8],
    /// RSA: the modulus (no leading zeros); EC: the SEC1 point; Ed25519: the 32 key bytes.
    raw: &'a [u8],
}

const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

/// One DER item: tag, contents, the whole item, and the bytes after it.
type DerItem<'a> = (u8, &'a [u8], &'a [u8], &'a [u8]);

/// Splits one DER item off `b`.
fn der(b: &[u8]) -> Option<DerItem<'_>> {
    let tag = *b.first()?;
    let l0 = *b.get(1)?;
    let (len, hl) = match l0 {
        0..=0x7f => (l0 as usize, 2usize),
        0x81 => (*b.get(2)? as usize, 3),
        0x82 => (((*b.get(2)? as usize) << 8) | *b.get(3)? as usize, 4),
        _ => return None,
    };
    let end = hl.checked_add(len)?;
    let content = b.get(hl..end)?;
    Some((tag, content, &b[..end], &b[end..]))
}

/// A DER INTEGER's magnitude without leading zero bytes.
fn der_uint(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let (tag, mut v, _, rest) = der(b)?;
    if tag != 0x02 || v.is_empty() || v[0] & 0x80 != 0 {
        return None;
    }
    while v.len() > 1 && v[0] == 0 {
        v = &v[1..];
    }
    Some((v, rest))
}

fn rsa_pkcs1(der_bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let (tag, seq, whole, _) = der(der_bytes)?;
    if tag != 0x30 {
        return None;
    }
    let (n, rest) = der_uint(seq)?;
    let (e, rest) = der_uint(rest)?;
    if !rest.is_empty() || e != [0x01, 0x00, 0x01] || !(n.len() == 256 || n.len() == 384) {
        return None;
    }
    Some((whole, n))
}

impl<'a> PublicKey<'a> {
    /// Reads a DER public key: a SubjectPublicKeyInfo (RSA, EC P-256, Ed25519; what
    /// `imgtool getpub -e pem` prints) or a PKCS#1 `RSAPublicKey`.
    pub fn from_der(b: &'a [u8]) -> Option<PublicKey<'a>> {
        if let Some((der, n)) = rsa_pkcs1(b) {
            return Some(PublicKey {
                kind: KeyKind::Rsa,
                der,
                raw: n,
            });
        }
        let (tag, spki, whole, _) = der(b)?;
        if tag != 0x30 {
            return None;
        }
        let (tag, alg, _, rest) = der(spki)?;
        let (btag, bits, _, _) = der(rest)?;
        if tag != 0x30 || btag != 0x03 || bits.first() != Some(&0) {
            return None;
        }
        let key = &bits[1..];
        let (otag, oid, _, params) = der(alg)?;
        if otag != 0x06 {
            return None;
        }
        if oid == OID_RSA {
            let (der, n) = rsa_pkcs1(key)?;
            return Some(PublicKey {
                kind: KeyKind::Rsa,
                der,
                raw: n,
            });
        }
        if oid == OID_EC {
            let (_, curve, _, _) = der(params)?;
            if curve != OID_P256 || key.len() != 65 || key[0] != 4 {
                return None;
            }
            return Some(PublicKey {
                kind: KeyKind::EcdsaP256,
                der: whole,
                raw: key,
            });
        }
        if oid == OID_ED25519 && key.len() == 32 {
            return Some(PublicKey {
                kind: KeyKind::Ed25519,
                der: whole,
                raw: key,
            });
        }
        None
    }

    /// The key's algorithm.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The bytes the KEYHASH TLV hashes.
    pub fn der(&self) -> &'a [u8] {
        self.der
    }

    /// The KEYHASH value of this key (SHA-256).
    pub fn key_hash(&self) -> [u8; 32] {
        Sha256::digest(self.der).into()
    }

    /// Checks signature `sig` (from a TLV of `kind`) over the image hash `hash`.
    pub fn verify(&self, kind: SigKind, hash: &[u8; 32], sig: &[u8]) -> bool {
        match (self.kind, kind) {
            (KeyKind::Rsa, SigKind::Rsa2048) if self.raw.len() == 256 => {
                rsa_pss_verify::<{ U2048::LIMBS }>(self.raw, hash, sig)
            }
            (KeyKind::Rsa, SigKind::Rsa3072) if self.raw.len() == 384 => {
                rsa_pss_verify::<{ U3072::LIMBS }>(self.raw, hash, sig)
            }
            (KeyKind::EcdsaP256, SigKind::Ecdsa) => ecdsa_verify(self.raw, hash, sig),
            (KeyKind::Ed25519, SigKind::Ed25519) => ed25519_verify(self.raw, hash, sig),
            _ => false,
        }
    }
}

/// Decodes a PEM block (any label) into `out`; returns the DER bytes.
pub fn pem_to_der<'o>(pem: &str, out: &'o mut [u8]) -> Option<&'o [u8]> {
    use base64::Engine as _;
    let mut b64 = [0u8; 4096];
    let mut n = 0;
    let mut inside = false;
    for line in pem.lines() {
        let line = line.trim();
        if line.starts_with("-----BEGIN") {
            inside = true;
        } else if line.starts_with("-----END") {
            break;
        } else if inside {
            let dst = b64.get_mut(n..n + line.len())?;
            dst.copy_from_slice(line.as_bytes());
            n += line.len();
        }
    }
    let len = base64::engine::general_purpose::STANDARD
        .decode_slice(&b64[..n], out)
        .ok()?;
    Some(&out[..len])
}

const MAX_K: usize = 384;
const H_LEN: usize = 32;
const S_LEN: usize = 32;

/// RSASSA-PSS verification with e = 65537 for a `LIMBS`-wide modulus `n` (big-endian,
/// exactly the integer's byte length).
fn rsa_pss_verify<const LIMBS: usize>(n: &[u8], hash: &[u8; 32], sig: &[u8]) -> bool {
    let k = Uint::<LIMBS>::BYTES;
    if n.len() != k || sig.len() != k || k > MAX_K {
        return false;
    }
    let n = Uint::<LIMBS>::from_be_slice(n);
    let s = Uint::<LIMBS>::from_be_slice(sig);
    if s >= n {
        return false;
    }
    let Some(odd) = Option::<Odd<Uint<LIMBS>>>::from(Odd::new(n)) else {
        return false;
    };
    let params = FixedMontyParams::new_vartime(odd);
    let base = FixedMontyForm::new(&s, &params);
    // s^65537 = s^(2^16) * s
    let m = base.square_repeat_vartime(16).mul(&base).retrieve();
    let enc = m.to_be_bytes();
    let em: &[u8] = enc.as_ref();
    let mod_bits = n.bit_width() as usize;
    let em_bits = mod_bits - 1;
    let em_len = em_bits.div_ceil(8);
    let em = if em_len < k {
        if em[0] != 0 {
            return false;
        }
        &em[k - em_len..]
    } else {
        em
    };
    emsa_pss_verify(hash, em, em_bits)
}

/// RFC 8017 §9.1.2 with SHA-256, MGF1-SHA-256 and a 32-byte salt.
fn emsa_pss_verify(m_hash: &[u8; 32], em: &[u8], em_bits: usize) -> bool {
    let em_len = em.len();
    if em_len < H_LEN + S_LEN + 2 || em[em_len - 1] != 0xbc {
        return false;
    }
    let db_len = em_len - H_LEN - 1;
    let (masked_db, rest) = em.split_at(db_len);
    let h = &rest[..H_LEN];
    let top_bits = 8 * em_len - em_bits;
    let top_mask = 0xffu8.checked_shr(top_bits as u32).unwrap_or(0);
    if masked_db[0] & !top_mask != 0 {
        return false;
    }
    let mut db = [0u8; MAX_K];
    let db = &mut db[..db_len];
    db.copy_from_slice(masked_db);
    // MGF1
    for (counter, chunk) in (0u32..).zip(db.chunks_mut(H_LEN)) {
        let mask = Sha256::new()
            .chain_update(h)
            .chain_update(counter.to_be_bytes())
            .finalize();
        for (d, m) in chunk.iter_mut().zip(mask.iter()) {
            *d ^= m;
        }
    }
    db[0] &= top_mask;
    let ps_len = em_len - H_LEN - S_LEN - 2;
    if db[..ps_len].iter().any(|&b| b != 0) || db[ps_len] != 0x01 {
        return false;
    }
    let salt = &db[db_len - S_LEN..];
    let h2 = Sha256::new()
        .chain_update([0u8; 8])
        .chain_update(m_hash)
        .chain_update(salt)
        .finalize();
    h2.as_slice() == h
}

fn ecdsa_verify(point: &[u8], hash: &[u8; 32], sig: &[u8]) -> bool {
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    use p256::ecdsa::{Signature, VerifyingKey};
    let Some((0x30, seq, _, _)) = der(sig) else {
        return false;
    };
    let mut rs = [0u8; 64];
    let Some((r, rest)) = der_uint(seq) else {
        return false;
    };
    let Some((s, rest)) = der_uint(rest) else {
        return false;
    };
    if !rest.is_empty() || r.len() > 32 || s.len() > 32 {
        return false;
    }
    rs[32 - r.len()..32].copy_from_slice(r);
    rs[64 - s.len()..].copy_from_slice(s);
    let (Ok(vk), Ok(sig)) = (
        VerifyingKey::from_sec1_bytes(point),
        Signature::from_slice(&rs),
    ) else {
        return false;
    };
    vk.verify_prehash(hash, &sig).is_ok()
}

fn ed25519_verify(key: &[u8], hash: &[u8; 32], sig: &[u8]) -> bool {
    use ed25519_dalek::{Signature, Verifier, VerifyingKey};
    let (Ok(key), Ok(sig)) = (<&[u8; 32]>::try_from(key), <&[u8; 64]>::try_from(sig)) else {
        return false;
    };
    let Ok(vk) = VerifyingKey::from_bytes(key) else {
        return false;
    };
    vk.verify(hash, &Signature::from_bytes(sig)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcuboot::image::{validate, ImageError};
    use crate::mcuboot::Bytes;

    macro_rules! data {
        ($f:literal) => {
            include_bytes!(concat!("../../tests/data/", $f))
        };
    }

    fn key<'o>(pem: &[u8], out: &'o mut [u8]) -> PublicKey<'o> {
        let der = pem_to_der(core::str::from_utf8(pem).unwrap(), out).unwrap();
        PublicKey::from_der(der).unwrap()
    }

    fn check(img: &[u8], pem: &[u8], kind: KeyKind, der_len: usize) {
        let mut buf = [0u8; 1024];
        let k = key(pem, &mut buf);
        assert_eq!(k.kind(), kind);
        assert_eq!(k.der().len(), der_len);
        validate(&mut Bytes(img), &[k]).unwrap();
        // Flip one byte of the signature (the last TLV): the signature fails.
        let mut b = [0u8; 4096];
        let bad = &mut b[..img.len()];
        bad.copy_from_slice(img);
        bad[img.len() - 5] ^= 0x40;
        assert_eq!(
            validate(&mut Bytes(bad), &[k]),
            Err(ImageError::BadSignature)
        );
        // Wrong key: no signature by a known key.
        let mut ob = [0u8; 1024];
        let other = key(data!("other-ecdsa-p256.pub.pem"), &mut ob);
        assert_eq!(validate(&mut Bytes(img), &[other]), Err(ImageError::NoKey));
        // Both keys: the matching one is used.
        validate(&mut Bytes(img), &[other, k]).unwrap();
    }

    #[test]
    fn rsa_2048() {
        check(
            data!("rsa-2048.bin"),
            data!("rsa-2048.pub.pem"),
            KeyKind::Rsa,
            270,
        );
    }

    #[test]
    fn rsa_3072() {
        check(
            data!("rsa-3072.bin"),
            data!("rsa-3072.pub.pem"),
            KeyKind::Rsa,
            398,
        );
    }

    #[test]
    fn ecdsa_p256() {
        check(
            data!("ecdsa-p256.bin"),
            data!("ecdsa-p256.pub.pem"),
            KeyKind::EcdsaP256,
            91,
        );
        check(
            data!("sc-ecdsa-p256.bin"),
            data!("ecdsa-p256.pub.pem"),
            KeyKind::EcdsaP256,
            91,
        );
    }

    #[test]
    fn ed25519() {
        check(
            data!("ed25519.bin"),
            data!("ed25519.pub.pem"),
            KeyKind::Ed25519,
            44,
        );
    }

    #[test]
    fn unsigned_image_needs_no_key_but_fails_with_keys() {
        let img = data!("unsigned.bin");
        validate(&mut Bytes(img), &[]).unwrap();
        let mut b = [0u8; 1024];
        let k = key(data!("ecdsa-p256.pub.pem"), &mut b);
        assert_eq!(validate(&mut Bytes(img), &[k]), Err(ImageError::NoKey));
    }

    #[test]
    fn every_tlv_byte_flip_is_rejected() {
        for (img, pem) in [
            (
                &data!("ecdsa-p256.bin")[..],
                &data!("ecdsa-p256.pub.pem")[..],
            ),
            (&data!("ed25519.bin")[..], &data!("ed25519.pub.pem")[..]),
        ] {
            let mut kb = [0u8; 1024];
            let k = key(pem, &mut kb);
            let mut b = [0u8; 4096];
            for i in 0x200 + 1000..img.len() {
                let bad = &mut b[..img.len()];
                bad.copy_from_slice(img);
                bad[i] ^= 0x01;
                assert!(validate(&mut Bytes(bad), &[k]).is_err(), "byte {i:#x}");
            }
        }
    }

    #[test]
    fn junk_keys_and_signatures() {
        assert!(PublicKey::from_der(&[]).is_none());
        assert!(PublicKey::from_der(&[0x30, 0x82, 0xff]).is_none());
        let mut b = [0u8; 1024];
        let k = key(data!("rsa-2048.pub.pem"), &mut b);
        let h = [0u8; 32];
        assert!(!k.verify(SigKind::Rsa2048, &h, &[0u8; 256]));
        assert!(!k.verify(SigKind::Rsa2048, &h, &[0xffu8; 256]));
        assert!(!k.verify(SigKind::Rsa2048, &h, &[1u8; 3]));
        assert!(!k.verify(SigKind::Rsa3072, &h, &[1u8; 384]));
        let mut b = [0u8; 1024];
        let k = key(data!("ecdsa-p256.pub.pem"), &mut b);
        assert!(!k.verify(
            SigKind::Ecdsa,
            &h,
            &[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]
        ));
        assert!(!k.verify(SigKind::Ecdsa, &h, &[0x30]));
    }
}
