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
//! of the sector size is copied one write unit further, into the next sector, which step 1
//! did not erase (unless it is a trailer sector, which step 2 erased). Those bytes are the
//! secondary's past its image: erased, as the image group leaves them. A NOR part
//! programs by clearing bits, so writing erased bytes over the old primary's changes
//! nothing: on an nRF52840 the write succeeds and leaves the old bytes. This module
//! writes the same chunks as `boot_copy_region` but leaves out such an all-erased tail
//! that falls beyond the erased sectors, so the result is the same and flash models that
//! refuse writes over programmed bytes (as some parts do, and as smp-svr's does) do not
//! fail the boot. A tail that is not all erased is written as upstream writes it, and a
//! flash that refuses it fails the boot with [`SwapError::Flash`].

use embedded_storage::nor_flash::NorFlash;

use super::{
    boot_err, erase_region, flash, image_size, size_of, Geometry, Mode, Outcome, SwapError,
    COPY_CHUNK,
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
    let mut erased_end = 0u32;
    for sect in 0..np {
        erase_region(p, sect * sector, sector)?;
        erased_end = (sect + 1) * sector;
        if size + sector >= src_size {
            size = src_size + (w - src_size % w);
            break;
        }
        size += sector;
    }
    let trailer_start = (np - g.trailer_sz(MODE, w).div_ceil(sector).max(1).min(np)) * sector;
    erase_region(p, trailer_start, np * sector - trailer_start)?;
    if erased_end >= trailer_start {
        erased_end = u32::MAX;
    }
    copy_into_erased(s, p, size, erased_end, l.erased)?;
    boot_err(trailer::write_magic(p, &l))?;
    // Header, then trailer of the secondary (no MCUBOOT_OVERWRITE_ONLY_KEEP_BACKUP).
    erase_region(s, 0, sector)?;
    erase_region(s, (ns - 1) * sector, sector)?;
    Ok(())
}

