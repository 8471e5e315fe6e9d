//! Swap using scratch (`MCUBOOT_SWAP_USING_SCRATCH`, Zephyr's
//! `CONFIG_MCUBOOT_BOOTLOADER_MODE_SWAP_SCRATCH`), as mcu-tools/mcuboot
//! `boot/bootutil/src/swap_scratch.c` @2d4bacc3 does it, driven as `loader.c`
//! (`boot_prepare_image_for_update`, `boot_swap_image`, `boot_perform_update`,
//! `boot_complete_partial_swap`) drives it for one image, over a third flash area, the
//! scratch partition.
//!
//! With uniform sectors of `B` bytes and a scratch area of `C` bytes, a step swaps
//! `k = C / B` sectors (`boot_copy_sz`), from the top of the image down
//! (`swap_run`): step 1 covers the last `k` sectors that hold `swap_size` bytes
//! (`find_last_sector_idx`), the last step sector 0. Each step (`boot_swap_sectors`) has
//! three states, each ending with one status entry (`01`, `02`, `03`):
//!
//! 1. the scratch is erased, the secondary's sectors copied into it;
//! 2. the secondary's sectors erased, the primary's copied there;
//! 3. the primary's sectors erased, the scratch copied there.
//!
//! Before its first copy, step 1 writes a trailer into the scratch area
//! (`swap_status_init`: swap_info, image_ok when the secondary's is set, swap_size,
//! magic). When step 1 does not reach the primary's trailer sector, the primary's trailer
//! is then scrambled and initialised the same way, the scratch erased again, and every
//! status entry goes to the primary's status area (`S - boot_trailer_sz`, 3 entries per
//! step). When it does (the image ends in the trailer's first sector: `use_scratch`), only
//! the image part of that sector is copied (`S - img_off - boot_trailer_sz`), step 1's
//! first two entries go to the scratch's own status area (`C - boot_scratch_trailer_sz`,
//! 3 entries), and state 3 copies them, then image_ok, swap_info, swap_size and the magic,
//! into the primary before its third entry; the scratch is then erased last erase unit
//! first. Which area holds the status is decided at boot by `boot_status_tables`
//! ([`status_source`]).
//!
//! The secondary's trailer is scrambled in step 1's state 2, so after any swap the old
//! image in the secondary has no trailer; a revert is the same algorithm (no fixup as in
//! move). After the swap, as in every swap mode, image_ok for permanent and revert, then
//! copy_done.
//!
//! Unlike move and offset, `boot_read_image_header` here only reads, it never refuses an
//! erased header, so a resumed swap always runs; and `swap_run` has no size check of its
//! own: an image larger than [`max_image_size`] is refused by image validation
//! (`bootutil_img_validate`, `image_validate.c`, against `bootutil_max_image_size`).

use embedded_storage::nor_flash::NorFlash;

use super::{
    boot_err, copy_region, erase_region, finish, flash, image_size, reject, scramble_trailer,
    set_image_ok, size_of, status_init, write_entry, Geometry, Mode, Outcome, Status, SwapError,
};
use crate::mcuboot::trailer::{self, Flag, Magic};
use crate::platform::SwapType;

const MODE: Mode = Mode::Scratch;

/// `boot_scratch_trailer_sz` (`bootutil_area.c`): one step's status entries
/// (`BOOT_STATUS_STATE_COUNT` = 3 of `write_sz` bytes) and the trailer info.
pub fn scratch_trailer_sz(g: &Geometry, write_sz: u32) -> u32 {
    MODE.state_count() * write_sz + g.trailer_info_sz(MODE)
}

/// `boot_status_off` (`bootutil_misc.c`) for the scratch area of `scratch_size` bytes.
pub fn scratch_status_off(g: &Geometry, scratch_size: u32, write_sz: u32) -> Option<u32> {
    scratch_size.checked_sub(scratch_trailer_sz(g, write_sz))
}

/// `boot_get_first_trailer_sector` (`swap_scratch.c`) with uniform sectors: the lowest of
/// the `n` sectors that holds trailer bytes.
fn first_trailer_sector(g: &Geometry, n: u32, trailer_sz: u32) -> u32 {
    n.saturating_sub(trailer_sz.div_ceil(g.sector_size).max(1))
}

/// `app_max_size` (`swap_scratch.c`) with `app_max_size_adjust_to_trailer`: two slots of
/// `n` sectors and a scratch area of `scratch_size` bytes. The image ends before the
/// trailer (`S - boot_trailer_sz`), lower still by the padding that keeps room for the
/// scratch's own trailer when the last step copies the trailer's first sector through the
/// scratch area (`boot_scratch_trailer_sz` minus the trailer bytes in that sector, if
/// positive). 0 when a sector does not fit the scratch area ("not all sectors fit inside
/// scratch").
pub fn max_image_size(g: &Geometry, n: u32, scratch_size: u32, write_sz: u32) -> u32 {
    let sector = g.sector_size;
    if sector == 0 || sector > scratch_size {
        return 0;
    }
    let slot = n.saturating_mul(sector);
    let trailer = g.trailer_sz(MODE, write_sz);
    let Some(off) = slot.checked_sub(trailer) else {
        return 0;
    };
    let end = (first_trailer_sector(g, n, trailer) + 1) * sector;
    let in_first = end.saturating_sub(off);
    let pad = scratch_trailer_sz(g, write_sz).saturating_sub(in_first);
    off.saturating_sub(pad)
}

