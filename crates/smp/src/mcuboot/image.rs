//! Image header, version, TLV area and image hash (docs/mcuboot.md: "Image header", "TLVs",
//! "Hash and signatures").

use core::cmp::Ordering;
use core::fmt;

use embedded_storage::nor_flash::ReadNorFlash;
use sha2::{Digest, Sha256};

/// `ih_magic` of a current MCUboot image (bytes `3d b8 f3 96`).
pub const IMAGE_MAGIC: u32 = 0x96f3_b83d;
/// Size of `struct image_header`.
pub const HEADER_LEN: usize = 32;
/// Magic of the unprotected TLV block.
pub const TLV_INFO_MAGIC: u16 = 0x6907;
/// Magic of the protected TLV block.
pub const TLV_PROT_INFO_MAGIC: u16 = 0x6908;

/// Header flags (`IMAGE_F_*`).
pub mod flags {
    /// Position-independent code (unsupported).
    pub const PIC: u32 = 0x0000_0001;
    /// Payload AES-128-CTR encrypted.
    pub const ENCRYPTED_AES128: u32 = 0x0000_0004;
    /// Payload AES-256-CTR encrypted.
    pub const ENCRYPTED_AES256: u32 = 0x0000_0008;
    /// Never booted or swapped.
    pub const NON_BOOTABLE: u32 = 0x0000_0010;
    /// Loaded to RAM at `ih_load_addr`.
    pub const RAM_LOAD: u32 = 0x0000_0020;
    /// Linked for the flash address `ih_load_addr`.
    pub const ROM_FIXED: u32 = 0x0000_0100;
    /// LZMA1-compressed payload.
    pub const COMPRESSED_LZMA1: u32 = 0x0000_0200;
    /// LZMA2-compressed payload.
    pub const COMPRESSED_LZMA2: u32 = 0x0000_0400;
}

/// TLV types (`IMAGE_TLV_*`).
pub mod tlv {
    /// Hash of the public key.
    pub const KEYHASH: u16 = 0x01;
    /// Full public key.
    pub const PUBKEY: u16 = 0x02;
    /// SHA-256 image hash.
    pub const SHA256: u16 = 0x10;
    /// SHA-384 image hash.
    pub const SHA384: u16 = 0x11;
    /// SHA-512 image hash.
    pub const SHA512: u16 = 0x12;
    /// RSA-2048 PSS signature.
    pub const RSA2048_PSS: u16 = 0x20;
    /// ECDSA signature (DER).
    pub const ECDSA_SIG: u16 = 0x22;
    /// RSA-3072 PSS signature.
    pub const RSA3072_PSS: u16 = 0x23;
    /// Ed25519 signature.
    pub const ED25519: u16 = 0x24;
    /// The signature covers the image, not its hash.
    pub const SIG_PURE: u16 = 0x25;
    /// Dependency on another image's version.
    pub const DEPENDENCY: u16 = 0x40;
    /// Security counter.
    pub const SEC_CNT: u16 = 0x50;
}

/// An image version, `major.minor.revision+build`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Version {
    /// Major.
    pub major: u8,
    /// Minor.
    pub minor: u8,
    /// Revision.
    pub revision: u16,
    /// Build number.
    pub build: u32,
}

impl Version {
    /// Compares as MCUboot and mcumgr do by default: major, minor, revision; the build
    /// number only when `use_build` (`..._VERSION_CMP_USE_BUILD_NUMBER`).
    pub fn compare(&self, other: &Version, use_build: bool) -> Ordering {
        let a = (self.major, self.minor, self.revision);
        let b = (other.major, other.minor, other.revision);
        match a.cmp(&b) {
            Ordering::Equal if use_build => self.build.cmp(&other.build),
            o => o,
        }
    }

