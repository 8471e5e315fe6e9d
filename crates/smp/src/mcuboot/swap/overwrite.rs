//! Overwrite-only (`MCUBOOT_OVERWRITE_ONLY`, Zephyr's
//! `CONFIG_MCUBOOT_BOOTLOADER_MODE_OVERWRITE_ONLY`, MCUboot's `CONFIG_BOOT_UPGRADE_ONLY`,
//! which also defines `MCUBOOT_OVERWRITE_ONLY_FAST`: mcu-tools/mcuboot
//! `boot/zephyr/include/mcuboot_config/mcuboot_config.h` @2d4bacc3), as `loader.c`
//! `boot_copy_image` @2d4bacc3 does it for one image.
//!
//! A test, permanent (or revert) request copies the secondary image over the primary:
//!
//! 1. the primary's sectors are erased from sector 0 up to the one the secondary image
//!    (`boot_read_image_size`) ends in (the FAST variant);
//! 2. the primary's trailer sectors are erased (`boot_trailer_sz`, 3 status states);
//! 3. the image is copied, its length rounded up to the write size plus one more write
//!    unit when already aligned (`size += BOOT_WRITE_SZ - size % BOOT_WRITE_SZ`);
//! 4. the primary gets the magic, nothing else;
//! 5. the secondary's first sector (its header) and its last sector (its trailer) are
//!    erased.
//!
//! No status is kept and nothing can be reverted: the primary's trailer reads magic good,
//! image_ok and copy_done unset, which the decision table reads as "none", so a test
//! request acts as a permanent one and the new image counts as confirmed. A power cut
//! before step 4 leaves the secondary intact with its trailer, so the next boot decides
//! the same upgrade and copies again; from step 5 on the secondary's header is gone
//! (or its hash broken), the next boot finds nothing bootable there and boots the new
//! primary. In this mode `boot_validate_slot` neither scrambles a trailer left behind
//! an erased header nor sets image_ok after a refusal (`#ifndef MCUBOOT_OVERWRITE_ONLY`
//! guards both in `loader.c`).
//!
//! One edge of step 3 as the code stands upstream: an image whose length is a multiple
//! of the sector size is copied one write unit into the next sector, which step 1 did
//! not erase; over this crate's flash traits the write is refused and [`boot`] returns
//! [`SwapError::Flash`].

use embedded_storage::nor_flash::NorFlash;

use super::{
    boot_err, copy_region, erase_region, flash, image_size, size_of, Geometry, Mode, Outcome,
    SwapError,
};
use crate::mcuboot::trailer;
use crate::platform::SwapType;

const MODE: Mode = Mode::Overwrite;

/// `bootutil_max_image_size` (`bootutil_misc.c`) in overwrite-only mode: the image
/// (header, payload, TLVs) must end at swap_info's offset (`boot_swap_info_off`, `S - 40`
/// with `BOOT_MAX_ALIGN` 8) of the slot it is validated in; image validation
/// (`bootutil_img_validate`, `image_validate.c`) refuses a longer one.
pub fn max_image_size(g: &Geometry, slot_size: u32) -> u32 {
    g.layout.swap_info_off(slot_size).unwrap_or(0)
}

/// Sector counts of two slots of uniform sectors, each at most `BOOT_MAX_IMG_SECTORS`
/// (`boot_slots_compatible` without the scratch checks, `swap_scratch.c`).
pub fn sector_counts<F: NorFlash>(p: &F, s: &F, g: &Geometry) -> Result<(u32, u32), SwapError> {
    let sz = g.sector_size;
    let e = F::ERASE_SIZE.max(1) as u32;
    let (ps, ss) = (size_of(p)?, size_of(s)?);
    if sz == 0 || !sz.is_multiple_of(e) || !ps.is_multiple_of(sz) || !ss.is_multiple_of(sz) {
        return Err(SwapError::Geometry);
    }
    let (np, ns) = (ps / sz, ss / sz);
    if np == 0 || ns == 0 || np > g.max_img_sectors || ns > g.max_img_sectors {
        return Err(SwapError::Geometry);
    }
    Ok((np, ns))
}

/// One MCUboot boot of one image in overwrite-only mode: decides from the trailers
/// ([`trailer::swap_type`]) and, for test, permanent or revert, copies the secondary over
/// the primary ([`Outcome::Swapped`] with the type decided). The secondary is first
/// checked as `boot_validate_slot` does: an erased header is [`Outcome::NoHeader`]
/// (nothing written), `validate` saying no erases the slot ([`Outcome::Invalid`]), an
/// image larger than [`max_image_size`] too ([`Outcome::TooLarge`]). Call it again after
/// a failure: an interrupted copy is done again from the start.
pub fn boot<F, V>(p: &mut F, s: &mut F, g: &Geometry, mut validate: V) -> Result<Outcome, SwapError>
where
    F: NorFlash,
    V: FnMut(&mut F) -> bool,
{
    let (np, ns) = sector_counts(p, s, g)?;
    let l = g.layout;
    let ps = boot_err(trailer::read(p, &l))?;
    let ss = boot_err(trailer::read(s, &l))?;
    let ty = trailer::swap_type(&ps, &ss, false);
    if !matches!(ty, SwapType::Test | SwapType::Perm | SwapType::Revert) {
        return Ok(Outcome::None);
    }
    let mut magic = [0u8; 4];
    flash(s.read(0, &mut magic))?;
    if magic.iter().all(|&b| b == l.erased) {
        return Ok(Outcome::NoHeader);
    }
    let ssize = size_of(s)?;
    if !validate(s) {
        erase_region(s, 0, ssize)?;
        return Ok(Outcome::Invalid);
    }
    if image_size(s, 0)? > max_image_size(g, ssize) {
        erase_region(s, 0, ssize)?;
        return Ok(Outcome::TooLarge);
    }
    copy_image(p, s, g, np, ns)?;
    Ok(Outcome::Swapped(ty))
}

/// `boot_copy_image` (`loader.c`) with `MCUBOOT_OVERWRITE_ONLY_FAST`.
fn copy_image<F: NorFlash>(
    p: &mut F,
    s: &mut F,
    g: &Geometry,
    np: u32,
    ns: u32,
) -> Result<(), SwapError> {
    let l = g.layout;
    let w = F::WRITE_SIZE.max(1) as u32;
    let sector = g.sector_size;
    let src_size = image_size(s, 0)?;
    let mut size = 0u32;
    for sect in 0..np {
        erase_region(p, sect * sector, sector)?;
        if size + sector >= src_size {
            size = src_size + (w - src_size % w);
            break;
        }
        size += sector;
    }
    let trailer_sectors = g.trailer_sz(MODE, w).div_ceil(sector).max(1).min(np);
    erase_region(p, (np - trailer_sectors) * sector, trailer_sectors * sector)?;
    copy_region(s, Some(&mut *p), 0, 0, size)?;
    boot_err(trailer::write_magic(p, &l))?;
    // Header, then trailer of the secondary (no MCUBOOT_OVERWRITE_ONLY_KEEP_BACKUP).
    erase_region(s, 0, sector)?;
    erase_region(s, (ns - 1) * sector, sector)?;
    Ok(())
}
