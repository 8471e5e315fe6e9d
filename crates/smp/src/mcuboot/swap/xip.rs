//! Direct-XIP (`MCUBOOT_DIRECT_XIP`) and direct-XIP with revert
//! (`MCUBOOT_DIRECT_XIP_REVERT`): nothing is copied; at boot MCUboot picks, of the two
//! slots, the one holding the valid image with the higher version and runs it in place.
//!
//! Facts from mcu-tools/mcuboot at commit 2d4bacc3c15e (`boot/bootutil/src/loader.c`,
//! the `MCUBOOT_DIRECT_XIP || MCUBOOT_RAM_LOAD` half of the file), each function naming
//! the upstream one it follows:
//!
//! - [`boot`] is `context_boot_go` → `boot_get_slot_usage` (a slot is available when
//!   its header passes `boot_check_header_valid`, `bootutil_loader.c`) →
//!   `boot_load_and_validate_images`: `find_slot_with_highest_version` (the first slot
//!   wins a tie: a later one replaces it only when `boot_compare_version` says greater),
//!   `boot_rom_address_check` (an `IMAGE_F_ROM_FIXED` image whose `ih_load_addr` is not
//!   its slot's address is skipped, not erased), with revert `boot_select_or_erase`, then
//!   `boot_validate_slot`. A slot that fails is marked unavailable and the next one is
//!   tried, until one boots or none is left.
//! - `boot_select_or_erase` (revert only): an active slot whose trailer magic is not good,
//!   or whose `copy_done` is set while `image_ok` is not (it was booted once and never
//!   confirmed), is scrambled whole (`boot_scramble_region(fap, 0, size, false)`) and
//!   skipped; otherwise, if `copy_done` is not set, it is set *before* validation ("it can
//!   be set in advance ... because in case the validation fails, the entire image slot will
//!   be erased"), and a failure of that write is ignored.
//! - `boot_validate_slot` with `ARE_SLOTS_EQUIVALENT()` = 1 (`bootutil_priv.h`: direct-XIP
//!   and RAM load): an image whose hash or signature fails is scrambled
//!   (`boot_scramble_slot`, the whole slot without `MCUBOOT_MINIMAL_SCRAMBLE`,
//!   `bootutil_area.c`) in *either* slot; an `IMAGE_F_NON_BOOTABLE` image is skipped
//!   without erasing.
//! - [`set_next`] is the application's `boot_set_next` as `bootutil_public.c` builds it
//!   with `MCUBOOT_BOOTUTIL_LIB_FOR_DIRECT_XIP` (which Zephyr's
//!   `MCUBOOT_BOOTLOADER_MODE_DIRECT_XIP_WITH_REVERT` selects, `modules/Kconfig.mcuboot`
//!   in zephyrproject-rtos/zephyr at fc9fd668b344); plain direct-XIP applications use the
//!   swap build of it, [`trailer::set_next`], whose trailer the bootloader then ignores.
//! - No MCUboot swap status is kept: the only writes are `copy_done` and the scrambles,
//!   each one flash operation per write or erase unit. `MCUBOOT_DOWNGRADE_PREVENTION`
//!   does not exist in these modes (mcu-tools/mcuboot `boot/zephyr/Kconfig`: it `depends
//!   on !BOOT_DIRECT_XIP`; `check_downgrade_prevention` in `loader.c` is for the swap
//!   modes): a lower version boots only when every higher one failed. Hardware rollback
//!   counters (`boot_update_hw_rollback_protection`) are not modelled.
//! - The largest image is `bootutil_max_image_size` = `boot_swap_info_off(fap)`
//!   (`bootutil_misc.c`): [`max_image_size`].
//!
//! The two slots are `slots[0]` (primary, `slot0_partition`) and `slots[1]` (secondary).

use embedded_storage::nor_flash::NorFlash;

use super::{erase_region, size_of, SwapError};
use crate::mcuboot::image::{flags, HEADER_LEN};
use crate::mcuboot::trailer::{self, Flag, Layout, Magic, State};
use crate::mcuboot::ImageHeader;
use crate::platform::BootError;

/// What a direct-XIP boot did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Boot {
    /// The slot that boots (0 or 1), `None` when no slot holds a bootable image
    /// ("No slot to load for image 0").
    pub slot: Option<u8>,
    /// The slots this boot scrambled (erased whole): a failed image, or with revert an
    /// unconfirmed or unmarked one.
    pub erased: [bool; 2],
}