    /// Parses imgtool's `maj[.min[.rev[+build]]]` (also accepts `.build` as the fourth
    /// part, as mcumgr prints it).
    pub fn parse(s: &str) -> Option<Version> {
        let (main, build) = match s.split_once('+') {
            Some((m, b)) => (m, Some(b)),
            None => (s, None),
        };
        let mut parts = main.split('.');
        let mut v = Version {
            major: parts.next()?.parse().ok()?,
            ..Version::default()
        };
        if let Some(p) = parts.next() {
            v.minor = p.parse().ok()?;
        }
        if let Some(p) = parts.next() {
            v.revision = p.parse().ok()?;
        }
        if let Some(p) = parts.next() {
            if build.is_some() {
                return None;
            }
            v.build = p.parse().ok()?;
        }
        if parts.next().is_some() {
            return None;
        }
        if let Some(b) = build {
            v.build = b.parse().ok()?;
        }
        Some(v)
    }
}

/// mcumgr's format: `1.2.3`, plus `.build` only when the build number is not zero.
impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.revision)?;
        if self.build != 0 {
            write!(f, ".{}", self.build)?;
        }
        Ok(())
    }
}

/// Why an image was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageError {
    /// The flash area could not be read.
    Read,
    /// The header magic is erased: the slot holds no image.
    Empty,
    /// The header magic is not MCUboot's.
    BadMagic,
    /// The header is inconsistent (sizes overflow, both encryption bits, ...).
    BadHeader,
    /// Header, payload and TLVs do not fit the slot.
    TooLarge,
    /// The TLV area is malformed.
    BadTlv,
    /// No SHA-256 TLV.
    NoHash,
    /// More than one SHA-256 TLV.
    MultipleHashes,
    /// The hash TLV does not match the image.
    HashMismatch,
    /// Keys were given but no signature was made by one of them.
    NoKey,
    /// A signature by a known key failed.
    BadSignature,
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ImageError::Read => "flash read failed",
            ImageError::Empty => "no image",
            ImageError::BadMagic => "not an MCUboot image (bad magic)",
            ImageError::BadHeader => "malformed image header",
            ImageError::TooLarge => "image does not fit the slot",
            ImageError::BadTlv => "malformed TLV area",
            ImageError::NoHash => "no SHA-256 TLV",
            ImageError::MultipleHashes => "several SHA-256 TLVs",
            ImageError::HashMismatch => "image hash mismatch",
            ImageError::NoKey => "no signature by an accepted key",
            ImageError::BadSignature => "bad signature",
        })
    }
}

impl core::error::Error for ImageError {}

/// The 32-byte image header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImageHeader {
    /// `ih_load_addr`.
    pub load_addr: u32,
    /// `ih_hdr_size`: offset of the payload.
    pub hdr_size: u16,
    /// `ih_protect_tlv_size`: protected TLV block size including its info header.
    pub protect_tlv_size: u16,
    /// `ih_img_size`: payload size.
    pub img_size: u32,
    /// `ih_flags`.
    pub flags: u32,
    /// `ih_ver`.
    pub version: Version,
}

/// Where each field of `struct image_header` sits (all little-endian): the one place the
/// offsets are written, for [`ImageHeader::parse`], [`ImageHeader::emit`] and the raw
/// readers the image group uses on a first upload chunk.
mod field {
    use core::ops::Range;
    pub const MAGIC: Range<usize> = 0..4;
    pub const LOAD_ADDR: Range<usize> = 4..8;
    pub const HDR_SIZE: Range<usize> = 8..10;
    pub const PROTECT_TLV_SIZE: Range<usize> = 10..12;
    pub const IMG_SIZE: Range<usize> = 12..16;
    pub const FLAGS: Range<usize> = 16..20;
    pub const VER_MAJOR: usize = 20;
    pub const VER_MINOR: usize = 21;
    pub const VER_REVISION: Range<usize> = 22..24;
    pub const VER_BUILD: Range<usize> = 24..28;
    /// `_pad1`, written as zeros.
    pub const PAD: Range<usize> = 28..32;
}

fn le16(b: &[u8], r: core::ops::Range<usize>) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(r)?.try_into().ok()?))
}

fn le32(b: &[u8], r: core::ops::Range<usize>) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(r)?.try_into().ok()?))
}