/// The sector count of the two slots as `boot_slots_compatible` (`swap_scratch.c`)
/// accepts them with uniform sectors: the same number in both (the slots' sizes must be
/// equal), at most `BOOT_MAX_IMG_SECTORS`, each sector fitting the scratch area, and a
/// scratch area of whole erase units that holds its trailer.
pub fn sector_count<F: NorFlash>(p: &F, s: &F, sc: &F, g: &Geometry) -> Result<u32, SwapError> {
    let sz = g.sector_size;
    let e = F::ERASE_SIZE.max(1) as u32;
    let (ps, ss, cs) = (size_of(p)?, size_of(s)?, size_of(sc)?);
    if sz == 0 || !sz.is_multiple_of(e) || !ps.is_multiple_of(sz) || !cs.is_multiple_of(e) {
        return Err(SwapError::Geometry);
    }
    let n = ps / sz;
    if ps != ss || n == 0 || n > g.max_img_sectors || sz > cs {
        return Err(SwapError::Geometry);
    }
    scratch_status_off(g, cs, F::WRITE_SIZE as u32).ok_or(SwapError::Geometry)?;
    Ok(n)
}

/// [`max_image_size`] for two slots and a scratch area.
pub fn max_image_size_of<F: NorFlash>(
    p: &F,
    s: &F,
    sc: &F,
    g: &Geometry,
) -> Result<u32, SwapError> {
    let n = sector_count(p, s, sc, g)?;
    Ok(max_image_size(g, n, size_of(sc)?, F::WRITE_SIZE as u32))
}

/// `BOOT_STATUS_SOURCE_*` (`bootutil_area.h`): where the status of a swap is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `BOOT_STATUS_SOURCE_NONE`: no swap in progress.
    None,
    /// `BOOT_STATUS_SOURCE_SCRATCH`.
    Scratch,
    /// `BOOT_STATUS_SOURCE_PRIMARY_SLOT`.
    Primary,
}

/// `swap_status_source` (`swap_scratch.c`) with `boot_status_tables`, first match wins:
///
/// | primary magic | scratch magic | primary copy_done | source |
/// |---|---|---|---|
/// | good | not good | set | none |
/// | good | not good | unset | primary |
/// | any | good | any | scratch |
/// | unset | any | unset | primary |
///
/// anything else: none. A scratch status of another image (its swap_info's image number)
/// is none, as with `BOOT_IMAGE_NUMBER > 1`.
pub fn status_source<F: NorFlash>(
    p: &mut F,
    sc: &mut F,
    g: &Geometry,
) -> Result<Source, SwapError> {
    let l = &g.layout;
    let ps = boot_err(trailer::read(p, l))?;
    let cs = boot_err(trailer::read(sc, l))?;
    let good = |m| m == Magic::Good;
    let src = if good(ps.magic) && !good(cs.magic) && ps.copy_done == Flag::Set {
        Source::None
    } else if good(ps.magic) && !good(cs.magic) && ps.copy_done == Flag::Unset {
        Source::Primary
    } else if good(cs.magic) {
        if cs.image == g.image {
            Source::Scratch
        } else {
            Source::None
        }
    } else if ps.magic == Magic::Unset && ps.copy_done == Flag::Unset {
        Source::Primary
    } else {
        Source::None
    };
    Ok(src)
}

/// `swap_read_status_bytes` (`swap_scratch.c`) over the `max` entries at `base` of `f`:
/// the entries are scanned upwards, the first erased one after the written ones gives the
/// state to resume at, `idx = n / 3 + 1`, `state = n % 3 + 1`. A written entry after an
/// erased one is "inconsistent status": MCUboot logs it and goes on with the first gap
/// (and validates the primary before booting it). `None` when no entry is written.
fn read_status_bytes<F: NorFlash>(
    f: &mut F,
    g: &Geometry,
    base: u32,
    max: u32,
) -> Result<Option<(u32, u8)>, SwapError> {
    let w = F::WRITE_SIZE.max(1) as u32;
    let (mut found, mut found_idx) = (false, None);
    let mut i = 0;
    while i < max {
        let mut b = [0u8; 1];
        flash(f.read(base + i * w, &mut b))?;
        if b[0] == g.layout.erased {
            if found && found_idx.is_none() {
                found_idx = Some(i);
            }
        } else if !found {
            found = true;
        } else if found_idx.is_some() {
            break;
        }
        i += 1;
    }
    Ok(found.then(|| {
        let n = found_idx.unwrap_or(i);
        (n / 3 + 1, (n % 3 + 1) as u8)
    }))
}

/// `swap_read_status` (`swap_misc.c`) in this mode: the status from [`status_source`]'s
/// area, and the swap type from that area's swap_info.
pub fn read_status<F: NorFlash>(p: &mut F, sc: &mut F, g: &Geometry) -> Result<Status, SwapError> {
    let mut bs = Status::reset(MODE);
    let w = F::WRITE_SIZE as u32;
    let (f, base, max) = match status_source(p, sc, g)? {
        Source::None => return Ok(bs),
        Source::Primary => {
            bs.from_primary = true;
            let base = g.status_off(MODE, size_of(p)?, w);
            (&mut *p, base, MODE.state_count() * g.max_img_sectors)
        }
        Source::Scratch => {
            let base = scratch_status_off(g, size_of(sc)?, w);
            (&mut *sc, base, MODE.state_count())
        }
    };
    let base = base.ok_or(SwapError::Geometry)?;
    if let Some((idx, state)) = read_status_bytes(f, g, base, max)? {
        bs.idx = idx;
        bs.state = state;
    }
    bs.swap_type = boot_err(trailer::read(f, &g.layout))?.swap_type;
    Ok(bs)
}

/// `find_last_sector_idx` (`swap_scratch.c`) with uniform, equal slots: the index of the
/// last sector holding `copy_size` bytes, `None` for 0 bytes.
pub fn find_last_sector_idx(g: &Geometry, copy_size: u32) -> Option<u32> {
    copy_size.div_ceil(g.sector_size).checked_sub(1)
}

