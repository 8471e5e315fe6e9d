//! MCUboot trailers over arbitrary flash contents: decoding (`trailer::read`), the swap-type
//! table, and the application's writes through `TrailerBoot` (`boot_set_next`).
//!
//! Input: byte 0 picks the layout (bits 0..1: `BOOT_MAX_ALIGN` 8, 16, 32 or 8 with bit 2
//! choosing the erased value 0xff or 0x00), the next 2 × 128 bytes are the last 128 bytes
//! of the primary and secondary slots (the rest stays erased), every further byte is an
//! operation (`op % 6`: test upgrade, permanent upgrade, confirm, erase the secondary's
//! trailer, write `copy_done` and `swap_size` to the primary, erase the primary's trailer).
//!
//! What must hold: decoding never fails and is stable; the boot control's swap type and
//! confirmation are the table's over the decoded trailers; row 0 (swap-offset mode) only
//! ever adds a revert; a scheduled upgrade leaves a good magic, a `swap_info` of the kind
//! asked for and (unless `image_ok` held a stray byte) a test or permanent swap; a
//! successful confirm leaves the primary confirmed unless its `image_ok` byte was already
//! neither erased nor 1; nothing is ever written or erased outside the trailer's erase
//! sectors.
#![no_main]

use core::cell::RefCell;

use embedded_storage::nor_flash::ReadNorFlash;
use libfuzzer_sys::fuzz_target;
use smp::mcuboot::trailer::{self, Flag, Layout, Magic, State, TrailerBoot};
use smp::platform::{BootControl, SharedFlash, SwapType};
use smp::testing::RamFlash;

const S: usize = 2048;
const TAIL: usize = 128;
type Flash = RamFlash<S, 8, 256>;

fn state(f: &RefCell<Flash>, l: &Layout) -> State {
    let a = trailer::read(&mut SharedFlash(f), l).expect("trailer read failed");
    let b = trailer::read(&mut SharedFlash(f), l).unwrap();
    assert_eq!(a, b, "trailer read not stable");
    a
}

fn contents(f: &RefCell<Flash>) -> [u8; S] {
    let mut b = [0u8; S];
    f.borrow_mut().read(0, &mut b).unwrap();
    b
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let layout = Layout {
        max_align: [8, 16, 32, 8][usize::from(sel & 3)],
        erased: if sel & 4 == 0 { 0xff } else { 0x00 },
    };
    let slots: [RefCell<Flash>; 2] = Default::default();
    let (tails, ops) = rest.split_at(rest.len().min(2 * TAIL));
    for (i, t) in tails.chunks(TAIL).enumerate() {
        let mut b = [layout.erased; S];
        b[S - TAIL..S - TAIL + t.len()].copy_from_slice(t);
        slots[i].borrow_mut().program(0, &b);
    }
    // The trailer's erase sectors: nothing before them may ever change.
    let keep = trailer_start(&layout);
    let before = [contents(&slots[0]), contents(&slots[1])];
    let mut boot = TrailerBoot::new([SharedFlash(&slots[0]), SharedFlash(&slots[1])], layout);

    for &op in ops.iter().take(16) {
        let p = state(&slots[0], &layout);
        let s = state(&slots[1], &layout);
        let ty = trailer::swap_type(&p, &s, false);
        assert_eq!(boot.swap_type(0), Ok(ty));
        let offset = trailer::swap_type(&p, &s, true);
        if offset != ty {
            assert_eq!(offset, SwapType::Revert);
            assert_eq!(
                (s.magic, s.image_ok, s.copy_done),
                (Magic::Good, Flag::Unset, Flag::Set)
            );
        }
        assert_eq!(boot.is_confirmed(0), Ok(trailer::is_confirmed(&p)));
        assert_eq!(
            trailer::is_confirmed(&p),
            p.magic == Magic::Unset || p.image_ok == Flag::Set
        );
        let _ = trailer::read_swap_size(&mut SharedFlash(&slots[0]), &layout).unwrap();

        match op % 6 {
            k @ (0 | 1) => {
                let permanent = k == 1;
                let old = contents(&slots[1]);
                let r = boot.request_upgrade(0, permanent);
                let s2 = state(&slots[1], &layout);
                match (s.magic, r) {
                    (Magic::Good, r) => {
                        assert_eq!(r, Ok(()));
                        assert_eq!(contents(&slots[1]), old, "scheduled twice");
                    }
                    (Magic::Bad, r) => assert!(r.is_err()),
                    (Magic::Unset, Ok(())) => {
                        assert_eq!(s2.magic, Magic::Good);
                        let t = trailer::swap_type(&p, &s2, false);
                        if permanent {
                            assert_eq!(t, SwapType::Perm);
                            assert_eq!(s2.swap_type, SwapType::Perm);
                        } else {
                            assert_eq!(s2.swap_type, SwapType::Test);
                            // MCUboot's boot_set_next writes magic and swap_info without
                            // looking at image_ok (mcu-tools/mcuboot
                            // boot/bootutil/src/bootutil_public.c @ 70acb8de): a stray
                            // image_ok byte leaves the table to the primary's trailer.
                            if s.image_ok != Flag::Bad {
                                assert!(t == SwapType::Test || t == SwapType::Perm, "{t:?}");
                            }
                        }
                    }
                    (Magic::Unset, Err(_)) => {}
                }
            }
            2 => {
                if boot.confirm(0).is_ok() {
                    let p2 = state(&slots[0], &layout);
                    assert!(
                        trailer::is_confirmed(&p2)
                            || (p.magic == Magic::Good && p.image_ok == Flag::Bad),
                        "confirm succeeded but {p2:?}"
                    );
                }
            }
            3 => {
                if trailer::erase_trailer(&mut SharedFlash(&slots[1]), &layout).is_ok() {
                    let s2 = state(&slots[1], &layout);
                    if layout.erased == 0xff {
                        assert_eq!(s2, State::ERASED);
                    }
                }
            }
            4 => {
                let f = &mut SharedFlash(&slots[0]);
                if trailer::write_copy_done(f, &layout).is_ok() {
                    assert_eq!(state(&slots[0], &layout).copy_done, Flag::Set);
                }
                let v = u32::from(op);
                if trailer::write_swap_size(f, &layout, v).is_ok() {
                    assert_eq!(trailer::read_swap_size(f, &layout), Ok(Some(v)));
                }
            }
            _ => {
                let _ = trailer::erase_trailer(&mut SharedFlash(&slots[0]), &layout);
            }
        }
        for i in 0..2 {
            assert_eq!(
                &contents(&slots[i])[..keep],
                &before[i][..keep],
                "write outside the trailer of slot {i}"
            );
        }
    }
});

/// Start of the erase sector holding `swap_size`, the lowest trailer field.
fn trailer_start(l: &Layout) -> usize {
    let off = l.swap_size_off(S as u32).unwrap() as usize;
    off - off % 256
}