impl ImageHeader {
    /// `ih_magic` of the header at the start of `b`, unchecked; `None` when `b` is shorter
    /// than the field.
    pub fn raw_magic(b: &[u8]) -> Option<u32> {
        le32(b, field::MAGIC)
    }

    /// `ih_ver` of the header at the start of `b`, read without any other check (as Zephyr
    /// reads it from a first upload chunk); `None` when `b` is shorter than the field.
    pub fn raw_version(b: &[u8]) -> Option<Version> {
        Some(Version {
            major: *b.get(field::VER_MAJOR)?,
            minor: *b.get(field::VER_MINOR)?,
            revision: le16(b, field::VER_REVISION)?,
            build: le32(b, field::VER_BUILD)?,
        })
    }

    /// Parses the first 32 bytes of `b`; checks the magic and the header's own
    /// consistency (not the slot size: see [`ImageHeader::check_fits`]).
    pub fn parse(b: &[u8]) -> Result<ImageHeader, ImageError> {
        let b = b.get(..HEADER_LEN).ok_or(ImageError::BadHeader)?;
        let bad = ImageError::BadHeader;
        let magic = Self::raw_magic(b).ok_or(bad)?;
        if magic == 0xffff_ffff || magic == 0 {
            return Err(ImageError::Empty);
        }
        if magic != IMAGE_MAGIC {
            return Err(ImageError::BadMagic);
        }
        let h = ImageHeader {
            load_addr: le32(b, field::LOAD_ADDR).ok_or(bad)?,
            hdr_size: le16(b, field::HDR_SIZE).ok_or(bad)?,
            protect_tlv_size: le16(b, field::PROTECT_TLV_SIZE).ok_or(bad)?,
            img_size: le32(b, field::IMG_SIZE).ok_or(bad)?,
            flags: le32(b, field::FLAGS).ok_or(bad)?,
            version: Self::raw_version(b).ok_or(bad)?,
        };
        let enc = flags::ENCRYPTED_AES128 | flags::ENCRYPTED_AES256;
        let lzma = flags::COMPRESSED_LZMA1 | flags::COMPRESSED_LZMA2;
        if h.flags & enc == enc
            || h.flags & lzma == lzma
            || (h.hdr_size as usize) < HEADER_LEN
            || h.hashed_len().is_none()
        {
            return Err(ImageError::BadHeader);
        }
        Ok(h)
    }

    /// Writes the header into the first 32 bytes of `out` (which must hold them).
    pub fn emit(&self, out: &mut [u8]) -> Option<()> {
        let o = out.get_mut(..HEADER_LEN)?;
        o[field::MAGIC].copy_from_slice(&IMAGE_MAGIC.to_le_bytes());
        o[field::LOAD_ADDR].copy_from_slice(&self.load_addr.to_le_bytes());
        o[field::HDR_SIZE].copy_from_slice(&self.hdr_size.to_le_bytes());
        o[field::PROTECT_TLV_SIZE].copy_from_slice(&self.protect_tlv_size.to_le_bytes());
        o[field::IMG_SIZE].copy_from_slice(&self.img_size.to_le_bytes());
        o[field::FLAGS].copy_from_slice(&self.flags.to_le_bytes());
        o[field::VER_MAJOR] = self.version.major;
        o[field::VER_MINOR] = self.version.minor;
        o[field::VER_REVISION].copy_from_slice(&self.version.revision.to_le_bytes());
        o[field::VER_BUILD].copy_from_slice(&self.version.build.to_le_bytes());
        o[field::PAD].fill(0);
        Some(())
    }

    /// Offset of the first TLV info header (`hdr_size + img_size`).
    pub fn tlv_off(&self) -> Option<u32> {
        u32::from(self.hdr_size).checked_add(self.img_size)
    }

    /// Length of the hashed region: header, payload and protected TLVs.
    pub fn hashed_len(&self) -> Option<u32> {
        self.tlv_off()?.checked_add(self.protect_tlv_size.into())
    }

