//! Swap using offset (`MCUBOOT_SWAP_USING_OFFSET`, Zephyr's default mode): the sizes and
//! offsets that differ from [`move_`](super::move_), as mcu-tools/mcuboot
//! `boot/bootutil/src/swap_offset.c` and `bootutil_misc.h` @2d4bacc3 define them, and
//! where the application must put an upload (zephyrproject-rtos/zephyr
//! `subsys/dfu/boot/mcuboot.c` @030cbd8f6f14, `boot_get_image_start_offset`).
//!
//! The sector-by-sector swap of this mode (the new image moves down by one sector while
//! the old one moves into the secondary at offset 0, and a revert runs the mirror image
//! of it) is not modelled yet.
//!
//! What changes against move:
//! - the secondary slot is the larger one (`np + 1 == ns` is optimal, `boot_slots_compatible`)
//!   and the image uploaded into it starts one sector in, except while a revert is
//!   pending (then the old image sits at offset 0 of the secondary);
//! - the trailer has one more `BOOT_MAX_ALIGN` field, the two images' unprotected TLV
//!   sizes, between swap_info and swap_size, so swap_size sits `A` lower;
//! - the status area has 2 entries per sector (no move phase).

use embedded_storage::nor_flash::NorFlash;

use super::{size_of, Geometry, Mode, SwapError};
use crate::mcuboot::align_up;
use crate::platform::SwapType;

const MODE: Mode = Mode::Offset;

/// `app_max_size` (`swap_offset.c`): the trailer, rounded up to whole sectors, comes off
/// both slots, and the sector of headroom off the secondary.
pub fn max_image_size(g: &Geometry, np: u32, ns: u32, write_sz: u32) -> u32 {
    let sector = g.sector_size;
    let trailer = align_up(g.trailer_sz(MODE, write_sz), sector);
    let pri = np.saturating_mul(sector).saturating_sub(trailer);
    let sec = ns
        .saturating_mul(sector)
        .saturating_sub(trailer)
        .saturating_sub(sector);
    pri.min(sec)
}

/// Sector counts of two slots as `boot_slots_compatible` (`swap_offset.c`) accepts
/// them with uniform sectors: the secondary has as many sectors as the primary or one
/// more, and the primary at most `BOOT_MAX_IMG_SECTORS`.
pub fn sector_counts<F: NorFlash>(p: &F, s: &F, g: &Geometry) -> Result<(u32, u32), SwapError> {
    let sz = g.sector_size;
    let e = F::ERASE_SIZE.max(1) as u32;
    let (ps, ss) = (size_of(p)?, size_of(s)?);
    if sz == 0 || !sz.is_multiple_of(e) || !ps.is_multiple_of(sz) || !ss.is_multiple_of(sz) {
        return Err(SwapError::Geometry);
    }
    let (np, ns) = (ps / sz, ss / sz);
    if (ns != np && ns != np + 1) || np > g.max_img_sectors || np == 0 {
        return Err(SwapError::Geometry);
    }
    Ok((np, ns))
}

/// [`max_image_size`] for two slots.
pub fn max_image_size_of<F: NorFlash>(p: &F, s: &F, g: &Geometry) -> Result<u32, SwapError> {
    let (np, ns) = sector_counts(p, s, g)?;
    Ok(max_image_size(g, np, ns, F::WRITE_SIZE as u32))
}

/// `boot_get_image_start_offset` (Zephyr): where the image in the secondary slot starts,
/// given the swap type MCUboot reads from the trailers (`boot_swap_type_multi` with the
/// swap-offset row, [`trailer::swap_type`](crate::mcuboot::trailer::swap_type) with
/// `offset_mode`): one sector in, or 0 while a revert is pending.
pub fn image_start_offset(g: &Geometry, swap_type: SwapType) -> u32 {
    if swap_type == SwapType::Revert {
        0
    } else {
        g.sector_size
    }
}

/// `find_last_idx` (`swap_offset.c`): the 0-based index of the last sector holding
/// `swap_size` bytes (the move version counts sectors from 1).
pub fn find_last_idx(g: &Geometry, swap_size: u32) -> u32 {
    swap_size.div_ceil(g.sector_size).max(1) - 1
}

/// `boot_unprotected_tlv_sizes_off` (`bootutil_misc.h`): `swap_info - A`, in a slot of
/// `size` bytes; the field is `(secondary << 16) | primary`, u32 LE
/// (`boot_write_unprotected_tlv_sizes`, `bootutil_misc.c`).
pub fn unprotected_tlv_sizes_off(g: &Geometry, size: u32) -> Option<u32> {
    g.layout.swap_info_off(size)?.checked_sub(g.a())
}

