//! Image group tests in MCUboot's direct-XIP modes ([`DirectXip`]): the running slot,
//! where uploads and erases go, what test and confirm do, the image list flags, with
//! MCUboot's boot ([`xip::boot`]) between sessions.

use core::cell::RefCell;

use sha2::{Digest, Sha256};

use super::*;
use crate::mcuboot::trailer::{self, TrailerBoot};
use crate::mcuboot::Version;
use crate::platform::SharedFlash;
use crate::server::{Config as ServerConfig, Params};
use crate::testing::{body, build_image, err, field, image_state as state, Client, RamFlash};
use crate::wire::{Op, Version as SmpVersion};

const SLOT: usize = 0x4000;
type Flash = RamFlash<SLOT, 8, 256>;
type Img<'a> = ImgGroup<SharedFlash<'a, Flash>, TrailerBoot<SharedFlash<'a, Flash>, 2>, 2>;
type Buf = crate::testing::Bytes;

const MAGIC: [u8; 16] = trailer::MAGIC_8;

fn image(ver: &str, payload: u32, seed: u8) -> Buf {
    let mut b = [0u8; 4096];
    let n = build_image(&mut b, Version::parse(ver).unwrap(), payload, seed);
    Buf::from_slice(&b[..n]).unwrap()
}

fn hash_of(img: &[u8]) -> [u8; 32] {
    image::inspect(&mut crate::mcuboot::Bytes(img))
        .unwrap()
        .hash
}

/// The image group of a boot that runs image 0 from `active`.
fn group(c: &[RefCell<Flash>; 2], mode: DirectXip, active: u8) -> Img<'_> {
    let slots = || [SharedFlash(&c[0]), SharedFlash(&c[1])];
    let mut boot = TrailerBoot::new(slots(), trailer::Layout::default());
    boot.active = active;
    ImgGroup::new(
        slots(),
        boot,
        Config {
            direct_xip: mode,
            ..Config::default()
        },
    )
}

/// MCUboot at reset: the slot it boots.
fn reset(c: &[RefCell<Flash>; 2], revert: bool) -> u8 {
    let mut slots = [SharedFlash(&c[0]), SharedFlash(&c[1])];
    xip::boot(
        &mut slots,
        &trailer::Layout::default(),
        revert,
        false,
        [0, SLOT as u32],
        |_, f| image::check_hash(f).is_ok(),
        |_, _| {},
    )
    .unwrap()
    .slot
    .expect("a slot boots")
}

fn send(g: &mut dyn Group, write: bool, id: u8, payload: &[u8]) -> Buf {
    let mut client: Client<'_, 2> = Client::new(ServerConfig {
        params: Params {
            buf_size: 2048,
            buf_count: 2,
        },
        support_v1: true,
    });
    client.register(g);
    client.version = SmpVersion::V2;
    let op = if write { Op::Write } else { Op::Read };
    client.request(op, group::IMAGE, id, payload)
}

fn upload(g: &mut dyn Group, img: &[u8]) -> Buf {
    let sha: [u8; 32] = Sha256::digest(img).into();
    let b = body(|e| {
        e.str("off")?.u32(0)?;
        e.str("data")?.bytes(img)?;
        e.str("len")?.u32(img.len() as u32)?;
        e.str("sha")?.bytes(&sha)?;
        Ok(())
    });
    send(g, true, cmd::UPLOAD, &b)
}

/// `(slot, version, flags)` of every listed image.
fn list(g: &mut dyn Group) -> heapless::Vec<(u8, heapless::String<16>, heapless::String<64>), 2> {
    state(&send(g, false, cmd::STATE, &[0xa0]))
        .into_iter()
        .map(|e| (e.slot, e.version, e.flags))
        .collect()
}

fn entry(slot: u8, ver: &str, flags: &str) -> (u8, heapless::String<16>, heapless::String<64>) {
    (slot, ver.try_into().unwrap(), flags.try_into().unwrap())
}