    /// Whether `NON_BOOTABLE` is clear.
    pub fn is_bootable(&self) -> bool {
        self.flags & flags::NON_BOOTABLE == 0
    }

    /// MCUboot's size check: the hashed region must be strictly smaller than the slot.
    pub fn check_fits(&self, slot_size: usize) -> Result<(), ImageError> {
        match self.hashed_len() {
            Some(n) if (n as usize) < slot_size => Ok(()),
            _ => Err(ImageError::TooLarge),
        }
    }
}

/// One TLV record: its type, where its value starts, and its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv {
    /// `it_type`.
    pub kind: u16,
    /// Offset of the value in the slot.
    pub off: u32,
    /// `it_len`.
    pub len: u16,
    /// Whether the record is in the protected block.
    pub protected: bool,
}

fn read<F: ReadNorFlash>(f: &mut F, off: u32, buf: &mut [u8]) -> Result<(), ImageError> {
    let end = (off as usize)
        .checked_add(buf.len())
        .ok_or(ImageError::Read)?;
    if end > f.capacity() {
        return Err(ImageError::BadTlv);
    }
    f.read(off, buf).map_err(|_| ImageError::Read)
}

/// Reads the header of the image in `f`.
pub fn read_header<F: ReadNorFlash>(f: &mut F) -> Result<ImageHeader, ImageError> {
    let mut b = [0u8; HEADER_LEN];
    if f.capacity() < HEADER_LEN {
        return Err(ImageError::Empty);
    }
    f.read(0, &mut b).map_err(|_| ImageError::Read)?;
    ImageHeader::parse(&b)
}

/// Walks both TLV blocks with MCUboot's iterator rules, calling `cb` for every record;
/// returns the end of the image (through the last TLV).
pub fn for_each_tlv<F: ReadNorFlash>(
    f: &mut F,
    h: &ImageHeader,
    mut cb: impl FnMut(&mut F, Tlv) -> Result<(), ImageError>,
) -> Result<u32, ImageError> {
    let tlv_off = h.tlv_off().ok_or(ImageError::BadHeader)?;
    let mut off = tlv_off;
    let mut info = [0u8; 4];
    if h.protect_tlv_size != 0 {
        read(f, off, &mut info)?;
        let (magic, tot) = tlv_head(&info);
        if magic != TLV_PROT_INFO_MAGIC || tot != h.protect_tlv_size {
            return Err(ImageError::BadTlv);
        }
        let end = off + u32::from(h.protect_tlv_size);
        walk(f, off + 4, end, true, &mut cb)?;
        off = end;
    }
    read(f, off, &mut info)?;
    let (magic, tot) = tlv_head(&info);
    if magic != TLV_INFO_MAGIC {
        return Err(ImageError::BadTlv);
    }
    if tot < 4 {
        return Err(ImageError::BadTlv);
    }
    let end = off.checked_add(tot.into()).ok_or(ImageError::BadTlv)?;
    if end as usize > f.capacity() {
        return Err(ImageError::TooLarge);
    }
    walk(f, off + 4, end, false, &mut cb)?;
    Ok(end)
}

/// The two little-endian halves of a 4-byte TLV head: an info header (`it_magic`,
/// `it_tlv_tot`) or a record head (`it_type`, `it_len`).
fn tlv_head(b: &[u8; 4]) -> (u16, u16) {
    (
        u16::from_le_bytes([b[0], b[1]]),
        u16::from_le_bytes([b[2], b[3]]),
    )
}

fn walk<F: ReadNorFlash>(
    f: &mut F,
    mut off: u32,
    end: u32,
    protected: bool,
    cb: &mut impl FnMut(&mut F, Tlv) -> Result<(), ImageError>,
) -> Result<(), ImageError> {
    while off < end {
        if end - off < 4 {
            return Err(ImageError::BadTlv);
        }
        let mut rec = [0u8; 4];
        read(f, off, &mut rec)?;
        let (kind, len) = tlv_head(&rec);
        let val = off + 4;
        if end - val < u32::from(len) {
            return Err(ImageError::BadTlv);
        }
        cb(
            f,
            Tlv {
                kind,
                off: val,
                len,
                protected,
            },
        )?;
        off = val + u32::from(len);
    }
    Ok(())
}