/// Why a slot was passed over, for the boot's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// No valid header (`boot_check_header_valid`).
    NoImage,
    /// `IMAGE_F_ROM_FIXED` with a load address other than the slot's.
    RomAddress,
    /// Revert: trailer magic not good (never marked for test or confirmed).
    Unmarked,
    /// Revert: booted once (`copy_done`) and never confirmed (`image_ok`).
    Unconfirmed,
    /// The image failed validation (hash, signature).
    Invalid,
    /// `IMAGE_F_NON_BOOTABLE`.
    NotBootable,
}

/// The header of `f` if `boot_check_header_valid` accepts it: MCUboot's magic, the
/// hashed region strictly inside the slot, neither encrypted (direct-XIP has no
/// encryption: an `#error` in `bootutil_priv.h` refuses `MCUBOOT_ENC_IMAGES` with it)
/// nor compressed.
pub fn valid_header<F: NorFlash>(f: &mut F) -> Result<Option<ImageHeader>, SwapError> {
    let size = size_of(f)?;
    let mut h = [0u8; HEADER_LEN];
    if size < HEADER_LEN as u32 {
        return Ok(None);
    }
    super::flash(f.read(0, &mut h))?;
    let Ok(hdr) = ImageHeader::parse(&h) else {
        return Ok(None);
    };
    let unsupported = flags::ENCRYPTED_AES128
        | flags::ENCRYPTED_AES256
        | flags::COMPRESSED_LZMA1
        | flags::COMPRESSED_LZMA2;
    let fits = hdr.check_fits(size as usize).is_ok();
    Ok((fits && hdr.flags & unsupported == 0).then_some(hdr))
}

/// `context_boot_go` in direct-XIP (`revert == false`) or direct-XIP-revert mode over
/// the two slots of one image, `slot_addr` being each slot's flash address (for
/// `IMAGE_F_ROM_FIXED`). `validate` checks the image in a slot (hash and, with keys, the
/// signature: `boot_check_image`); `skipped` is told each slot passed over and why.
///
/// A flash error (in the tests here, a power cut) stops the boot where it happened.
pub fn boot<F: NorFlash>(
    slots: &mut [F; 2],
    layout: &Layout,
    revert: bool,
    use_build: bool,
    slot_addr: [u32; 2],
    mut validate: impl FnMut(u8, &mut F) -> bool,
    mut skipped: impl FnMut(u8, Skip),
) -> Result<Boot, SwapError> {
    let mut hdr = [None, None];
    for (s, f) in slots.iter_mut().enumerate() {
        hdr[s] = valid_header(f)?;
        if hdr[s].is_none() {
            skipped(s as u8, Skip::NoImage);
        }
    }
    let mut erased = [false; 2];
    loop {
        // find_slot_with_highest_version: the first available slot, replaced only by a
        // strictly greater version.
        let mut cand: Option<usize> = None;
        for s in 0..2 {
            if let Some(h) = &hdr[s] {
                let better = match cand.and_then(|c| hdr[c].as_ref()) {
                    None => true,
                    Some(c) => h.version.compare(&c.version, use_build).is_gt(),
                };
                if better {
                    cand = Some(s);
                }
            }
        }
        let Some(s) = cand else {
            return Ok(Boot { slot: None, erased });
        };
        let h = hdr[s].expect("candidate has a header");
        let f = &mut slots[s];
        let skip = if h.flags & flags::ROM_FIXED != 0 && h.load_addr != slot_addr[s] {
            Some(Skip::RomAddress)
        } else if revert {
            select_or_erase(f, layout)?
        } else {
            None
        };
        let skip = match skip {
            Some(k) => Some(k),
            None if !h.is_bootable() => Some(Skip::NotBootable),
            None if !validate(s as u8, f) => {
                scramble(f)?;
                Some(Skip::Invalid)
            }
            None => None,
        };
        match skip {
            None => {
                return Ok(Boot {
                    slot: Some(s as u8),
                    erased,
                })
            }
            Some(k) => {
                if matches!(k, Skip::Unmarked | Skip::Unconfirmed | Skip::Invalid) {
                    erased[s] = true;
                }
                skipped(s as u8, k);
                hdr[s] = None;
            }
        }
    }
}