/// `find_swap_count` (`swap_scratch.c`): the number of steps for `copy_size` bytes with a
/// scratch area of `scratch_size` bytes.
pub fn find_swap_count(g: &Geometry, copy_size: u32, scratch_size: u32) -> u32 {
    let k = (scratch_size / g.sector_size.max(1)).max(1);
    find_last_sector_idx(g, copy_size).map_or(0, |last| (last + 1).div_ceil(k))
}

/// One MCUboot boot of one image in swap-using-scratch mode, as
/// [`move_::boot`](super::move_::boot) is for move, with the scratch area `sc`: finishes
/// an interrupted swap (whose status [`read_status`] finds in the primary or the scratch
/// area) or runs the one the trailers ask for, then image_ok and copy_done. Call it again
/// after any failure: it resumes from the status.
///
/// Before a new swap the secondary is checked as `boot_validate_slot` does in this mode:
/// an erased header scrambles only the secondary's trailer ([`Outcome::Invalid`]);
/// `validate` saying no erases the slot ([`Outcome::Invalid`]); an image (header, payload,
/// TLVs) larger than [`max_image_size`] erases it too ([`Outcome::TooLarge`]). When the
/// swap type came from a status rather than the trailers' table, a refusal also sets the
/// primary's image_ok (`BOOT_SWAP_TYPE_FAIL`).
pub fn boot<F, V>(
    p: &mut F,
    s: &mut F,
    sc: &mut F,
    g: &Geometry,
    mut validate: V,
) -> Result<Outcome, SwapError>
where
    F: NorFlash,
    V: FnMut(&mut F) -> bool,
{
    let n = sector_count(p, s, sc, g)?;
    let l = g.layout;
    let mut bs = read_status(p, sc, g)?;
    if !bs.is_reset(MODE) {
        // `boot_swap_image`, resumed: swap_size from `boot_find_status` (the scratch when
        // its magic is good, else the primary).
        let cs = boot_err(trailer::read(sc, &l))?;
        let found = if cs.magic == Magic::Good {
            trailer::read_swap_size(sc, &l)
        } else {
            trailer::read_swap_size(p, &l)
        };
        let swap_size = boot_err(found)?.ok_or(SwapError::Geometry)?;
        let ty = bs.swap_type;
        swap_run(p, s, sc, g, &mut bs, swap_size, n)?;
        finish(p, g, ty)?;
        return Ok(Outcome::Resumed(ty));
    }
    let from_table = bs.swap_type == SwapType::None;
    let ty = if from_table {
        let ps = boot_err(trailer::read(p, &l))?;
        let ss = boot_err(trailer::read(s, &l))?;
        trailer::swap_type(&ps, &ss, false)
    } else {
        bs.swap_type
    };
    if !matches!(ty, SwapType::Test | SwapType::Perm | SwapType::Revert) {
        return Ok(Outcome::None);
    }
    let mut magic = [0u8; 4];
    flash(s.read(0, &mut magic))?;
    if magic.iter().all(|&b| b == l.erased) {
        // `boot_validate_slot`: an erased header with a trailer left behind (an erase cut
        // short): the trailer is scrambled, nothing else.
        scramble_trailer(s, g, MODE)?;
        if !from_table {
            set_image_ok(p, &l)?;
        }
        return Ok(Outcome::Invalid);
    }
    if !validate(s) {
        return reject(p, s, &l, from_table);
    }
    let max = max_image_size(g, n, size_of(sc)?, F::WRITE_SIZE as u32);
    if image_size(s, 0)? > max {
        reject(p, s, &l, from_table)?;
        return Ok(Outcome::TooLarge);
    }
    bs.swap_type = ty;
    let swap_size = image_size(p, 0)?.max(image_size(s, 0)?);
    swap_run(p, s, sc, g, &mut bs, swap_size, n)?;
    finish(p, g, ty)?;
    Ok(Outcome::Swapped(ty))
}

/// `swap_run` (`swap_scratch.c`): the steps from the top down, skipping those the status
/// says are done.
fn swap_run<F: NorFlash>(
    p: &mut F,
    s: &mut F,
    sc: &mut F,
    g: &Geometry,
    bs: &mut Status,
    swap_size: u32,
    n: u32,
) -> Result<(), SwapError> {
    let Some(mut last) = find_last_sector_idx(g, swap_size) else {
        return Ok(());
    };
    if last >= n {
        return Err(SwapError::Geometry);
    }
    let k = (size_of(sc)? / g.sector_size).max(1);
    let mut swap_idx = 0;
    loop {
        let first = (last + 1).saturating_sub(k);
        let sz = (last + 1 - first) * g.sector_size;
        if swap_idx >= bs.idx - 1 {
            swap_sectors(p, s, sc, g, bs, first, sz, swap_size, n)?;
        }
        if first == 0 {
            return Ok(());
        }
        last = first - 1;
        swap_idx += 1;
    }
}

/// `boot_write_status` (`loader.c`) in this mode: into the scratch area's status when
/// `use_scratch`, else into the primary's.
fn write_status<F: NorFlash>(
    p: &mut F,
    sc: &mut F,
    g: &Geometry,
    bs: &Status,
    use_scratch: bool,
) -> Result<(), SwapError> {
    let w = F::WRITE_SIZE as u32;
    let (f, base) = if use_scratch {
        let base = scratch_status_off(g, size_of(sc)?, w);
        (sc, base)
    } else {
        let base = g.status_off(MODE, size_of(p)?, w);
        (p, base)
    };
    let idx = super::entry_index(g, MODE, bs.op, bs.idx, bs.state);
    let off = base.ok_or(SwapError::Geometry)? + idx * w;
    write_entry(f, g.layout.erased, off, bs.state)
}