/// SHA-256 over the first `len` bytes of `f`, read in small chunks.
pub fn hash_region<F: ReadNorFlash>(f: &mut F, len: u32) -> Result<[u8; 32], ImageError> {
    let mut h = Sha256::new();
    let mut buf = [0u8; 256];
    let mut off = 0u32;
    while off < len {
        let n = (len - off).min(buf.len() as u32) as usize;
        read(f, off, &mut buf[..n])?;
        h.update(&buf[..n]);
        off += n as u32;
    }
    Ok(h.finalize().into())
}

/// Signature algorithms, by the TLV that carries the signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigKind {
    /// RSA-2048 PSS (TLV 0x20).
    Rsa2048,
    /// RSA-3072 PSS (TLV 0x23).
    Rsa3072,
    /// ECDSA (TLV 0x22).
    Ecdsa,
    /// Ed25519 (TLV 0x24).
    Ed25519,
}

impl SigKind {
    /// The kind a signature TLV type stands for.
    pub fn from_tlv(kind: u16) -> Option<SigKind> {
        match kind {
            tlv::RSA2048_PSS => Some(SigKind::Rsa2048),
            tlv::RSA3072_PSS => Some(SigKind::Rsa3072),
            tlv::ECDSA_SIG => Some(SigKind::Ecdsa),
            tlv::ED25519 => Some(SigKind::Ed25519),
            _ => None,
        }
    }

    /// imgtool's key-type name.
    pub fn name(self) -> &'static str {
        match self {
            SigKind::Rsa2048 => "rsa-2048",
            SigKind::Rsa3072 => "rsa-3072",
            SigKind::Ecdsa => "ecdsa-p256",
            SigKind::Ed25519 => "ed25519",
        }
    }
}

/// What [`inspect`] learns of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    /// The header.
    pub header: ImageHeader,
    /// End of the image: header, payload and both TLV blocks.
    pub end: u32,
    /// The SHA-256 TLV value (the hash `image state` shows).
    pub hash: [u8; 32],
    /// The last signature TLV found, if any.
    pub sig: Option<SigKind>,
    /// The protected security counter, if any.
    pub security_counter: Option<u32>,
}