fn test_req(hash: &[u8]) -> Buf {
    body(|e| {
        e.str("hash")?.bytes(hash)?;
        Ok(())
    })
}

fn confirm_req(hash: Option<&[u8]>) -> Buf {
    body(|e| {
        if let Some(h) = hash {
            e.str("hash")?.bytes(h)?;
        }
        e.str("confirm")?.bool(true)?;
        Ok(())
    })
}

fn tail(c: &RefCell<Flash>) -> [u8; 48] {
    c.borrow().as_bytes()[SLOT - 48..].try_into().unwrap()
}

/// Plain direct-XIP (`CONFIG_MCUBOOT_BOOTLOADER_MODE_DIRECT_XIP`): a higher version in
/// the other slot is "pending permanent" as soon as it is there; there is no state write
/// (Zephyr's `.mh_write = NULL`: rc 8, nothing written); after the reset it runs from slot
/// 1 and the next upload goes to slot 0.
#[test]
fn plain_direct_xip_runs_from_slot_1_and_uploads_to_slot_0() {
    let c: [RefCell<Flash>; 2] = Default::default();
    let (a, b, d) = (
        image("1.0.0", 3000, 1),
        image("2.0.0", 2500, 2),
        image("3.0.0", 2000, 3),
    );
    c[0].borrow_mut().program(0, &a);
    let mut g = group(&c, DirectXip::Plain, 0);
    assert_eq!(field(&upload(&mut g, &b), "match"), Some(1));
    assert_eq!(&c[1].borrow().as_bytes()[..b.len()], &b[..]);
    assert_eq!(
        &list(&mut g)[..],
        &[
            entry(0, "1.0.0", "bootable confirmed active "),
            entry(1, "2.0.0", "bootable pending permanent "),
        ]
    );
    let hb = hash_of(&b);
    let before = c.clone();
    for req in [
        test_req(&hb),
        confirm_req(Some(&hb)),
        confirm_req(None),
        Buf::from_slice(&[0xa0]).unwrap(),
    ] {
        let rsp = send(&mut g, true, cmd::STATE, &req);
        assert_eq!((field(&rsp, "rc"), err(&rsp)), (Some(8), None));
    }
    assert_eq!(c[0].borrow().as_bytes(), before[0].borrow().as_bytes());
    assert_eq!(c[1].borrow().as_bytes(), before[1].borrow().as_bytes());
    assert_eq!(tail(&c[1]), [0xff; 48], "nothing written");

    // MCUboot boots slot 1 in place; slot 0 is untouched.
    assert_eq!(reset(&c, false), 1);
    assert_eq!(c[0].borrow().as_bytes(), before[0].borrow().as_bytes());
    let mut g = group(&c, DirectXip::Plain, 1);
    assert_eq!(
        &list(&mut g)[..],
        &[
            entry(0, "1.0.0", "bootable "),
            entry(1, "2.0.0", "bootable confirmed active "),
        ]
    );
    // The running slot cannot be erased; the default erase is slot 0.
    let erase1 = body(|e| {
        e.str("slot")?.u32(1)?;
        Ok(())
    });
    assert_eq!(err(&send(&mut g, true, cmd::ERASE, &erase1)), Some(9));
    assert_eq!(err(&send(&mut g, true, cmd::ERASE, &[0xa0])), None);
    assert!(c[0].borrow().as_bytes().iter().all(|&x| x == 0xff));
    // The next upload goes to slot 0, and boots from there.
    assert_eq!(field(&upload(&mut g, &d), "match"), Some(1));
    assert_eq!(&c[0].borrow().as_bytes()[..d.len()], &d[..]);
    assert_eq!(
        list(&mut g)[0],
        entry(0, "3.0.0", "bootable pending permanent ")
    );
    let info = send(&mut g, false, cmd::SLOT_INFO, &[0xa0]);
    assert!(info.windows(15).any(|w| w == b"upload_image_id"));
    assert_eq!(reset(&c, false), 0);
}