/// `boot_copy_region` (`loader.c`) of `len` bytes from the secondary to the primary,
/// `COPY_CHUNK` at a time, except that a chunk's part at or past `erased_end` is left out
/// when it is all `erased` bytes (see the [module documentation](self)).
fn copy_into_erased<F: NorFlash>(
    s: &mut F,
    p: &mut F,
    len: u32,
    erased_end: u32,
    erased: u8,
) -> Result<(), SwapError> {
    let mut buf = [0u8; COPY_CHUNK];
    let mut off = 0u32;
    while off < len {
        let n = (len - off).min(COPY_CHUNK as u32);
        let b = &mut buf[..n as usize];
        flash(s.read(off, b))?;
        let mut keep = n;
        if off + n > erased_end {
            let inside = erased_end.saturating_sub(off);
            if b[inside as usize..].iter().all(|&x| x == erased) {
                keep = inside;
            }
        }
        if keep > 0 {
            flash(p.write(off, &b[..keep as usize]))?;
        }
        off += n;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::cut::{geom, Power, Ram, Slot, E, N};
    use super::*;
    use crate::mcuboot::image::IMAGE_MAGIC;
    use crate::mcuboot::trailer::{Layout, State};
    use crate::mcuboot::Version;
    use crate::testing::build_image;

    fn setup(alen: usize, blen: usize, permanent: bool) -> [Ram; 2] {
        let (mut p, mut s) = (Ram::new(), Ram::new());
        let mut buf = [0u8; N];
        let v = |major| Version {
            major,
            minor: 0,
            revision: 0,
            build: 0,
        };
        assert_eq!(build_image(&mut buf, v(1), alen as u32 - 72, 1), alen);
        p.program(0, &buf[..alen]);
        assert_eq!(build_image(&mut buf, v(2), blen as u32 - 72, 2), blen);
        s.program(0, &buf[..blen]);
        let pw = Power::default();
        let mut ss = Slot {
            f: &mut s,
            cap: N,
            power: &pw,
        };
        trailer::set_next(&mut ss, &Layout::default(), 0, false, permanent).unwrap();
        [p, s]
    }

    fn run(a: &mut [Ram; 2], pw: &Power, ok: bool) -> Result<Outcome, SwapError> {
        let [p, s] = a;
        let mut ps = Slot {
            f: p,
            cap: N,
            power: pw,
        };
        let mut ss = Slot {
            f: s,
            cap: N,
            power: pw,
        };
        boot(&mut ps, &mut ss, &geom(), |_| ok)
    }

    fn state(f: &mut Ram) -> State {
        let pw = Power::default();
        let mut s = Slot {
            f,
            cap: N,
            power: &pw,
        };
        trailer::read(&mut s, &Layout::default()).unwrap()
    }

    #[test]
    fn sizes_follow_mcuboot() {
        // bootutil_max_image_size (bootutil_misc.c:368 @2d4bacc3): boot_swap_info_off,
        // S - 16 (magic) - 3 * BOOT_MAX_ALIGN.
        assert_eq!(max_image_size(&geom(), 4096), 4096 - 40);
        let g16 = Geometry::new(
            Layout {
                max_align: 16,
                ..Layout::default()
            },
            4096,
        );
        assert_eq!(max_image_size(&g16, 0x8000), 0x8000 - 64);
    }

    /// The bytes after a test request, from `boot_copy_image` (loader.c:927 @2d4bacc3)
    /// with MCUBOOT_OVERWRITE_ONLY_FAST: B (2472 bytes) ends in sector 4, so sectors 0..4
    /// are erased, then the trailer's sector 7 (boot_trailer_sz = 432 bytes), 2472 + 8 =
    /// 2480 bytes copied (3 writes of at most 1024, `BUF_SZ`), the magic written; the
    /// secondary's sector 0 and sector 7 are erased. No copy_done, no image_ok: the next
    /// boot decides "none", and the new image is the confirmed one.
    #[test]
    fn a_test_request_overwrites_for_good() {
        for permanent in [false, true] {
            let mut a = setup(2072, 2472, permanent);
            let orig = a.clone();
            let pw = Power::default();
            let ty = if permanent {
                SwapType::Perm
            } else {
                SwapType::Test
            };
            assert_eq!(run(&mut a, &pw, true), Ok(Outcome::Swapped(ty)));
            assert_eq!(pw.ops.get(), 5 + 1 + 3 + 1 + 1 + 1);
            let p = a[0].as_bytes();
            assert_eq!(&p[..2480], &orig[1].as_bytes()[..2480]);
            // Sectors 5 and 6 are not touched (A ended in sector 4).
            assert_eq!(&p[2560..3584], &orig[0].as_bytes()[2560..3584]);
            let mut want = [0xffu8; E];
            want[E - 16..].copy_from_slice(&Layout::default().magic());
            assert_eq!(&p[N - E..], &want[..]);
            let s = a[1].as_bytes();
            assert!(s[..E].iter().chain(&s[N - E..]).all(|&x| x == 0xff));
            assert_eq!(&s[E..2472], &orig[1].as_bytes()[E..2472]);
            let ps = state(&mut a[0]);
            assert_eq!(
                trailer::swap_type(&ps, &state(&mut a[1]), false),
                SwapType::None
            );
            // image_ok stays erased: `boot_is_img_confirmed` says no until the application
            // confirms, but nothing is pending, so nothing can revert.
            assert!(!trailer::is_confirmed(&ps));
            assert_eq!(run(&mut a, &pw, true), Ok(Outcome::None));
        }
    }

    /// An image of exactly three sectors (1536 bytes): `boot_copy_image` erases sectors
    /// 0..2 and copies 1544 bytes, 8 into sector 3, which still holds A. Those 8 bytes of
    /// the secondary are erased, so the NOR write changes nothing: A's bytes stay, the
    /// image is complete and the boot succeeds. With other bytes there, the write goes to
    /// the flash as upstream makes it, which this RAM flash refuses.
    #[test]
    fn an_image_ending_on_a_sector_boundary() {
        let mut a = setup(2072, 3 * E, false);
        let orig = a.clone();
        let pw = Power::default();
        assert_eq!(run(&mut a, &pw, true), Ok(Outcome::Swapped(SwapType::Test)));
        // 3 + 1 erases, 2 writes (1024 bytes, then 512 of the 520-byte chunk), the magic,
        // 2 erases: the operations of boot_copy_image, one for one.
        assert_eq!(pw.ops.get(), 3 + 1 + 2 + 1 + 2);
        let p = a[0].as_bytes();
        assert_eq!(&p[..3 * E], &orig[1].as_bytes()[..3 * E]);
        assert_eq!(&p[3 * E..2072], &orig[0].as_bytes()[3 * E..2072]);
        assert_eq!(run(&mut a, &pw, true), Ok(Outcome::None));

        let mut a = setup(2072, 3 * E, false);
        a[1].program(3 * E, &[0; 8]);
        let pw = Power::default();
        assert_eq!(run(&mut a, &pw, true), Err(SwapError::Flash));
    }

    #[test]
    fn refused_secondaries_leave_the_primary_alone() {
        let mut a = setup(2072, 2472, false);
        let p0 = a[0].clone();
        let pw = Power::default();
        assert_eq!(run(&mut a, &pw, false), Ok(Outcome::Invalid));
        assert!(a[1].as_bytes().iter().all(|&x| x == 0xff));
        // No image_ok (no swap_set_image_ok in overwrite-only mode).
        assert_eq!(a[0].as_bytes(), p0.as_bytes());
        // An erased header with the trailer left: nothing written, the trailer stays.
        let mut a = setup(2072, 2472, false);
        a[1].program(0, &[0xff; E]);
        let before = a.clone();
        let pw = Power::default();
        assert_eq!(run(&mut a, &pw, true), Ok(Outcome::NoHeader));
        assert_eq!(pw.ops.get(), 0);
        assert_eq!(a[1].as_bytes(), before[1].as_bytes());
    }

    /// A power cut at every operation of the overwrite (whole and torn), then boots until
    /// nothing is pending. Until the primary's magic is written the secondary is intact
    /// and the next boot copies again (a torn magic reads "bad", which the table ignores); after it the primary is complete and the secondary
    /// holds no bootable image. Every run ends with the primary byte for byte as the
    /// uncut run's, booting B, with no revert pending.
    #[test]
    fn power_cut_at_every_operation() {
        let a0 = setup(2072, 2472, false);
        let mut c = a0.clone();
        let pw = Power::default();
        assert_eq!(run(&mut c, &pw, true), Ok(Outcome::Swapped(SwapType::Test)));
        let total = pw.ops.get();
        // The magic is operation 9 (0-based): 5 + 1 erases, 3 writes.
        let magic_op = 9;
        let (mut redone, mut complete) = (0, 0);
        for whole in [true, false] {
            for k in 0..total {
                let mut a = a0.clone();
                let pw = Power::default();
                pw.cut_at.set(Some(k));
                pw.whole.set(whole);
                assert_eq!(run(&mut a, &pw, true), Err(SwapError::Flash), "cut {k}");
                pw.dead.set(false);
                let next = run(&mut a, &pw, true).unwrap();
                let p = a[0].as_bytes();
                assert_eq!(p, c[0].as_bytes(), "cut {k}, whole {whole}");
                let s = a[1].as_bytes();
                assert_ne!(&s[..4], &IMAGE_MAGIC.to_le_bytes(), "cut {k}");
                if next == Outcome::Swapped(SwapType::Test) {
                    // A whole cut of the header erase did nothing: the copy is done again.
                    assert!(k <= magic_op || (whole && k == magic_op + 1), "cut {k}");
                    redone += 1;
                } else {
                    assert!(k > magic_op, "cut {k}: {next:?}");
                    assert!(
                        matches!(next, Outcome::NoHeader | Outcome::Invalid),
                        "{next:?}"
                    );
                    complete += 1;
                }
                assert!(matches!(
                    run(&mut a, &pw, true),
                    Ok(Outcome::None | Outcome::NoHeader)
                ));
                // Never a revert; a trailer left behind the erased header (a cut before the
                // secondary's last sector was erased) keeps asking for the upgrade, which
                // every boot finds no header for.
                let (ps, ss) = (state(&mut a[0]), state(&mut a[1]));
                let ty = trailer::swap_type(&ps, &ss, false);
                assert!(
                    matches!(ty, SwapType::None | SwapType::Test),
                    "cut {k}: {ty:?}"
                );
            }
        }
        std::println!(
            "{} cuts: copy redone {redone}, primary already complete {complete}",
            2 * total
        );
        assert_eq!(redone + complete, 2 * total);
        assert!(redone >= 2 * magic_op, "{redone}");
    }
}
