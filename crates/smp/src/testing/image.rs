//! [`build_image`]: unsigned MCUboot images for tests.

/// Builds an unsigned MCUboot image into `out`: a 32-byte header (hdr_size 32), `payload_len`
/// pseudo-random payload bytes seeded by `seed`, and an unprotected TLV block holding the
/// SHA-256 TLV. Returns the image length.
pub fn build_image(
    out: &mut [u8],
    version: crate::mcuboot::Version,
    payload_len: u32,
    seed: u8,
) -> usize {
    use sha2::{Digest, Sha256};
    let h = crate::mcuboot::ImageHeader {
        load_addr: 0,
        hdr_size: 32,
        protect_tlv_size: 0,
        img_size: payload_len,
        flags: 0,
        version,
    };
    h.emit(out).unwrap();
    let end = 32 + payload_len as usize;
    let mut x = seed as u32 | 1;
    for b in &mut out[32..end] {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    let hash: [u8; 32] = Sha256::digest(&out[..end]).into();
    out[end..end + 4].copy_from_slice(&[0x07, 0x69, 40, 0]);
    out[end + 4..end + 8].copy_from_slice(&[0x10, 0, 32, 0]);
    out[end + 8..end + 40].copy_from_slice(&hash);
    end + 40
}