/// Parses the header and the TLV structure of the image in `f` and finds its SHA-256 TLV,
/// without hashing the image (the check `image state` makes before listing a slot).
pub fn inspect<F: ReadNorFlash>(f: &mut F) -> Result<ImageInfo, ImageError> {
    let header = read_header(f)?;
    header.check_fits(f.capacity())?;
    let mut hash = None;
    let mut count = 0;
    let mut sig = None;
    let mut sec = None;
    let end = for_each_tlv(f, &header, |f, t| {
        match (t.kind, t.protected) {
            (tlv::SHA256, false) => {
                count += 1;
                if t.len != 32 {
                    return Err(ImageError::BadTlv);
                }
                let mut v = [0u8; 32];
                read(f, t.off, &mut v)?;
                hash = Some(v);
            }
            (tlv::SEC_CNT, true) if t.len == 4 => {
                let mut v = [0u8; 4];
                read(f, t.off, &mut v)?;
                sec = Some(u32::from_le_bytes(v));
            }
            (k, false) => {
                if let Some(s) = SigKind::from_tlv(k) {
                    sig = Some(s);
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    if count > 1 {
        return Err(ImageError::MultipleHashes);
    }
    Ok(ImageInfo {
        header,
        end,
        hash: hash.ok_or(ImageError::NoHash)?,
        sig,
        security_counter: sec,
    })
}

/// [`inspect`], then checks the SHA-256 TLV against the image bytes (an unsigned build of
/// MCUboot accepts exactly this).
pub fn check_hash<F: ReadNorFlash>(f: &mut F) -> Result<ImageInfo, ImageError> {
    let info = inspect(f)?;
    let len = info.header.hashed_len().ok_or(ImageError::BadHeader)?;
    if hash_region(f, len)? != info.hash {
        return Err(ImageError::HashMismatch);
    }
    Ok(info)
}

/// Validates the image in `f` as MCUboot's `bootutil_img_validate` does: the hash must
/// match, and when `keys` is not empty, the last signature made by one of `keys` (found
/// through the KEYHASH TLV before it) must verify.
#[cfg(feature = "sig")]
pub fn validate<F: ReadNorFlash>(
    f: &mut F,
    keys: &[super::sig::PublicKey<'_>],
) -> Result<ImageInfo, ImageError> {
    let info = check_hash(f)?;
    if keys.is_empty() {
        return Ok(info);
    }
    let mut key: Option<usize> = None;
    let mut verdict: Option<bool> = None;
    for_each_tlv(f, &info.header, |f, t| {
        if t.protected {
            return Ok(());
        }
        if t.kind == tlv::KEYHASH {
            key = None;
            if t.len == 32 {
                let mut v = [0u8; 32];
                read(f, t.off, &mut v)?;
                key = keys.iter().position(|k| k.key_hash() == v);
            }
        } else if let Some(kind) = SigKind::from_tlv(t.kind) {
            if let Some(i) = key.take() {
                let mut buf = [0u8; 512];
                let sig = buf.get_mut(..t.len as usize).ok_or(ImageError::BadTlv)?;
                read(f, t.off, sig)?;
                verdict = Some(keys[i].verify(kind, &info.hash, sig));
            }
        }
        Ok(())
    })?;
    match verdict {
        Some(true) => Ok(info),
        Some(false) => Err(ImageError::BadSignature),
        None => Err(ImageError::NoKey),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcuboot::Bytes;

    const EC: &[u8] = include_bytes!("../../tests/data/ecdsa-p256.bin");
    const SC: &[u8] = include_bytes!("../../tests/data/sc-ecdsa-p256.bin");

    #[test]
    fn header_matches_spec_example() {
        let h = ImageHeader::parse(EC).unwrap();
        assert_eq!(h.hdr_size, 0x200);
        assert_eq!(h.img_size, 0x3e8);
        assert_eq!(h.protect_tlv_size, 0);
        assert_eq!(
            h.version,
            Version {
                major: 1,
                minor: 2,
                revision: 3,
                build: 4
            }
        );
        let mut out = [0u8; 32];
        h.emit(&mut out).unwrap();
        assert_eq!(&out[..], &EC[..32]);
    }

    #[test]
    fn version_format_and_compare() {
        let mut s = heapless::String::<32>::new();
        let v = Version::parse("1.2.3+4").unwrap();
        core::fmt::write(&mut s, format_args!("{v}")).unwrap();
        assert_eq!(s, "1.2.3.4");
        s.clear();
        let w = Version::parse("1.2.3").unwrap();
        core::fmt::write(&mut s, format_args!("{w}")).unwrap();
        assert_eq!(s, "1.2.3");
        assert_eq!(v.compare(&w, false), Ordering::Equal);
        assert_eq!(v.compare(&w, true), Ordering::Greater);
        assert_eq!(Version::parse("2").unwrap().major, 2);
        assert!(Version::parse("1.x").is_none());
        assert!(Version::parse("1.2.3.4.5").is_none());
    }

    #[test]
    fn bad_headers() {
        assert_eq!(ImageHeader::parse(&[0xff; 32]), Err(ImageError::Empty));
        let mut b = [0u8; 32];
        b.copy_from_slice(&EC[..32]);
        b[0] = 0x3c; // legacy magic
        assert_eq!(ImageHeader::parse(&b), Err(ImageError::BadMagic));
        assert_eq!(ImageHeader::parse(&EC[..31]), Err(ImageError::BadHeader));
        let mut b2 = [0u8; 32];
        b2.copy_from_slice(&EC[..32]);
        b2[12..16].copy_from_slice(&u32::MAX.to_le_bytes()); // size overflow
        assert_eq!(ImageHeader::parse(&b2), Err(ImageError::BadHeader));
    }

    #[test]
    fn inspect_and_hash() {
        let info = check_hash(&mut Bytes(EC)).unwrap();
        assert_eq!(info.end as usize, EC.len());
        assert_eq!(info.sig, Some(SigKind::Ecdsa));
        assert_eq!(info.hash, hash_region(&mut Bytes(EC), 0x5e8).unwrap());
        // Protected SEC_CNT: hashed region includes the protected block.
        let info = check_hash(&mut Bytes(SC)).unwrap();
        assert_eq!(info.header.protect_tlv_size, 12);
        assert_eq!(info.security_counter, Some(0x0102_0003));
        assert_eq!(info.end as usize, SC.len());
    }

    #[test]
    fn truncated_and_corrupt_images() {
        // Every truncation fails cleanly.
        for n in 0..EC.len() {
            assert!(check_hash(&mut Bytes(&EC[..n])).is_err(), "len {n}");
        }
        // A flipped payload byte breaks the hash.
        let mut b = [0u8; 2048];
        let img = &mut b[..EC.len()];
        img.copy_from_slice(EC);
        img[0x300] ^= 1;
        assert_eq!(
            check_hash(&mut Bytes(img)).unwrap_err(),
            ImageError::HashMismatch
        );
        // A broken TLV info magic.
        img.copy_from_slice(EC);
        img[0x5e8] = 0x08;
        assert_eq!(inspect(&mut Bytes(img)).unwrap_err(), ImageError::BadTlv);
        // A TLV whose length overruns its block.
        img.copy_from_slice(EC);
        img[0x5ee] = 0xff;
        assert_eq!(inspect(&mut Bytes(img)).unwrap_err(), ImageError::BadTlv);
        // Protected size set but no protected block.
        img.copy_from_slice(EC);
        img[10] = 12;
        assert_eq!(inspect(&mut Bytes(img)).unwrap_err(), ImageError::BadTlv);
    }

    #[test]
    fn every_byte_flip_is_handled() {
        let orig = check_hash(&mut Bytes(EC)).unwrap();
        let hashed = orig.header.hashed_len().unwrap() as usize;
        let mut sha_value = None;
        for_each_tlv(&mut Bytes(EC), &orig.header, |_, t| {
            if t.kind == tlv::SHA256 {
                sha_value = Some(t.off as usize..(t.off + u32::from(t.len)) as usize);
            }
            Ok(())
        })
        .unwrap();
        let sha_value = sha_value.unwrap();
        assert_eq!(sha_value.len(), 32);
        let (mut rejected, mut accepted) = (0, 0);
        let mut b = [0u8; 2048];
        for i in 0..EC.len() {
            let img = &mut b[..EC.len()];
            img.copy_from_slice(EC);
            img[i] ^= 0xa5;
            let got = check_hash(&mut Bytes(img));
            if i < HEADER_LEN {
                // A header field: rejected, as a broken header or a hash mismatch.
                assert!(got.is_err(), "header byte {i:#x}: {got:?}");
            } else if i < hashed || sha_value.contains(&i) {
                // Padding, payload, or the stored digest itself: exactly a hash mismatch.
                assert_eq!(got.unwrap_err(), ImageError::HashMismatch, "byte {i:#x}");
            } else {
                // The rest of the TLV area is not hashed: a broken TLV structure is
                // refused, anything else (the signature's bytes) still hashes as before.
                match got {
                    Ok(info) => {
                        assert_eq!((info.hash, info.header), (orig.hash, orig.header), "{i:#x}");
                        accepted += 1;
                    }
                    Err(e) => {
                        assert_ne!(e, ImageError::HashMismatch, "byte {i:#x}");
                        rejected += 1;
                    }
                }
            }
        }
        // Both outcomes occur outside the hashed region: the TLV heads are checked, the
        // signature's value is not (without keys).
        assert!(rejected > 0 && accepted > 0, "{rejected} {accepted}");
    }
}