/// Direct-XIP with revert: upload (unmarked), test (magic only), reset (runs from slot 1,
/// unconfirmed: slot 0 is the revert target, neither uploadable nor erasable), and
/// either confirm (image_ok) or reset again (slot 1 erased, slot 0 runs).
#[test]
fn direct_xip_revert_test_confirm_and_revert() {
    let c: [RefCell<Flash>; 2] = Default::default();
    let (a, b) = (image("1.0.0", 3000, 1), image("2.0.0", 2500, 2));
    c[0].borrow_mut().program(0, &a);
    // `imgtool sign --pad --confirm`: magic and image_ok; its first boot adds copy_done.
    c[0].borrow_mut().program(SLOT - 16, &MAGIC);
    c[0].borrow_mut().program(SLOT - 24, &[1]);
    assert_eq!(reset(&c, true), 0);
    let mut g = group(&c, DirectXip::Revert, 0);
    assert_eq!(field(&upload(&mut g, &b), "match"), Some(1));
    // Unmarked: MCUboot would erase it, img_mgmt lists it without flags.
    assert_eq!(
        &list(&mut g)[..],
        &[
            entry(0, "1.0.0", "bootable confirmed active "),
            entry(1, "2.0.0", "bootable "),
        ]
    );
    let hb = hash_of(&b);
    assert_eq!(err(&send(&mut g, true, cmd::STATE, &test_req(&hb))), None);
    let mut want = [0xffu8; 48];
    want[32..].copy_from_slice(&MAGIC);
    assert_eq!(tail(&c[1]), want, "test: the magic only");
    assert_eq!(list(&mut g)[1], entry(1, "2.0.0", "bootable pending "));
    let tested = c.clone();

    assert_eq!(reset(&c, true), 1);
    want[16] = 1;
    assert_eq!(tail(&c[1]), want, "booted once: copy_done");
    let mut g = group(&c, DirectXip::Revert, 1);
    assert_eq!(
        &list(&mut g)[..],
        &[
            entry(0, "1.0.0", "bootable confirmed "),
            entry(1, "2.0.0", "bootable active "),
        ]
    );
    assert_eq!(err(&upload(&mut g, &a)), Some(9));
    assert_eq!(err(&send(&mut g, true, cmd::ERASE, &[0xa0])), Some(9));
    // Test on the running slot: refused (33).
    assert_eq!(
        err(&send(&mut g, true, cmd::STATE, &test_req(&hb))),
        Some(33)
    );

    // Branch 1: not confirmed, reset: slot 1 erased, v1 runs again from slot 0.
    let unconfirmed = c.clone();
    assert_eq!(reset(&unconfirmed, true), 0);
    assert!(unconfirmed[1]
        .borrow()
        .as_bytes()
        .iter()
        .all(|&x| x == 0xff));
    assert_eq!(
        unconfirmed[0].borrow().as_bytes(),
        tested[0].borrow().as_bytes()
    );

    // Branch 2: confirmed (no hash: the running slot): image_ok at S - 24.
    assert_eq!(
        err(&send(&mut g, true, cmd::STATE, &confirm_req(None))),
        None
    );
    want[24] = 1;
    assert_eq!(tail(&c[1]), want);
    assert_eq!(
        &list(&mut g)[..],
        &[
            entry(0, "1.0.0", "bootable "),
            entry(1, "2.0.0", "bootable confirmed active "),
        ]
    );
    assert_eq!(reset(&c, true), 1);
    // Slot 0 is free again: an older image goes there and is never chosen over v2.
    let mut g = group(&c, DirectXip::Revert, 1);
    assert_eq!(err(&send(&mut g, true, cmd::ERASE, &[0xa0])), None);
    assert_eq!(field(&upload(&mut g, &a), "match"), Some(1));
    let ha = hash_of(&a);
    assert_eq!(
        err(&send(&mut g, true, cmd::STATE, &confirm_req(Some(&ha)))),
        None
    );
    assert_eq!(list(&mut g)[0], entry(0, "1.0.0", "bootable "));
    assert_eq!(reset(&c, true), 1);
}