/// `boot_scramble_region(.., backwards = true)` (`bootutil_area.c`) over a whole area:
/// its erase units, last first.
fn erase_backwards<F: NorFlash>(f: &mut F) -> Result<(), SwapError> {
    let e = F::ERASE_SIZE.max(1) as u32;
    let mut o = size_of(f)?;
    while o >= e {
        o -= e;
        flash(f.erase(o, o + e))?;
    }
    Ok(())
}

/// `boot_swap_sectors` (`swap_scratch.c`): the step covering `sz` bytes from sector
/// `first`, from `bs.state` on.
#[allow(clippy::too_many_arguments)]
fn swap_sectors<F: NorFlash>(
    p: &mut F,
    s: &mut F,
    sc: &mut F,
    g: &Geometry,
    bs: &mut Status,
    first: u32,
    sz: u32,
    swap_size: u32,
    n: u32,
) -> Result<(), SwapError> {
    let l = g.layout;
    let w = F::WRITE_SIZE as u32;
    let sector = g.sector_size;
    let size = size_of(p)?;
    let csize = size_of(sc)?;
    let img_off = first * sector;
    let trailer_sz = g.trailer_sz(MODE, w);
    let fts = first_trailer_sector(g, n, trailer_sz);
    let mut copy_sz = sz;
    if img_off + sz > fts * sector {
        // The step holds (part of) the trailer: copy only what lies below it, and not
        // over the scratch's own trailer.
        copy_sz = size
            .checked_sub(img_off + trailer_sz)
            .ok_or(SwapError::Geometry)?;
        let sto = scratch_status_off(g, csize, w).ok_or(SwapError::Geometry)?;
        copy_sz = copy_sz.min(sto);
    }
    let use_scratch = bs.idx == 1 && copy_sz != sz;
    // Sectors below the trailer's first one, from `img_off`: what states 2 and 3 erase
    // when the trailer sectors were scrambled instead.
    let below_trailer = (fts * sector).checked_sub(img_off);

    if bs.state == 1 {
        erase_region(sc, 0, csize)?;
        if bs.idx == 1 {
            // A temporary home for the swap type while the primary's trailer is erased.
            status_init(sc, s, g, bs.swap_type, swap_size)?;
            if !use_scratch {
                scramble_trailer(p, g, MODE)?;
                status_init(p, s, g, bs.swap_type, swap_size)?;
                erase_region(sc, 0, csize)?;
            }
        }
        copy_region(s, Some(&mut *sc), img_off, 0, copy_sz)?;
        write_status(p, sc, g, bs, use_scratch)?;
        bs.state = 2;
    }
    if bs.state == 2 {
        let mut erase_sz = sz;
        if bs.idx == 1 {
            scramble_trailer(s, g, MODE)?;
            if use_scratch {
                erase_sz = below_trailer.ok_or(SwapError::Geometry)?;
            }
        }
        if erase_sz > 0 {
            erase_region(s, img_off, erase_sz)?;
        }
        copy_region(p, Some(&mut *s), img_off, img_off, copy_sz)?;
        write_status(p, sc, g, bs, use_scratch)?;
        bs.state = 3;
    }
    if bs.state == 3 {
        let mut erase_sz = sz;
        if use_scratch {
            scramble_trailer(p, g, MODE)?;
            erase_sz = below_trailer.ok_or(SwapError::Geometry)?;
        }
        if erase_sz > 0 {
            erase_region(p, img_off, erase_sz)?;
        }
        copy_region(sc, Some(&mut *p), 0, img_off, copy_sz)?;
        if use_scratch {
            // The status kept in the scratch (states 1 and 2), then its trailer fields.
            let sto = scratch_status_off(g, csize, w).ok_or(SwapError::Geometry)?;
            copy_region(sc, Some(&mut *p), sto, img_off + copy_sz, 2 * w)?;
            let st = boot_err(trailer::read(sc, &l))?;
            if st.image_ok == Flag::Set {
                boot_err(trailer::write_image_ok(p, &l))?;
            }
            if st.swap_type != SwapType::None {
                boot_err(trailer::write_swap_info(p, &l, g.image, st.swap_type))?;
            }
            boot_err(trailer::write_swap_size(p, &l, swap_size))?;
            boot_err(trailer::write_magic(p, &l))?;
        }
        write_status(p, sc, g, bs, false)?;
        bs.idx += 1;
        bs.state = 1;
        if use_scratch {
            // Backwards: the scratch's magic goes first, so a cut mid-erase never brings a
            // half-erased scratch back into the primary.
            erase_backwards(sc)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::cut::{geom, Power, Ram, Slot, E, N};
    use super::*;
    use crate::mcuboot::trailer::{Layout, State};
    use crate::mcuboot::Version;
    use crate::testing::build_image;

    /// Both slots: 8 sectors of 512 bytes.
    const SLOT: usize = N;

    fn v(major: u8) -> Version {
        Version {
            major,
            minor: 0,
            revision: 0,
            build: 0,
        }
    }

    /// Image A (v1) of `alen` bytes in the primary, image B (v2) of `blen` bytes in the
    /// secondary, requested for a test swap (or a permanent one).
    fn setup(alen: usize, blen: usize, permanent: bool) -> [Ram; 3] {
        let (mut p, mut s) = (Ram::new(), Ram::new());
        let mut buf = [0u8; N];
        assert_eq!(build_image(&mut buf, v(1), alen as u32 - 72, 1), alen);
        p.program(0, &buf[..alen]);
        assert_eq!(build_image(&mut buf, v(2), blen as u32 - 72, 2), blen);
        s.program(0, &buf[..blen]);
        let pw = Power::default();
        trailer::set_next(
            &mut slot(&mut s, SLOT, &pw),
            &Layout::default(),
            0,
            false,
            permanent,
        )
        .unwrap();
        [p, s, Ram::new()]
    }

    fn slot<'a>(f: &'a mut Ram, cap: usize, power: &'a Power) -> Slot<'a> {
        Slot { f, cap, power }
    }

    /// One boot with a scratch area of `scratch` bytes.
    fn run(a: &mut [Ram; 3], scratch: usize, pw: &Power) -> Result<Outcome, SwapError> {
        let [p, s, c] = a;
        let (mut ps, mut ss, mut cs) = (slot(p, SLOT, pw), slot(s, SLOT, pw), slot(c, scratch, pw));
        boot(&mut ps, &mut ss, &mut cs, &geom(), |_| true)
    }

    fn state(f: &mut Ram) -> State {
        let pw = Power::default();
        trailer::read(&mut slot(f, SLOT, &pw), &Layout::default()).unwrap()
    }

    /// Boots until nothing is pending, restoring power after each failure; the outcomes of
    /// the boots that completed and the flash after each.
    fn boot_to_rest(
        a: &mut [Ram; 3],
        scratch: usize,
        pw: &Power,
    ) -> heapless::Vec<(Outcome, [Ram; 3]), 8> {
        let mut out = heapless::Vec::new();
        for _ in 0..16 {
            match run(a, scratch, pw) {
                Err(SwapError::Flash) => pw.dead.set(false),
                Err(e) => panic!("{e:?}"),
                Ok(o) => {
                    out.push((o, a.clone())).ok().unwrap();
                    if o == Outcome::None {
                        return out;
                    }
                }
            }
        }
        panic!("no rest");
    }

    #[test]
    fn sizes_follow_mcuboot() {
        let g = geom();
        // boot_scratch_trailer_sz (bootutil_area.c:97 @2d4bacc3): BOOT_STATUS_STATE_COUNT
        // (3, bootutil_area.h:46) entries of W, plus 4 * BOOT_MAX_ALIGN + ALIGN_UP(16, 8).
        assert_eq!(scratch_trailer_sz(&g, 8), 3 * 8 + 48);
        assert_eq!(scratch_status_off(&g, 1024, 8), Some(1024 - 72));
        // boot_trailer_sz for the slots: 16 sectors * 3 states * 8 + 48.
        assert_eq!(g.trailer_sz(Mode::Scratch, 8), 432);
        // app_max_size_adjust_to_trailer (swap_scratch.c:104): the trailer (432 bytes)
        // sits in the last sector, which holds all of it: no padding.
        assert_eq!(max_image_size(&g, 8, 1024, 8), 4096 - 432);
        assert_eq!(max_image_size(&g, 8, 512, 8), 4096 - 432);
        // A sector larger than the scratch: "not all sectors fit inside scratch".
        assert_eq!(max_image_size(&g, 8, 256, 8), 0);
        // Zephyr's BOOT_MAX_IMG_SECTORS 128, W 4, 4 KiB sectors: 1536 + 48 of trailer.
        let z = Geometry::new(Layout::default(), 4096);
        assert_eq!(max_image_size(&z, 118, 4096, 4), 118 * 4096 - 1584);
        // 1 KiB sectors, W 8: the trailer (3120 bytes) spans 4 sectors, only 48 of its
        // bytes in the first; the scratch trailer needs 72: 24 bytes of padding.
        let k = Geometry::new(Layout::default(), 1024);
        assert_eq!(k.trailer_sz(Mode::Scratch, 8), 3120);
        assert_eq!(max_image_size(&k, 64, 2048, 8), 64 * 1024 - 3120 - 24);
        // find_last_sector_idx / find_swap_count (swap_scratch.c:595, 647).
        assert_eq!(find_last_sector_idx(&g, 2472), Some(4));
        assert_eq!(find_last_sector_idx(&g, 2560), Some(4));
        assert_eq!(find_last_sector_idx(&g, 0), None);
        assert_eq!(find_swap_count(&g, 2472, 1024), 3);
        assert_eq!(find_swap_count(&g, 2472, 512), 5);
        // boot_slots_compatible: equal slots, sectors within the scratch.
        let [mut p, mut s, mut c] = setup(2072, 2472, false);
        let pw = Power::default();
        assert_eq!(
            max_image_size_of(
                &slot(&mut p, SLOT, &pw),
                &slot(&mut s, SLOT, &pw),
                &slot(&mut c, 1024, &pw),
                &g
            ),
            Ok(3664)
        );
        assert_eq!(
            sector_count(
                &slot(&mut p, SLOT, &pw),
                &slot(&mut s, SLOT - E, &pw),
                &slot(&mut c, 1024, &pw),
                &g
            ),
            Err(SwapError::Geometry)
        );
        assert_eq!(
            sector_count(
                &slot(&mut p, SLOT, &pw),
                &slot(&mut s, SLOT, &pw),
                &slot(&mut c, 256, &pw),
                &g
            ),
            Err(SwapError::Geometry)
        );
    }

    /// The status and trailer bytes of a test swap whose steps stay below the trailer
    /// sector, derived from mcu-tools/mcuboot @2d4bacc3: B (2472 bytes) takes sectors 0..4;
    /// with a 2-sector scratch the steps are [3, 4], [1, 2], [0] (`swap_run` and
    /// `boot_copy_sz`, swap_scratch.c:919, 555). Step 1 writes the scratch's trailer, then
    /// scrambles the primary's last sector (`swap_scramble_trailer_sectors`) and writes its
    /// trailer (`swap_status_init`, swap_misc.c:107: swap_info 02, swap_size 2472 = a8 09
    /// 00 00, magic; image_ok erased since the secondary's is), erases the scratch again
    /// (swap_scratch.c:773). Every state then writes `bs->state` (01, 02, 03) at entry
    /// `(idx - 1) * 3 + state - 1` (`boot_status_internal_off`, swap_scratch.c:255) of the
    /// primary's status area at `S - 432` (`boot_status_off`, bootutil_misc.c:126).
    /// Finally copy_done 01 (loader.c:1278).
    #[test]
    fn trailer_and_status_bytes_after_a_test_swap() {
        let mut a = setup(2072, 2472, false);
        let orig = a.clone();
        let pw = Power::default();
        assert_eq!(run(&mut a, 1024, &pw), Ok(Outcome::Swapped(SwapType::Test)));
        let mut want = [0xffu8; E];
        let st = 512 - 432;
        for i in 0..9 {
            want[st + 8 * i] = (i % 3 + 1) as u8;
        }
        want[512 - 48..512 - 44].copy_from_slice(&[0xa8, 0x09, 0x00, 0x00]);
        want[512 - 40] = 0x02;
        want[512 - 32] = 0x01;
        want[512 - 16..].copy_from_slice(&Layout::default().magic());
        assert_eq!(&a[0].as_bytes()[SLOT - E..], &want[..]);
        // The images changed places; the secondary's trailer sector is erased; the scratch
        // holds what the last step passed through it (B's sector 0).
        assert_eq!(&a[0].as_bytes()[..2472], &orig[1].as_bytes()[..2472]);
        assert_eq!(&a[1].as_bytes()[..2072], &orig[0].as_bytes()[..2072]);
        assert!(a[1].as_bytes()[SLOT - E..].iter().all(|&x| x == 0xff));
        assert_eq!(&a[2].as_bytes()[..512], &orig[1].as_bytes()[..512]);
        assert!(a[2].as_bytes()[512..].iter().all(|&x| x == 0xff));
        // Step 1: 2 + 3 + 1 + 3 + 2 + 1 + 1, 1 + 2 + 1 + 1, 2 + 1 + 1; step 2: 3 * 4;
        // step 3: 4 + 3 + 3; copy_done.
        assert_eq!(pw.ops.get(), 13 + 5 + 4 + 12 + 10 + 1);
        // The next boot reverts (row 3), then nothing is pending.
        let ps = state(&mut a[0]);
        assert_eq!(
            trailer::swap_type(&ps, &state(&mut a[1]), false),
            SwapType::Revert
        );
        assert_eq!(
            run(&mut a, 1024, &pw),
            Ok(Outcome::Swapped(SwapType::Revert))
        );
        assert_eq!(&a[0].as_bytes()[..2072], &orig[0].as_bytes()[..2072]);
        assert_eq!(&a[1].as_bytes()[..2472], &orig[1].as_bytes()[..2472]);
        let t = &a[0].as_bytes()[SLOT - 48..];
        // Revert: swap_info 04, image_ok 01 (swap_set_image_ok), copy_done 01; swap_size
        // is the larger image again.
        assert_eq!(&t[..8], &[0xa8, 0x09, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!((t[8], t[16], t[24]), (0x04, 0x01, 0x01));
        assert!(trailer::is_confirmed(&state(&mut a[0])));
        assert_eq!(run(&mut a, 1024, &pw), Ok(Outcome::None));
    }

    /// A test swap whose first step holds the trailer's sector (B of 3600 bytes ends in
    /// sector 7, which holds the 432-byte trailer): `use_scratch` (swap_scratch.c:746).
    /// Step 1 copies only `S - img_off - boot_trailer_sz` = 4096 - 3072 - 432 = 592 bytes,
    /// its states 1 and 2 write their entries into the scratch's status area (at
    /// `1024 - 72`), and state 3 copies those two entries into the primary's status area,
    /// then swap_info, swap_size (3600 = 10 0e 00 00) and the magic (swap_scratch.c:863),
    /// before writing its own entry (03) into the primary.
    #[test]
    fn the_step_through_the_trailer_sector_keeps_its_status_in_the_scratch() {
        let mut a = setup(2072, 3600, false);
        let orig = a.clone();
        // After state 2 of step 1 (the ops of state 1: 2 + 3 + 1 + 1; state 2: 1 + 1 + 1
        // + 1), the status lives in the scratch only.
        let pw = Power::default();
        pw.cut_at.set(Some(11));
        pw.whole.set(true);
        assert_eq!(run(&mut a, 1024, &pw), Err(SwapError::Flash));
        let c = a[2].as_bytes();
        assert_eq!(&c[..592], &orig[1].as_bytes()[3072..3664]);
        assert_eq!((c[952], c[960], c[968]), (0x01, 0x02, 0xff));
        assert!(c[953..960].iter().chain(&c[961..968]).all(|&x| x == 0xff));
        assert_eq!(c[1024 - 40], 0x02);
        assert_eq!(&c[1024 - 48..1024 - 44], &[0x10, 0x0e, 0, 0]);
        assert_eq!(&c[1024 - 16..1024], &Layout::default().magic());
        {
            let [p, _, c] = &mut a;
            let pw = Power::default();
            let st = read_status(&mut slot(p, SLOT, &pw), &mut slot(c, 1024, &pw), &geom());
            let st = st.unwrap();
            assert_eq!(
                (st.idx, st.state, st.swap_type, st.from_primary),
                (1, 3, SwapType::Test, false)
            );
        }
        let pw = Power::default();
        assert_eq!(run(&mut a, 1024, &pw), Ok(Outcome::Resumed(SwapType::Test)));
        let mut want = [0xffu8; E];
        want[..16].copy_from_slice(&orig[1].as_bytes()[3584..3600]);
        let st = 512 - 432;
        for i in 0..12 {
            want[st + 8 * i] = (i % 3 + 1) as u8;
        }
        want[512 - 48..512 - 44].copy_from_slice(&[0x10, 0x0e, 0x00, 0x00]);
        want[512 - 40] = 0x02;
        want[512 - 32] = 0x01;
        want[512 - 16..].copy_from_slice(&Layout::default().magic());
        assert_eq!(&a[0].as_bytes()[SLOT - E..], &want[..]);
        assert_eq!(&a[0].as_bytes()[..3600], &orig[1].as_bytes()[..3600]);
        assert_eq!(&a[1].as_bytes()[..2072], &orig[0].as_bytes()[..2072]);
        assert!(a[1].as_bytes()[2072..].iter().all(|&x| x == 0xff));
        assert_eq!(
            run(&mut a, 1024, &pw),
            Ok(Outcome::Swapped(SwapType::Revert))
        );
        assert_eq!(&a[0].as_bytes()[..2072], &orig[0].as_bytes()[..2072]);
        assert_eq!(&a[1].as_bytes()[..3600], &orig[1].as_bytes()[..3600]);
    }

    #[test]
    fn permanent_swap_sets_image_ok_and_does_not_revert() {
        let mut a = setup(2072, 2472, true);
        let orig = a.clone();
        let pw = Power::default();
        assert_eq!(run(&mut a, 512, &pw), Ok(Outcome::Swapped(SwapType::Perm)));
        assert_eq!(&a[0].as_bytes()[..2472], &orig[1].as_bytes()[..2472]);
        let t = &a[0].as_bytes()[SLOT - 48..];
        assert_eq!((t[8], t[16], t[24]), (0x03, 0x01, 0x01));
        assert_eq!(run(&mut a, 512, &pw), Ok(Outcome::None));
    }

    #[test]
    fn refused_secondaries() {
        // Larger than app_max_size (3664): validation refuses it and the slot is erased.
        let mut a = setup(2072, 3672, false);
        let p0 = a[0].clone();
        let pw = Power::default();
        assert_eq!(run(&mut a, 1024, &pw), Ok(Outcome::TooLarge));
        assert!(a[1].as_bytes().iter().all(|&x| x == 0xff));
        assert_eq!(a[0].as_bytes(), p0.as_bytes());
        // Refused by `validate`: erased.
        let mut a = setup(2072, 2472, false);
        {
            let [p, s, c] = &mut a;
            let (mut ps, mut ss, mut cs) =
                (slot(p, SLOT, &pw), slot(s, SLOT, &pw), slot(c, 512, &pw));
            assert_eq!(
                boot(&mut ps, &mut ss, &mut cs, &geom(), |_| false),
                Ok(Outcome::Invalid)
            );
        }
        assert!(a[1].as_bytes().iter().all(|&x| x == 0xff));
        assert_eq!(a[0].as_bytes(), p0.as_bytes());
        // An erased header with the trailer left: only the trailer sector is scrambled.
        let mut a = setup(2072, 2472, false);
        a[1].program(0, &[0xff; 512]);
        let before = a[1].clone();
        let ops = pw.ops.get();
        assert_eq!(run(&mut a, 512, &pw), Ok(Outcome::Invalid));
        assert_eq!(pw.ops.get(), ops + 1);
        assert_eq!(&a[1].as_bytes()[..SLOT - E], &before.as_bytes()[..SLOT - E]);
        assert!(a[1].as_bytes()[SLOT - E..].iter().all(|&x| x == 0xff));
        assert_eq!(run(&mut a, 512, &pw), Ok(Outcome::None));
    }

    /// Cuts at every operation of a test swap and its revert for one layout; `whole`: the
    /// cut operation does nothing (else it is left half done). Returns the cuts tried and
    /// those whose end state differs from the uncut run's, with what differs.
    fn sweep(
        alen: usize,
        blen: usize,
        scratch: usize,
        whole: bool,
    ) -> (usize, heapless::Vec<(usize, &'static str), 16>) {
        let a0 = setup(alen, blen, false);
        let mut c = a0.clone();
        let pw = Power::default();
        let clean = boot_to_rest(&mut c, scratch, &pw);
        let total = pw.ops.get();
        assert_eq!(clean.len(), 3);
        assert_eq!(clean[0].0, Outcome::Swapped(SwapType::Test));
        assert_eq!(clean[1].0, Outcome::Swapped(SwapType::Revert));
        let cend = &clean.last().unwrap().1;
        let mut bad = heapless::Vec::new();
        for k in 0..total {
            let mut a = a0.clone();
            let pw = Power::default();
            pw.cut_at.set(Some(k));
            pw.whole.set(whole);
            let runs = boot_to_rest(&mut a, scratch, &pw);
            assert!(pw.ops.get() > k, "cut {k} never happened");
            let last = &runs.last().unwrap().1;
            // The confirmed image A must end in the primary, confirmed.
            let why = if last[0].as_bytes()[..alen] != a0[0].as_bytes()[..alen]
                || !trailer::is_confirmed(&state(&mut last[0].clone()))
            {
                Some("A lost")
            } else if last[0].as_bytes() != cend[0].as_bytes() {
                Some("primary")
            } else if last[1].as_bytes() != cend[1].as_bytes() {
                Some("secondary")
            } else if !runs
                .iter()
                .any(|(_, r)| r[0].as_bytes()[..blen] == a0[1].as_bytes()[..blen])
            {
                Some("B never booted")
            } else {
                None
            };
            if let Some(w) = why {
                bad.push((k, w)).unwrap();
            }
        }
        (total, bad)
    }

    /// (b) A power cut at every flash operation of a test swap and its revert, then the
    /// boots that follow, for steps below the trailer sector and through it, with one- and
    /// two-sector scratch areas. With whole operations lost at the cut (what the host
    /// device's power meter does: it cuts between operations) every run ends byte for byte
    /// as the uncut run in both slots, the test image ran in between, and A ends confirmed
    /// in the primary.
    #[test]
    fn power_cut_at_every_operation_test_then_revert() {
        let mut tried = 0;
        for (alen, blen, scratch) in [
            (2072, 2472, 1024),
            (2072, 2472, 512),
            (2072, 3600, 1024),
            (2072, 3600, 512),
            (3600, 2072, 512),
        ] {
            let (n, bad) = sweep(alen, blen, scratch, true);
            assert_eq!(bad, [], "{alen}/{blen}/{scratch}");
            tried += n;
        }
        std::println!("{tried} cuts, 0 bricked, 0 lost, 0 differing end states");
        assert!(tried > 300, "{tried}");
    }

    /// The same sweep with the cut operation left half done (a torn write, or an erase
    /// that erased the lower half of its unit). Every run but three ends as the uncut one.
    /// The three are the one window this model finds in MCUboot's scratch algorithm:
    /// the erase of the scratch area after a step that went through it (`use_scratch`,
    /// swap_scratch.c:912 @2d4bacc3, "erased backwards" so that the trailer's unit goes
    /// first). When the scratch is a single erase unit, or its data shares the trailer's
    /// unit, a torn erase leaves the magic and status good but part of the data erased;
    /// the next boot resumes state 3 from the scratch and copies the erased bytes into
    /// the primary. The new image then differs in the secondary after the revert (cuts
    /// 19 and 16 below), and when the image being restored is the one that reaches the
    /// trailer sector (A of 3600 bytes), the revert loses the confirmed image's tail
    /// (cut 97). The host device cuts between whole operations, where this cannot happen.
    #[test]
    fn power_cut_torn_at_every_operation() {
        let mut tried = 0;
        for (alen, blen, scratch, want) in [
            (2072, 2472, 1024, &[][..]),
            (2072, 2472, 512, &[]),
            (2072, 3600, 1024, &[(19, "secondary")]),
            (2072, 3600, 512, &[(16, "secondary")]),
            (3600, 2072, 512, &[(97, "A lost")]),
        ] {
            let (n, bad) = sweep(alen, blen, scratch, false);
            std::println!("{alen}/{blen}/{scratch}: {n} torn cuts, differing: {bad:?}");
            assert_eq!(&bad[..], want, "{alen}/{blen}/{scratch}");
            tried += n;
        }
        assert!(tried > 600, "{tried}");
    }

    /// A second cut while the first is being recovered from, at each of the 40 operations
    /// after each first cut (whole operations lost, as the host device cuts). Every run
    /// ends byte for byte as the uncut run except in one window of MCUboot's own, pinned
    /// here: a revert cut after it scrambled the primary's trailer and before the first
    /// field of the new one (its record of the revert then only in the scratch's temporary
    /// trailer) resumes from the scratch status
    /// as a new swap, whose step 1 first erases the scratch (swap_scratch.c:750
    /// @2d4bacc3); a second cut before the scratch's trailer is written again leaves no
    /// trailer that asks for the revert. The test image then keeps running, now with no
    /// trailer (confirmed), both images intact: the revert is lost, no image is.
    #[test]
    fn power_cut_twice() {
        let mut tried = 0;
        let mut lost_reverts = heapless::Vec::<(usize, usize, usize), 32>::new();
        for (alen, blen, scratch) in [(2072, 2472, 1024), (2072, 3600, 512), (3600, 2072, 512)] {
            let a0 = setup(alen, blen, false);
            let mut c = a0.clone();
            let pw = Power::default();
            boot_to_rest(&mut c, scratch, &pw);
            let total = pw.ops.get();
            for k in 0..total {
                for k2 in k + 1..k + 41 {
                    let mut a = a0.clone();
                    let pw = Power::default();
                    pw.whole.set(true);
                    pw.cut_at.set(Some(k));
                    pw.cut_again.set(Some(k2));
                    boot_to_rest(&mut a, scratch, &pw);
                    tried += 1;
                    if (0..2).all(|i| a[i].as_bytes() == c[i].as_bytes()) {
                        continue;
                    }
                    let (p, s, b0, a0b) = (
                        a[0].as_bytes(),
                        a[1].as_bytes(),
                        a0[1].as_bytes(),
                        a0[0].as_bytes(),
                    );
                    assert!(
                        p[..blen] == b0[..blen] && s[..alen] == a0b[..alen],
                        "{alen}/{blen}/{scratch}: cuts {k}, {k2}: an image is lost"
                    );
                    assert!(trailer::is_confirmed(&state(&mut a[0])));
                    lost_reverts.push((blen, k, k2)).unwrap();
                }
            }
        }
        std::println!("{tried} double cuts; reverts lost: {lost_reverts:?}");
        assert!(tried > 10000, "{tried}");
        // Op 51 is the revert's first write into the primary's scrambled trailer
        // (swap_info; the revert starts at op 45: 2 scratch erases, 3 scratch trailer
        // writes, the primary's trailer scramble); after it, the resumed step 1 erases
        // the scratch (52, 53) and rewrites its trailer (54..56).
        assert_eq!(
            lost_reverts,
            [(2472, 51, 54), (2472, 51, 55), (2472, 51, 56)]
        );
    }
}