/// `boot_select_or_erase`: `Some(why)` when the slot was scrambled, else `None` after
/// setting `copy_done` if it was not set (a failure of that write is ignored, as
/// MCUboot ignores it).
fn select_or_erase<F: NorFlash>(f: &mut F, l: &Layout) -> Result<Option<Skip>, SwapError> {
    let st = trailer::read(f, l).map_err(|_| SwapError::Flash)?;
    let why = if st.magic != Magic::Good {
        Some(Skip::Unmarked)
    } else if st.copy_done == Flag::Set && st.image_ok != Flag::Set {
        Some(Skip::Unconfirmed)
    } else {
        None
    };
    match why {
        Some(k) => {
            scramble(f)?;
            Ok(Some(k))
        }
        None => {
            if st.copy_done != Flag::Set {
                let _ = trailer::write_copy_done(f, l);
            }
            Ok(None)
        }
    }
}

/// `boot_scramble_slot` / `boot_scramble_region(fap, 0, size, false)`: the whole slot,
/// erase unit by erase unit from offset 0.
fn scramble<F: NorFlash>(f: &mut F) -> Result<(), SwapError> {
    let size = size_of(f)?;
    erase_region(f, 0, size)
}

/// `boot_set_next` built with `MCUBOOT_BOOTUTIL_LIB_FOR_DIRECT_XIP` (`bootutil_public.c`
/// @2d4bacc3), on slot `f`: the running slot (`active`) can only be confirmed. A slot
/// whose magic is unset gets the magic (enough for a test boot); a confirmation then
/// writes `copy_done` (if unset) and `image_ok` (if unset), in that order, judged on the
/// trailer as read before the magic was written. A bad magic is `BOOT_EBADIMAGE`.
pub fn set_next<F: NorFlash>(
    f: &mut F,
    l: &Layout,
    active: bool,
    confirm: bool,
) -> Result<(), BootError> {
    let confirm = confirm || active;
    let st = trailer::read(f, l)?;
    match st.magic {
        Magic::Bad => return Err(BootError::BadImage),
        Magic::Unset => trailer::write_magic(f, l)?,
        Magic::Good => {}
    }
    if confirm {
        if st.copy_done == Flag::Unset {
            trailer::write_copy_done(f, l)?;
        }
        if st.image_ok == Flag::Unset {
            trailer::write_image_ok(f, l)?;
        }
    }
    Ok(())
}

/// How the next boot treats a slot, as Zephyr's img_mgmt reads it in direct-XIP-revert
/// (`read_directxip_state`, zephyrproject-rtos/zephyr
/// `subsys/mgmt/mcumgr/grp/img_mgmt/src/img_mgmt_state.c` @0014f3dc4dda).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotState {
    /// `DIRECT_XIP_BOOT_UNSET`: no good magic (MCUboot would erase it).
    Unset,
    /// `DIRECT_XIP_BOOT_ONCE`: magic good, not booted yet, not confirmed: a test.
    Once,
    /// `DIRECT_XIP_BOOT_REVERT`: booted once (`copy_done`), not confirmed.
    Revert,
    /// `DIRECT_XIP_BOOT_FOREVER`: confirmed (`image_ok`).
    Forever,
}

impl SlotState {
    /// From a decoded trailer: image_ok set → forever; else copy_done set → revert;
    /// else once; without good magic unset.
    pub fn of(st: &State) -> SlotState {
        match st.magic {
            Magic::Good if st.image_ok == Flag::Set => SlotState::Forever,
            Magic::Good if st.copy_done == Flag::Set => SlotState::Revert,
            Magic::Good => SlotState::Once,
            _ => SlotState::Unset,
        }
    }
}

