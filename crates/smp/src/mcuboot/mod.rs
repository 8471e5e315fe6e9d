//! MCUboot's on-flash formats and decisions: image header and TLVs, the image hash,
//! signature checks, the image trailer, and the swap-type table (docs/mcuboot.md).
//!
//! Everything here works over `embedded-storage`'s [`ReadNorFlash`] / [`NorFlash`](embedded_storage::nor_flash::NorFlash), one
//! flash area (slot) per value, offsets relative to the slot's start. [`Bytes`] adapts a
//! byte slice (a file read into memory, a test vector) to the same interface. Nothing
//! allocates and no input makes anything panic.
//!
//! - [`image`]: header, version, TLV walk, hash, [`image::validate`];
//! - [`sig`] (feature `sig`, on by default): public keys, RSA-PSS, ECDSA P-256, Ed25519;
//! - [`trailer`]: trailer layout, read, write, the swap-type table, `boot_set_next`, and
//!   [`trailer::TrailerBoot`], a [`BootControl`](crate::platform::BootControl) over trailers;
//! - [`swap`]: the bootloader's side, MCUboot's swap algorithms sector by sector with their
//!   status area, resumable after a power cut at any flash operation.

use embedded_storage::nor_flash::{ErrorType, NorFlashError, NorFlashErrorKind, ReadNorFlash};

pub mod image;
#[cfg(feature = "sig")]
pub mod sig;
pub mod swap;
pub mod trailer;

pub use image::{ImageError, ImageHeader, ImageInfo, Version};

/// A byte slice seen as a read-only flash area (read size 1).
#[derive(Debug, Clone, Copy)]
pub struct Bytes<'a>(pub &'a [u8]);

/// Reading past the end of a [`Bytes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfBounds;

impl NorFlashError for OutOfBounds {
    fn kind(&self) -> NorFlashErrorKind {
        NorFlashErrorKind::OutOfBounds
    }
}

impl ErrorType for Bytes<'_> {
    type Error = OutOfBounds;
}

impl ReadNorFlash for Bytes<'_> {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), OutOfBounds> {
        let start = offset as usize;
        let end = start.checked_add(bytes.len()).ok_or(OutOfBounds)?;
        let src = self.0.get(start..end).ok_or(OutOfBounds)?;
        bytes.copy_from_slice(src);
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.0.len()
    }
}

/// Rounds `v` up to a multiple of `a` (`a` > 0), saturating.
pub(crate) fn align_up(v: u32, a: u32) -> u32 {
    match v % a {
        0 => v,
        r => v.saturating_add(a - r),
    }
}

/// Rounds `v` down to a multiple of `a` (`a` > 0).
pub(crate) fn align_down(v: u32, a: u32) -> u32 {
    v - v % a
}