/// `boot_swap_size_off` in this mode (`bootutil_misc.h`): below the TLV sizes.
pub fn swap_size_off(g: &Geometry, size: u32) -> Option<u32> {
    unprotected_tlv_sizes_off(g, size)?.checked_sub(g.a())
}

#[cfg(test)]
mod tests {
    use super::super::cut::{Power, Ram, Slot, E, N};
    use super::*;
    use crate::mcuboot::trailer::Layout;

    fn geom() -> Geometry {
        Geometry {
            max_img_sectors: 16,
            ..Geometry::new(Layout::default(), E as u32)
        }
    }

    #[test]
    fn sizes_follow_mcuboot() {
        let g = geom();
        // boot_trailer_sz (bootutil_area.c:91 @2d4bacc3) for offset: 16 sectors * 2
        // states (BOOT_STATUS_STATE_COUNT, bootutil_area.h:44) * W, plus 5 * A (the
        // unprotected TLV sizes are one more field, bootutil_area.c:59) + 16.
        assert_eq!(g.trailer_sz(Mode::Offset, 8), 16 * 2 * 8 + 5 * 8 + 16);
        assert_eq!(g.status_off(Mode::Offset, 4096, 8), Some(4096 - 312));
        // app_max_size (swap_offset.c:710): primary 7 sectors, secondary 8 (optimal).
        assert_eq!(max_image_size(&g, 7, 8, 8), 7 * 512 - 512);
        assert_eq!(max_image_size(&g, 8, 8, 8), 8 * 512 - 512 - 512);
        // Zephyr defaults (128 sectors, W = 4, 4 KiB sectors): 1024 + 56 bytes of
        // trailer, one sector; 0x76000-byte slots lose it and (secondary) one more.
        let z = Geometry::new(Layout::default(), 4096);
        assert_eq!(z.trailer_sz(Mode::Offset, 4), 1080);
        assert_eq!(max_image_size(&z, 118, 118, 4), 116 * 4096);
        assert_eq!(max_image_size(&z, 118, 119, 4), 117 * 4096);
        // Trailer fields: swap_info at S-40, TLV sizes at S-48, swap_size at S-56.
        assert_eq!(unprotected_tlv_sizes_off(&g, 4096), Some(4096 - 48));
        assert_eq!(swap_size_off(&g, 4096), Some(4096 - 56));
        let g32 = Geometry {
            layout: Layout {
                max_align: 32,
                erased: 0xff,
            },
            ..g
        };
        // A = 32: the magic block is ALIGN_UP(16, 32) = 32 bytes, so swap_size is at
        // S - 6 * 32, where the trailer info (5 * A + 32) begins: the status area ends there.
        assert_eq!(swap_size_off(&g32, 4096), Some(4096 - 192));
        assert_eq!(g32.trailer_info_sz(Mode::Offset), 192);
        assert_eq!(
            swap_size_off(&g, 4096),
            Some(4096 - g.trailer_info_sz(Mode::Offset))
        );
        assert_eq!(find_last_idx(&g, 2472), 4);
        assert_eq!(find_last_idx(&g, 512), 0);
        assert_eq!(find_last_idx(&g, 513), 1);
    }

    #[test]
    fn upload_offset_and_slot_shapes() {
        let g = geom();
        assert_eq!(image_start_offset(&g, SwapType::None), 512);
        assert_eq!(image_start_offset(&g, SwapType::Test), 512);
        assert_eq!(image_start_offset(&g, SwapType::Revert), 0);
        let (mut p, mut s) = (Ram::new(), Ram::new());
        let pw = Power::default();
        let slot = |f, cap| Slot { f, cap, power: &pw };
        let (ps, ss) = (slot(&mut p, N - E), slot(&mut s, N));
        assert_eq!(sector_counts(&ps, &ss, &g), Ok((7, 8)));
        assert_eq!(max_image_size_of(&ps, &ss, &g), Ok(3072));
        // The secondary may not be the smaller one in this mode (it may in move).
        assert_eq!(sector_counts(&ss, &ps, &g), Err(SwapError::Geometry));
        assert_eq!(
            super::super::move_::max_image_size_of(&ss, &ps, &g),
            Ok(3072)
        );
    }
}