/// `bootutil_max_image_size` in direct-XIP (`bootutil_misc.c` @2d4bacc3:
/// `boot_swap_info_off(fap)`): an image may reach up to the trailer's swap_info field,
/// `S - 40` with `BOOT_MAX_ALIGN` 8.
pub fn max_image_size(l: &Layout, slot_size: u32) -> u32 {
    l.swap_info_off(slot_size).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::super::cut::{Power, Ram, Slot, E, N};
    use super::*;
    use crate::mcuboot::image;
    use crate::mcuboot::Version;
    use crate::testing::build_image;

    /// The 16 magic bytes with `BOOT_MAX_ALIGN` 8 (`boot_img_magic`, bootutil_public.c).
    const MAGIC: [u8; 16] = trailer::MAGIC_8;
    /// Slot addresses for `IMAGE_F_ROM_FIXED`: slot 1 follows slot 0.
    const ADDR: [u32; 2] = [0x1_0000, 0x1_0000 + N as u32];

    fn v(major: u8) -> Version {
        Version {
            major,
            minor: 0,
            revision: 0,
            build: 0,
        }
    }

    /// Slot 0 holds v1 (2400 bytes of payload: 5 sectors), slot 1 v2.
    fn setup() -> [Ram; 2] {
        let mut r = [Ram::new(), Ram::new()];
        let mut buf = [0u8; N];
        for (k, f) in r.iter_mut().enumerate() {
            let n = build_image(&mut buf, v(k as u8 + 1), 2400, k as u8 + 1);
            f.program(0, &buf[..n]);
        }
        r
    }

    /// A slot 0 as `imgtool sign --pad --confirm` leaves it (what Zephyr's
    /// `CONFIG_MCUBOOT_GENERATE_CONFIRMED_IMAGE` build output holds): magic and image_ok.
    fn confirm_factory(f: &mut Ram) {
        f.program(N - 16, &MAGIC);
        f.program(N - 24, &[1]);
    }

    struct Run {
        boot: Result<Boot, SwapError>,
        skips: heapless::Vec<(u8, Skip), 4>,
    }

    fn run(r: &mut [Ram; 2], pw: &Power, revert: bool) -> Run {
        let [a, b] = r;
        let mut slots = [
            Slot {
                f: a,
                cap: N,
                power: pw,
            },
            Slot {
                f: b,
                cap: N,
                power: pw,
            },
        ];
        let mut skips = heapless::Vec::new();
        let boot = boot(
            &mut slots,
            &Layout::default(),
            revert,
            false,
            ADDR,
            |_, f| image::check_hash(f).is_ok(),
            |s, k| skips.push((s, k)).unwrap(),
        );
        Run { boot, skips }
    }

    fn request(f: &mut Ram, pw: &Power, active: bool, confirm: bool) -> Result<(), BootError> {
        let mut s = Slot {
            f,
            cap: N,
            power: pw,
        };
        set_next(&mut s, &Layout::default(), active, confirm)
    }

    fn tail(f: &Ram) -> &[u8] {
        &f.as_bytes()[N - 48..]
    }

    /// The last 48 bytes of a slot: swap_size, swap_info, copy_done, image_ok (8 bytes
    /// each with `BOOT_MAX_ALIGN` 8, docs/mcuboot.md) and the magic.
    fn want_tail(copy_done: bool, image_ok: bool, magic: bool) -> [u8; 48] {
        let mut t = [0xffu8; 48];
        if copy_done {
            t[16] = 1;
        }
        if image_ok {
            t[24] = 1;
        }
        if magic {
            t[32..].copy_from_slice(&MAGIC);
        }
        t
    }

    #[test]
    fn boots_the_higher_version_in_place_without_writing() {
        let mut r = setup();
        let orig = r.clone();
        let pw = Power::default();
        let out = run(&mut r, &pw, false);
        assert_eq!(
            out.boot,
            Ok(Boot {
                slot: Some(1),
                erased: [false; 2]
            })
        );
        assert_eq!(pw.ops.get(), 0, "direct-XIP copies nothing");
        assert_eq!(r[0].as_bytes(), orig[0].as_bytes());
        assert_eq!(r[1].as_bytes(), orig[1].as_bytes());
        // A tie goes to the first slot; v3 in slot 0 wins.
        let mut buf = [0u8; N];
        let n = build_image(&mut buf, v(2), 100, 9);
        let mut t = [Ram::new(), r[1].clone()];
        t[0].program(0, &buf[..n]);
        assert_eq!(run(&mut t, &pw, false).boot.unwrap().slot, Some(0));
        let n = build_image(&mut buf, v(3), 100, 9);
        let mut t = [Ram::new(), r[1].clone()];
        t[0].program(0, &buf[..n]);
        assert_eq!(run(&mut t, &pw, false).boot.unwrap().slot, Some(0));
        // Only one image, in slot 1.
        let mut t = [Ram::new(), r[1].clone()];
        let out = run(&mut t, &pw, false);
        assert_eq!(out.boot.unwrap().slot, Some(1));
        assert_eq!(&out.skips[..], &[(0, Skip::NoImage)]);
        // None at all.
        let mut t = [Ram::new(), Ram::new()];
        assert_eq!(run(&mut t, &pw, false).boot.unwrap().slot, None);
    }

    #[test]
    fn a_failed_image_is_erased_in_either_slot_and_the_other_boots() {
        let mut r = setup();
        let orig0 = r[0].clone();
        // Corrupt v2's payload: its hash no longer matches.
        r[1].program(100, &[0x5a]);
        let pw = Power::default();
        let out = run(&mut r, &pw, false);
        assert_eq!(
            out.boot,
            Ok(Boot {
                slot: Some(0),
                erased: [false, true]
            })
        );
        assert_eq!(&out.skips[..], &[(1, Skip::Invalid)]);
        assert!(r[1].as_bytes().iter().all(|&b| b == 0xff));
        assert_eq!(pw.ops.get(), N / E, "the whole slot, erase unit by unit");
        assert_eq!(r[0].as_bytes(), orig0.as_bytes());
        // ARE_SLOTS_EQUIVALENT: a failing slot 0 is erased too.
        let mut r = setup();
        r[0].program(100, &[0x5a]);
        r[1] = Ram::new();
        let out = run(&mut r, &Power::default(), false);
        assert_eq!(
            out.boot,
            Ok(Boot {
                slot: None,
                erased: [true, false]
            })
        );
    }

    #[test]
    fn rom_fixed_and_non_bootable_images_are_skipped_not_erased() {
        let mut r = setup();
        // v2 built for slot 0's address (ROM_FIXED, load_addr = ADDR[0]): skipped in slot 1.
        let with_header = |flags: u32, load_addr: u32| {
            let mut buf = [0u8; N];
            let n = build_image(&mut buf, v(2), 2400, 2);
            let mut h = ImageHeader::parse(&buf).unwrap();
            h.flags = flags;
            h.load_addr = load_addr;
            h.emit(&mut buf).unwrap();
            // The header is hashed: the SHA-256 TLV's value sits 8 bytes past the payload.
            let end = 32 + 2400;
            let hash: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(&buf[..end]).into();
            buf[end + 8..end + 40].copy_from_slice(&hash);
            let mut f = Ram::new();
            f.program(0, &buf[..n]);
            f
        };
        let s = with_header(flags::ROM_FIXED, ADDR[0]);
        let mut t = [r[0].clone(), s.clone()];
        let out = run(&mut t, &Power::default(), false);
        assert_eq!(out.boot.unwrap().slot, Some(0));
        assert_eq!(&out.skips[..], &[(1, Skip::RomAddress)]);
        assert_eq!(t[1].as_bytes(), s.as_bytes());
        // Built for slot 1's address: it boots there.
        let mut t = [r[0].clone(), with_header(flags::ROM_FIXED, ADDR[1])];
        assert_eq!(
            run(&mut t, &Power::default(), false).boot.unwrap().slot,
            Some(1)
        );
        // NON_BOOTABLE v2: passed over, kept.
        let s3 = with_header(flags::NON_BOOTABLE, 0);
        r[1] = s3.clone();
        let out = run(&mut r, &Power::default(), false);
        assert_eq!(out.boot.unwrap().slot, Some(0));
        assert_eq!(&out.skips[..], &[(1, Skip::NotBootable)]);
        assert_eq!(r[1].as_bytes(), s3.as_bytes());
    }

    /// The trailer bytes of a test-and-revert cycle in direct-XIP-revert, from
    /// mcu-tools/mcuboot @2d4bacc3:
    /// - test request (`boot_set_next(fa, false, false)`, bootutil_public.c, DIRECT_XIP
    ///   build): the magic only, `77 c2 95 f3 ...` in the last 16 bytes;
    /// - first boot (`boot_select_or_erase`, loader.c): copy_done `01` at `S - 32` (the
    ///   confirmed slot 0, flashed with magic and image_ok, gets the same when it boots);
    /// - second boot: copy_done set, image_ok unset → the whole slot 1 erased; slot 0 boots.
    #[test]
    fn revert_cycle_trailer_bytes() {
        let mut r = setup();
        confirm_factory(&mut r[0]);
        let pw = Power::default();
        // Factory state boots slot 0 (slot 1 has no magic: erased, as MCUboot does).
        let mut t = r.clone();
        let out = run(&mut t, &Power::default(), true);
        assert_eq!(
            out.boot,
            Ok(Boot {
                slot: Some(0),
                erased: [false, true]
            })
        );
        assert_eq!(&out.skips[..], &[(1, Skip::Unmarked)]);
        assert_eq!(tail(&t[0]), &want_tail(true, true, true)[..]);

        request(&mut r[1], &pw, false, false).unwrap();
        assert_eq!(tail(&r[1]), &want_tail(false, false, true)[..]);
        let ops = pw.ops.get();
        assert_eq!(ops, 1, "one write: the magic");
        let out = run(&mut r, &pw, true);
        assert_eq!(out.boot.unwrap().slot, Some(1));
        assert_eq!(tail(&r[1]), &want_tail(true, false, true)[..]);
        assert_eq!(pw.ops.get(), ops + 1, "one write: copy_done");
        // Not confirmed: the next boot erases it and goes back to slot 0.
        let out = run(&mut r, &pw, true);
        assert_eq!(
            out.boot,
            Ok(Boot {
                slot: Some(0),
                erased: [false, true]
            })
        );
        assert_eq!(&out.skips[..], &[(1, Skip::Unconfirmed)]);
        assert!(r[1].as_bytes().iter().all(|&b| b == 0xff));
        assert_eq!(tail(&r[0]), &want_tail(true, true, true)[..]);
    }

    /// Confirming the running test image (`boot_set_next(fa, true, _)`): image_ok `01`
    /// at `S - 24`, copy_done already set by the boot; it then keeps booting. A permanent
    /// request on an unmarked slot writes magic, copy_done and image_ok, in that order.
    #[test]
    fn confirm_and_permanent_bytes() {
        let mut r = setup();
        confirm_factory(&mut r[0]);
        let pw = Power::default();
        request(&mut r[1], &pw, false, false).unwrap();
        assert_eq!(run(&mut r, &pw, true).boot.unwrap().slot, Some(1));
        let before = pw.ops.get();
        request(&mut r[1], &pw, true, false).unwrap();
        assert_eq!(pw.ops.get(), before + 1);
        assert_eq!(tail(&r[1]), &want_tail(true, true, true)[..]);
        for _ in 0..3 {
            assert_eq!(run(&mut r, &pw, true).boot.unwrap().slot, Some(1));
        }
        // A second confirmation writes nothing.
        let before = pw.ops.get();
        request(&mut r[1], &pw, true, true).unwrap();
        assert_eq!(pw.ops.get(), before);

        let mut f = setup()[1].clone();
        let pw = Power::default();
        request(&mut f, &pw, false, true).unwrap();
        assert_eq!(pw.ops.get(), 3);
        assert_eq!(tail(&f), &want_tail(true, true, true)[..]);
        // A bad magic refuses.
        let mut g = setup()[1].clone();
        g.program(N - 16, &[0u8; 16]);
        assert_eq!(request(&mut g, &pw, false, false), Err(BootError::BadImage));
        assert_eq!(SlotState::of(&State::ERASED), SlotState::Unset);
    }

    #[test]
    fn slot_states_and_size_limit() {
        let good = |image_ok, copy_done| State {
            magic: Magic::Good,
            image_ok,
            copy_done,
            ..State::ERASED
        };
        assert_eq!(
            SlotState::of(&good(Flag::Unset, Flag::Unset)),
            SlotState::Once
        );
        assert_eq!(
            SlotState::of(&good(Flag::Unset, Flag::Set)),
            SlotState::Revert
        );
        assert_eq!(
            SlotState::of(&good(Flag::Set, Flag::Set)),
            SlotState::Forever
        );
        assert_eq!(
            SlotState::of(&good(Flag::Set, Flag::Unset)),
            SlotState::Forever
        );
        let bad = State {
            magic: Magic::Bad,
            image_ok: Flag::Set,
            ..State::ERASED
        };
        assert_eq!(SlotState::of(&bad), SlotState::Unset);
        assert_eq!(max_image_size(&Layout::default(), 0x60000), 0x60000 - 40);
        let l32 = Layout {
            max_align: 32,
            ..Layout::default()
        };
        assert_eq!(max_image_size(&l32, 0x60000), 0x60000 - 128);
    }

    /// What one cut run must end in: slot 0's confirmed v1 intact, and slot 1 without a
    /// valid header. The uncut run erases slot 1 whole; a cut in that erase leaves the
    /// rest of it (its trailer among it) as it was, which MCUboot leaves alone in these
    /// modes (the trailer scrub of `boot_validate_slot` is built for the swap modes only,
    /// loader.c @2d4bacc3) and an upload erases.
    fn ends_reverted(r: &mut [Ram; 2], v1: &[u8]) -> bool {
        let pw = Power::default();
        let [a, b] = r;
        let mut s = Slot {
            f: b,
            cap: N,
            power: &pw,
        };
        a.as_bytes()[..v1.len()] == *v1 && valid_header(&mut s) == Ok(None)
    }

    /// A power cut at every flash operation of the direct-XIP-revert cycle (mark slot 1
    /// for test, boot it, boot again without confirming), torn (half done) and whole
    /// (lost), then power back and the rest of the cycle: every run boots, never loses
    /// the confirmed v1 in slot 0, and ends as the uncut run.
    #[test]
    fn power_cut_at_every_operation_of_a_revert_cycle() {
        let mut r0 = setup();
        confirm_factory(&mut r0[0]);
        // The factory boot: slot 0 gets copy_done (slot 1 has no magic and is erased:
        // put v2 back after it, as an upload would).
        let v2 = r0[1].clone();
        run(&mut r0, &Power::default(), true).boot.unwrap();
        r0[1] = v2;
        let v1_len = 32 + 2400 + 40;
        let v1: heapless::Vec<u8, N> = r0[0].as_bytes()[..v1_len].iter().copied().collect();
        let uncut = |r: &mut [Ram; 2], pw: &Power| -> heapless::Vec<Option<u8>, 4> {
            let mut slots = heapless::Vec::new();
            if request(&mut r[1], pw, false, false).is_err() {
                return slots;
            }
            for _ in 0..2 {
                match run(r, pw, true).boot {
                    Ok(b) => slots.push(b.slot).unwrap(),
                    Err(_) => return slots,
                }
            }
            slots
        };
        let mut clean = r0.clone();
        let pw = Power::default();
        assert_eq!(&uncut(&mut clean, &pw)[..], &[Some(1), Some(0)]);
        let total = pw.ops.get();
        // Magic, copy_done, then slot 1's erase units.
        assert_eq!(total, 2 + N / E);
        assert!(ends_reverted(&mut clean, &v1));
        assert!(clean[1].as_bytes().iter().all(|&b| b == 0xff));
        let mut test_ran = 0;
        let mut leftover = 0;
        for whole in [false, true] {
            for k in 0..total {
                let mut r = r0.clone();
                let pw = Power::default();
                pw.whole.set(whole);
                pw.cut_at.set(Some(k));
                let booted = uncut(&mut r, &pw);
                assert!(pw.dead.get(), "cut {k} never happened");
                // Power back: boot until the device settles (MCUboot finds nothing to
                // erase), as the rest of the cycle would.
                let on = Power::default();
                let first = run(&mut r, &on, true).boot.unwrap();
                assert!(first.slot.is_some(), "cut {k} (whole {whole}): bricked");
                let again = run(&mut r, &on, true).boot.unwrap();
                let settled = run(&mut r, &on, true).boot.unwrap();
                assert_eq!(settled.slot, Some(0), "cut {k} (whole {whole})");
                assert_eq!(settled.erased, [false, false]);
                assert!(ends_reverted(&mut r, &v1), "cut {k} (whole {whole})");
                if r[1].as_bytes().iter().any(|&b| b != 0xff) {
                    // Only a cut inside slot 1's erase leaves anything of it.
                    assert!(k >= 2, "cut {k} (whole {whole})");
                    leftover += 1;
                }
                if booted.contains(&Some(1)) || first.slot == Some(1) || again.slot == Some(1) {
                    test_ran += 1;
                }
            }
        }
        // Cut while writing the magic: the test is lost (slot 1 erased as unmarked, torn
        // or not); from the copy_done write on, v2 runs once before the revert.
        assert_eq!(test_ran, 2 * (total - 1));
        assert!(leftover > 0);
        std::println!(
            "{total} cuts per mode; the test image ran in {test_ran} of {}; {leftover} left \
             part of slot 1 unerased (no valid header)",
            2 * total
        );
    }
}
