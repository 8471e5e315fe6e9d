//! MCUboot image parsing over arbitrary bytes: header, TLV walk, hash and signature checks
//! (`smp::mcuboot::image`), with the test keys of `crates/smp/tests/data` accepted.
//!
//! What must hold: a parsed header emits back to the same bytes; an image that inspects
//! fits its slot and ends inside it; an image that passes the hash check hashes (SHA-256
//! over header, payload and protected TLVs, computed here independently) to the value its
//! TLV states, and every other image fails with a hash mismatch exactly when those differ;
//! validation without keys is the hash check, and with keys succeeds only for an image
//! that passes the hash check and carries a signature.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};
use smp::mcuboot::image::{self, ImageError, ImageHeader};
use smp::mcuboot::sig::{pem_to_der, PublicKey};
use smp::mcuboot::Bytes;

const PEMS: [&str; 4] = [
    include_str!("../../crates/smp/tests/data/ecdsa-p256.pub.pem"),
    include_str!("../../crates/smp/tests/data/ed25519.pub.pem"),
    include_str!("../../crates/smp/tests/data/rsa-2048.pub.pem"),
    include_str!("../../crates/smp/tests/data/rsa-3072.pub.pem"),
];

fn ders() -> &'static [Vec<u8>] {
    static DERS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    DERS.get_or_init(|| {
        PEMS.iter()
            .map(|p| {
                let mut b = [0u8; 1024];
                pem_to_der(p, &mut b).expect("test key").to_vec()
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let keys: Vec<PublicKey<'_>> = ders()
        .iter()
        .map(|d| PublicKey::from_der(d).expect("test key"))
        .collect();

    let header = ImageHeader::parse(data);
    if let Ok(h) = header {
        let mut out = [0u8; 32];
        h.emit(&mut out).unwrap();
        assert_eq!(&out[..28], &data[..28], "header does not emit back");
        assert_eq!(ImageHeader::parse(&out), Ok(h));
    }

    let inspected = image::inspect(&mut Bytes(data));
    if let Ok(info) = inspected {
        assert_eq!(Ok(info.header), header);
        let hashed = info.header.hashed_len().unwrap() as usize;
        assert!(hashed < data.len(), "hashed region past the slot");
        assert!(hashed <= info.end as usize && info.end as usize <= data.len());
    }

    let checked = image::check_hash(&mut Bytes(data));
    match (&checked, &inspected) {
        (Ok(c), Ok(i)) => {
            assert_eq!(c, i);
            let hashed = c.header.hashed_len().unwrap() as usize;
            let h: [u8; 32] = Sha256::digest(&data[..hashed]).into();
            assert_eq!(h, c.hash, "validated image does not hash to its TLV");
        }
        (Err(ImageError::HashMismatch), Ok(i)) => {
            let hashed = i.header.hashed_len().unwrap() as usize;
            let h: [u8; 32] = Sha256::digest(&data[..hashed]).into();
            assert_ne!(h, i.hash);
        }
        (Err(e), Err(f)) => assert_eq!(e, f),
        (c, i) => panic!("check_hash {c:?} but inspect {i:?}"),
    }

    assert_eq!(image::validate(&mut Bytes(data), &[]), checked);
    match image::validate(&mut Bytes(data), &keys) {
        Ok(info) => {
            assert_eq!(Ok(info), checked);
            assert!(info.sig.is_some(), "signed-off image without a signature");
        }
        Err(ImageError::NoKey | ImageError::BadSignature) => assert!(checked.is_ok()),
        Err(e) => assert_eq!(Err(e), checked),
    }

    // Signature checks over arbitrary signatures: no key accepts a forgery.
    if let [sel, rest @ ..] = data {
        if rest.len() >= 32 {
            let kind = [
                image::SigKind::Ecdsa,
                image::SigKind::Ed25519,
                image::SigKind::Rsa2048,
                image::SigKind::Rsa3072,
            ][usize::from(*sel & 3)];
            let hash: [u8; 32] = rest[..32].try_into().unwrap();
            for k in &keys {
                assert!(
                    !k.verify(kind, &hash, &rest[32..]),
                    "forged signature accepted"
                );
            }
        }
    }

    // The key parser over the same bytes: whatever it accepts hashes its own DER bytes.
    for b in [data, data.get(1..).unwrap_or(&[])] {
        if let Some(k) = PublicKey::from_der(b) {
            assert!(b.starts_with(k.der()) || b.windows(k.der().len()).any(|w| w == k.der()));
            let h: [u8; 32] = Sha256::digest(k.der()).into();
            assert_eq!(k.key_hash(), h);
        }
    }
});
