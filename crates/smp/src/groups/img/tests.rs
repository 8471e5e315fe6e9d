//! Image group tests: byte vectors, upload/resume/confirm/revert over RAM flash, rejects.

use core::cell::RefCell;

use sha2::{Digest, Sha256};

use super::*;
use crate::mcuboot::trailer::{self, TrailerBoot};
use crate::mcuboot::Version;
use crate::platform::SharedFlash;
use crate::server::{Config as ServerConfig, Enc, Params};
use crate::testing::{
    body, build_image, err, field, image_state as state, Client, EncResult, RamFlash,
};
use crate::wire::{Op, Version as SmpVersion};

const SLOT: usize = 0x4000;
type Flash = RamFlash<SLOT, 8, 256>;
type Slot<'a> = SharedFlash<'a, Flash>;
type Img<'a> = ImgGroup<Slot<'a>, TrailerBoot<Slot<'a>, 4>, 4>;

type Buf = crate::testing::Bytes;

fn v(s: &str) -> Version {
    Version::parse(s).unwrap()
}

fn cells() -> [RefCell<Flash>; 4] {
    core::array::from_fn(|_| RefCell::new(Flash::new()))
}

fn group<'a>(c: &'a [RefCell<Flash>; 4], config: Config) -> Img<'a> {
    let slots = || core::array::from_fn(|i| SharedFlash(&c[i]));
    ImgGroup::new(
        slots(),
        TrailerBoot::new(slots(), trailer::Layout::default()),
        config,
    )
}

/// Four empty slots but the first, which holds a factory image (1.0.0, 100 bytes of
/// payload) as a fresh board does.
fn factory() -> [RefCell<Flash>; 4] {
    let c = cells();
    program(&c, 0, &image("1.0.0", 100, 9));
    c
}

/// Factory-programs `image` into slot `slot`.
fn program(c: &[RefCell<Flash>; 4], slot: usize, image: &[u8]) {
    c[slot].borrow_mut().program(0, image);
}

fn image(ver: &str, payload: u32, seed: u8) -> Buf {
    let mut b = [0u8; 4096];
    let n = build_image(&mut b, v(ver), payload, seed);
    Buf::from_slice(&b[..n]).unwrap()
}

/// Sends one request (v2 unless `v1`, sequence 7, 2048-byte buffers) through the one
/// test client; returns the checked response packet.
fn send(g: &mut dyn Group, v1: bool, write: bool, id: u8, payload: &[u8]) -> Buf {
    let mut client: Client<'_, 2> = Client::new(ServerConfig {
        params: Params {
            buf_size: 2048,
            buf_count: 2,
        },
        support_v1: true,
    });
    client.register(g);
    client.seq = 7;
    client.version = if v1 { SmpVersion::V1 } else { SmpVersion::V2 };
    let op = if write { Op::Write } else { Op::Read };
    client.request(op, group::IMAGE, id, payload)
}

/// The body of a state write that names `hash` (a test request, or an error probe).
fn state_req(hash: &[u8]) -> Buf {
    body(|e| {
        e.str("hash")?.bytes(hash)?;
        Ok(())
    })
}

/// The body of an upload chunk after the first: `off` and `data` only.
fn chunk(off: u32, data: &[u8]) -> Buf {
    body(|e| {
        e.str("off")?.u32(off)?;
        e.str("data")?.bytes(data)?;
        Ok(())
    })
}

fn hash_of(img: &[u8]) -> [u8; 32] {
    let info = image::inspect(&mut crate::mcuboot::Bytes(img)).unwrap();
    info.hash
}

/// Uploads `img` in `chunk`-byte pieces; returns the last response.
fn upload(
    g: &mut dyn Group,
    img: &[u8],
    chunk: usize,
    extra: impl Fn(&mut Enc<'_>) -> EncResult,
) -> Buf {
    let sha: [u8; 32] = Sha256::digest(img).into();
    let mut off = 0;
    let mut last = Buf::new();
    while off < img.len() {
        let n = chunk.min(img.len() - off);
        let b = body(|e| {
            e.str("off")?.u32(off as u32)?;
            e.str("data")?.bytes(&img[off..off + n])?;
            if off == 0 {
                e.str("len")?.u32(img.len() as u32)?;
                e.str("sha")?.bytes(&sha)?;
                extra(e)?;
            }
            Ok(())
        });
        last = send(g, false, true, cmd::UPLOAD, &b);
        if err(&last).is_some() {
            return last;
        }
        assert_eq!(field(&last, "off"), Some((off + n) as u64));
        off += n;
    }
    last
}

#[test]
fn tv9_upload_replies() {
    let c = cells();
    let mut g = group(&c, Config::default());
    let img = image("1.0.0", 1024 - 72, 1);
    assert_eq!(img.len(), 1024);
    let sha: [u8; 32] = Sha256::digest(&img).into();
    let first = body(|e| {
        e.str("off")?.u32(0)?;
        e.str("data")?.bytes(&img[..512])?;
        e.str("len")?.u32(1024)?;
        e.str("sha")?.bytes(&sha)?;
        Ok(())
    });
    let rsp = send(&mut g, false, true, cmd::UPLOAD, &first);
    assert_eq!(
        &rsp[..],
        &[0x0b, 0, 0, 0x09, 0, 1, 7, 1, 0xbf, 0x63, b'o', b'f', b'f', 0x19, 0x02, 0x00, 0xff]
    );
    let second = chunk(512, &img[512..]);
    let rsp = send(&mut g, false, true, cmd::UPLOAD, &second);
    assert_eq!(
        &rsp[..],
        &[
            0x0b, 0, 0, 0x10, 0, 1, 7, 1, 0xbf, 0x63, b'o', b'f', b'f', 0x19, 0x04, 0x00, 0x65,
            b'm', b'a', b't', b'c', b'h', 0xf5, 0xff
        ]
    );
    assert_eq!(&c[1].borrow().as_bytes()[..1024], &img[..]);
    // data < 32 bytes
    let short = body(|e| {
        e.str("off")?.u32(0)?;
        e.str("data")?.bytes(b"123")?;
        e.str("len")?.u32(3)?;
        Ok(())
    });
    let rsp = send(&mut g, false, true, cmd::UPLOAD, &short);
    assert_eq!(
        &rsp[..],
        &[
            0x0b, 0, 0, 0x13, 0, 1, 7, 1, 0xbf, 0x63, b'e', b'r', b'r', 0xbf, 0x65, b'g', b'r',
            b'o', b'u', b'p', 0x01, 0x62, b'r', b'c', 0x16, 0xff, 0xff
        ]
    );
    // The same in SMP v1: rc 3.
    let rsp = send(&mut g, true, true, cmd::UPLOAD, &short);
    assert_eq!(&rsp[8..], &[0xbf, 0x62, b'r', b'c', 0x03, 0xff]);
}

#[test]
fn state_read_factory_image() {
    let c = cells();
    let a = image("1.0.0+7", 500, 1);
    program(&c, 0, &a);
    let mut g = group(&c, Config::default());
    let rsp = send(&mut g, false, false, cmd::STATE, &[0xbf, 0xff]);
    let st = state(&rsp);
    assert_eq!(st.len(), 1);
    assert_eq!(st[0].slot, 0);
    assert_eq!(st[0].image, None);
    assert_eq!(st[0].version, "1.0.0.7");
    assert_eq!(st[0].hash, hash_of(&a));
    assert_eq!(st[0].flags, "bootable confirmed active ");
}

#[test]
fn upload_test_swap_confirm_and_revert() {
    let c = cells();
    let a = image("1.0.0", 3000, 1);
    let b = image("1.1.0", 2500, 2);
    program(&c, 0, &a);
    let mut g = group(&c, Config::default());
    // Odd chunk sizes exercise the write buffering.
    let last = upload(&mut g, &b, 333, |_| Ok(()));
    assert_eq!(field(&last, "match"), Some(1));
    assert_eq!(&c[1].borrow().as_bytes()[..b.len()], &b[..]);
    let st = state(&send(&mut g, false, false, cmd::STATE, &[0xa0]));
    assert_eq!(st.len(), 2);
    assert_eq!(st[1].flags, "bootable ");
    // Test it.
    let hb = hash_of(&b);
    let req = state_req(&hb);
    let st = state(&send(&mut g, false, true, cmd::STATE, &req));
    assert_eq!(st[0].flags, "bootable confirmed active ");
    assert_eq!(st[1].flags, "bootable pending ");
    // Re-testing is a no-op; confirming the active slot now is refused.
    let st = state(&send(&mut g, false, true, cmd::STATE, &req));
    assert_eq!(st[1].flags, "bootable pending ");
    let confirm = body(|e| {
        e.str("confirm")?.bool(true)?;
        Ok(())
    });
    assert_eq!(
        err(&send(&mut g, false, true, cmd::STATE, &confirm)),
        Some(28)
    );
    // Without `allow_erase_pending`, erasing the pending slot is refused.
    let mut strict = group(
        &c,
        Config {
            allow_erase_pending: false,
            ..Config::default()
        },
    );
    assert_eq!(
        err(&send(&mut strict, false, true, cmd::ERASE, &[0xa0])),
        Some(9)
    );
    // The bootloader swaps (trailer bytes as MCUboot leaves them: docs/mcuboot.md, reset).
    swap(&c, true);
    let mut g = group(&c, Config::default());
    let st = state(&send(&mut g, false, false, cmd::STATE, &[0xa0]));
    assert_eq!(st[0].version, "1.1.0");
    assert_eq!(st[0].flags, "bootable active ");
    assert_eq!(st[1].flags, "bootable confirmed ");
    // Testing while a revert is due is refused; uploading to the revert target too.
    let ha = hash_of(&a);
    let test_a = state_req(&ha);
    assert_eq!(
        err(&send(&mut g, false, true, cmd::STATE, &test_a)),
        Some(28)
    );
    assert_eq!(err(&upload(&mut g, &b, 512, |_| Ok(()))), Some(9));
    // Confirm without hash: the running image becomes permanent.
    let st = state(&send(&mut g, false, true, cmd::STATE, &confirm));
    assert_eq!(st[0].flags, "bootable confirmed active ");
    assert_eq!(st[1].flags, "bootable ");
    assert!(g.boot().is_confirmed(0).unwrap());
}

/// Emulates a swap: exchanges the slot contents and leaves MCUboot's primary trailer.
fn swap(c: &[RefCell<Flash>; 4], test: bool) {
    let l = trailer::Layout::default();
    let mut p = c[0].borrow_mut();
    let mut s = c[1].borrow_mut();
    let pa: [u8; SLOT] = p.as_bytes().try_into().unwrap();
    let sa: [u8; SLOT] = s.as_bytes().try_into().unwrap();
    *p = Flash::new();
    *s = Flash::new();
    p.program(0, &sa[..SLOT - 256]);
    s.program(0, &pa[..SLOT - 256]);
    let ty = if test { SwapType::Test } else { SwapType::Perm };
    trailer::write_swap_info(&mut *p, &l, 0, ty).unwrap();
    if !test {
        trailer::write_image_ok(&mut *p, &l).unwrap();
    }
    trailer::write_magic(&mut *p, &l).unwrap();
    trailer::write_copy_done(&mut *p, &l).unwrap();
}

#[test]
fn permanent_request_and_set_state_errors() {
    let c = cells();
    let a = image("1.0.0", 1000, 1);
    let b = image("2.0.0", 1000, 2);
    program(&c, 0, &a);
    program(&c, 1, &b);
    let mut g = group(&c, Config::default());
    // No hash and no confirm; short hash; unknown hash; test the active slot.
    assert_eq!(
        err(&send(&mut g, false, true, cmd::STATE, &[0xa0])),
        Some(24)
    );
    let short = state_req(&[1, 2, 3]);
    assert_eq!(
        err(&send(&mut g, false, true, cmd::STATE, &short)),
        Some(24)
    );
    let unknown = state_req(&[7; 32]);
    assert_eq!(
        err(&send(&mut g, false, true, cmd::STATE, &unknown)),
        Some(8)
    );
    let ha = hash_of(&a);
    let test_a = state_req(&ha);
    assert_eq!(
        err(&send(&mut g, false, true, cmd::STATE, &test_a)),
        Some(33)
    );
    // Wrong type for hash: rc 3.
    let bad = body(|e| {
        e.str("hash")?.str("x")?;
        Ok(())
    });
    assert_eq!(
        field(&send(&mut g, false, true, cmd::STATE, &bad), "rc"),
        Some(3)
    );
    // Confirm slot 1 = permanent request: the bytes of `boot_set_next` (docs/mcuboot.md).
    let hb = hash_of(&b);
    let perm = body(|e| {
        e.str("hash")?.bytes(&hb)?;
        e.str("confirm")?.bool(true)?;
        Ok(())
    });
    let st = state(&send(&mut g, false, true, cmd::STATE, &perm));
    assert_eq!(st[1].flags, "bootable pending permanent ");
    let f1 = c[1].borrow();
    let t = &f1.as_bytes()[SLOT - 40..];
    assert_eq!(t[0], 0x03);
    assert_eq!(t[16], 0x01);
    assert_eq!(&t[24..], &trailer::MAGIC_8);
    drop(f1);
    // Confirming it again is a no-op, testing it is refused.
    send(&mut g, false, true, cmd::STATE, &perm);
    let test_b = state_req(&hb);
    assert_eq!(
        err(&send(&mut g, false, true, cmd::STATE, &test_b)),
        Some(28)
    );
}

#[test]
fn out_of_order_and_resume() {
    let c = factory();
    let mut g = group(&c, Config::default());
    let b = image("1.1.0", 2000, 2);
    let sha: [u8; 32] = Sha256::digest(&b).into();
    // No session: any offset is answered with off 0.
    let mid = chunk(100, &b[100..200]);
    assert_eq!(
        field(&send(&mut g, false, true, cmd::UPLOAD, &mid), "off"),
        Some(0)
    );
    let first = body(|e| {
        e.str("off")?.u32(0)?;
        e.str("data")?.bytes(&b[..100])?;
        e.str("len")?.u32(b.len() as u32)?;
        e.str("sha")?.bytes(&sha)?;
        Ok(())
    });
    assert_eq!(
        field(&send(&mut g, false, true, cmd::UPLOAD, &first), "off"),
        Some(100)
    );
    // A chunk from the future: answered with the expected offset, nothing written.
    let ahead = chunk(300, &b[300..400]);
    assert_eq!(
        field(&send(&mut g, false, true, cmd::UPLOAD, &ahead), "off"),
        Some(100)
    );
    assert_eq!(
        field(&send(&mut g, false, true, cmd::UPLOAD, &mid), "off"),
        Some(200)
    );
    // The client restarts with the same sha: resume at 200.
    assert_eq!(
        field(&send(&mut g, false, true, cmd::UPLOAD, &first), "off"),
        Some(200)
    );
    // Overrun.
    let over = chunk(200, &[0u8; 2048]);
    assert_eq!(
        err(&send(&mut g, false, true, cmd::UPLOAD, &over)),
        Some(31)
    );
    // The error closed the session: a full upload works.
    let last = upload(&mut g, &b, 450, |_| Ok(()));
    assert_eq!(field(&last, "match"), Some(1));
    // The same upload again: the slot already holds it.
    let again = send(&mut g, false, true, cmd::UPLOAD, &first);
    assert_eq!(field(&again, "off"), Some(b.len() as u64));
    assert_eq!(field(&again, "match"), Some(1));
}

#[test]
fn upload_rejects() {
    let c = cells();
    let a = image("1.2.0", 1000, 1);
    program(&c, 0, &a);
    let mut g = group(&c, Config::default());
    let img = image("1.3.0", 1000, 2);
    let with = |f: &dyn Fn(&mut Enc<'_>) -> EncResult| body(|e| f(e));
    // off missing
    let r = with(&|e| {
        e.str("data")?.bytes(&img[..64])?;
        Ok(())
    });
    assert_eq!(err(&send(&mut g, false, true, cmd::UPLOAD, &r)), Some(20));
    // len missing
    let r = with(&|e| {
        e.str("off")?.u32(0)?;
        e.str("data")?.bytes(&img[..64])?;
        Ok(())
    });
    assert_eq!(err(&send(&mut g, false, true, cmd::UPLOAD, &r)), Some(21));
    // not an MCUboot image
    let r = with(&|e| {
        e.str("off")?.u32(0)?;
        e.str("data")?.bytes(&[0x55; 64])?;
        e.str("len")?.u32(64)?;
        Ok(())
    });
    assert_eq!(err(&send(&mut g, false, true, cmd::UPLOAD, &r)), Some(23));
    // sha too long
    let r = with(&|e| {
        e.str("off")?.u32(0)?;
        e.str("data")?.bytes(&img[..64])?;
        e.str("len")?.u32(1072)?;
        e.str("sha")?.bytes(&[0; 33])?;
        Ok(())
    });
    assert_eq!(err(&send(&mut g, false, true, cmd::UPLOAD, &r)), Some(24));
    // too large for the slot (or, with the trailer check on, its trailer)
    let mut g_trailer = group(
        &c,
        Config {
            reject_trailer_overlap: true,
            ..Config::default()
        },
    );
    for len in [SLOT as u32 + 1, SLOT as u32 - 20] {
        let r = with(&|e| {
            e.str("off")?.u32(0)?;
            e.str("data")?.bytes(&img[..64])?;
            e.str("len")?.u32(len)?;
            Ok(())
        });
        assert_eq!(
            err(&send(&mut g_trailer, false, true, cmd::UPLOAD, &r)),
            Some(30)
        );
        if len > SLOT as u32 {
            assert_eq!(err(&send(&mut g, false, true, cmd::UPLOAD, &r)), Some(30));
        }
    }
    // upgrade with a version not newer (build number ignored)
    let older = image("1.2.0+9", 1000, 3);
    let rsp = upload(&mut g, &older, 512, |e| {
        e.str("upgrade")?.bool(true)?;
        Ok(())
    });
    assert_eq!(err(&rsp), Some(27));
    let rsp = upload(&mut g, &img, 512, |e| {
        e.str("upgrade")?.bool(true)?;
        Ok(())
    });
    assert_eq!(field(&rsp, "match"), Some(1));
    // The same image as the running one: as in Zephyr the upload succeeds, and testing it
    // fails with err 33, because its hash names the active slot.
    assert_eq!(
        field(&upload(&mut g, &a, 512, |_| Ok(())), "match"),
        Some(1)
    );
    let ha = hash_of(&a);
    let test_a = state_req(&ha);
    assert_eq!(
        err(&send(&mut g, false, true, cmd::STATE, &test_a)),
        Some(33)
    );
    // With the early check on, the upload itself is refused (err 28) and the slot cleared.
    let c_rej = cells();
    program(&c_rej, 0, &a);
    let mut g_rej = group(
        &c_rej,
        Config {
            reject_same_as_active: true,
            ..Config::default()
        },
    );
    assert_eq!(err(&upload(&mut g_rej, &a, 512, |_| Ok(()))), Some(28));
    let st = state(&send(&mut g_rej, false, false, cmd::STATE, &[0xa0]));
    assert_eq!(st.len(), 1);
    // Single image: `image` is ignored.
    let rsp = upload(&mut g, &img, 512, |e| {
        e.str("image")?.u32(1)?;
        Ok(())
    });
    assert_eq!(field(&rsp, "match"), Some(1));
    // Two images: an image number out of range has no slot.
    let mut g2 = group(
        &c,
        Config {
            images: 2,
            ..Config::default()
        },
    );
    let rsp = upload(&mut g2, &img, 512, |e| {
        e.str("image")?.u32(2)?;
        Ok(())
    });
    assert_eq!(err(&rsp), Some(9));
}

#[test]
fn garbage_never_panics() {
    let c = factory();
    let mut g = group(&c, Config::default());
    let img = image("1.1.0", 600, 2);
    let mut x = 0x1234_5678u32;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    for round in 0..3000 {
        let id = (rnd() % 8) as u8;
        let write = rnd() % 2 == 0;
        let payload = match round % 3 {
            // Random bytes.
            0 => {
                let n = (rnd() % 64) as usize;
                let v: heapless::Vec<u8, 64> = (0..n).map(|_| rnd() as u8).collect();
                Buf::from_slice(&v).unwrap()
            }
            // Plausible upload chunks at random offsets, some with a header.
            1 => {
                let off = if rnd() % 3 == 0 { 0 } else { rnd() % 800 };
                let n = (rnd() % 200) as usize;
                let start = (off as usize).min(img.len());
                let end = (start + n).min(img.len());
                body(|e| {
                    e.str("off")?.u32(off)?;
                    e.str("data")?.bytes(&img[start..end])?;
                    if rnd() % 2 == 0 {
                        e.str("len")?.u32(rnd() % 0x5000)?;
                    }
                    if rnd() % 2 == 0 {
                        let l = (rnd() % 40) as usize;
                        e.str("sha")?.bytes(&[7u8; 40][..l])?;
                    }
                    Ok(())
                })
            }
            // State, erase, slot requests with random values.
            _ => body(|e| {
                e.str("hash")?.bytes(&[rnd() as u8; 32])?;
                e.str("confirm")?.bool(rnd() % 2 == 0)?;
                e.str("slot")?.u32(rnd() % 4)?;
                Ok(())
            }),
        };
        let rsp = send(&mut g, rnd() % 2 == 0, write, id, &payload);
        assert!(rsp.len() >= 8 + 2, "round {round}: no response");
    }
}

#[test]
fn power_cut_during_upload_then_retry() {
    let c = factory();
    let mut g = group(&c, Config::default());
    let b = image("1.1.0", 3000, 2);
    c[1].borrow_mut().cut_power_after(1000);
    let rsp = upload(&mut g, &b, 256, |_| Ok(()));
    assert_eq!(err(&rsp), Some(12));
    c[1].borrow_mut().power_on();
    let rsp = upload(&mut g, &b, 256, |_| Ok(()));
    assert_eq!(field(&rsp, "match"), Some(1));
    assert_eq!(&c[1].borrow().as_bytes()[..b.len()], &b[..]);
}

#[test]
fn erase_slot() {
    let c = factory();
    program(&c, 1, &image("1.1.0", 100, 8));
    let mut g = group(&c, Config::default());
    let s0 = body(|e| {
        e.str("slot")?.u32(0)?;
        Ok(())
    });
    assert_eq!(err(&send(&mut g, false, true, cmd::ERASE, &s0)), Some(9));
    let s9 = body(|e| {
        e.str("slot")?.u32(9)?;
        Ok(())
    });
    assert_eq!(err(&send(&mut g, false, true, cmd::ERASE, &s9)), Some(14));
    let rsp = send(&mut g, false, true, cmd::ERASE, &[0xa0]);
    assert_eq!(&rsp[8..], &[0xbf, 0xff]);
    assert!(c[1].borrow().as_bytes().iter().all(|&x| x == 0xff));
    let erases = c[1].borrow().erases;
    // Already blank: no erase.
    send(&mut g, false, true, cmd::ERASE, &[0xa0]);
    assert_eq!(c[1].borrow().erases, erases);
}

#[test]
fn slot_info_and_two_images() {
    let c = factory();
    program(&c, 2, &image("3.0.0", 100, 7));
    let mut g = group(
        &c,
        Config {
            images: 2,
            ..Config::default()
        },
    );
    let rsp = send(&mut g, false, false, cmd::SLOT_INFO, &[0xa0]);
    let mut want = Buf::new();
    want.extend_from_slice(&[0xbf, 0x66]).unwrap();
    want.extend_from_slice(b"images").unwrap();
    want.push(0x9f).unwrap();
    for image in 0..2u8 {
        want.extend_from_slice(&[0xbf, 0x65]).unwrap();
        want.extend_from_slice(b"image").unwrap();
        want.push(image).unwrap();
        want.push(0x65).unwrap();
        want.extend_from_slice(b"slots").unwrap();
        want.push(0x9f).unwrap();
        for slot in 0..2u8 {
            want.extend_from_slice(&[0xbf, 0x64]).unwrap();
            want.extend_from_slice(b"slot").unwrap();
            want.push(slot).unwrap();
            want.push(0x64).unwrap();
            want.extend_from_slice(b"size").unwrap();
            want.extend_from_slice(&[0x19, 0x40, 0x00]).unwrap();
            if slot == 1 {
                want.push(0x6f).unwrap();
                want.extend_from_slice(b"upload_image_id").unwrap();
                want.push(image).unwrap();
            }
            want.push(0xff).unwrap();
        }
        want.extend_from_slice(&[0xff, 0xff]).unwrap();
    }
    want.extend_from_slice(&[0xff, 0xff]).unwrap();
    assert_eq!(&rsp[8..], &want[..]);
    // Image 1 upload goes to slot 3; state lists `image`.
    let img = image("3.1.0", 700, 3);
    let rsp = upload(&mut g, &img, 300, |e| {
        e.str("image")?.u32(1)?;
        Ok(())
    });
    assert_eq!(field(&rsp, "match"), Some(1));
    assert_eq!(&c[3].borrow().as_bytes()[..img.len()], &img[..]);
    let st = state(&send(&mut g, false, false, cmd::STATE, &[0xa0]));
    assert_eq!(st.len(), 3);
    assert_eq!((st[2].image, st[2].slot), (Some(1), 1));
    assert_eq!(st[1].flags, "bootable confirmed active ");
    // Confirming image 1's running slot is denied unless configured.
    let h1 = st[1].hash;
    let conf = body(|e| {
        e.str("hash")?.bytes(&h1)?;
        e.str("confirm")?.bool(true)?;
        Ok(())
    });
    assert_eq!(err(&send(&mut g, false, true, cmd::STATE, &conf)), Some(32));
    let mut g2 = group(
        &c,
        Config {
            images: 2,
            confirm_any_image: true,
            ..Config::default()
        },
    );
    let st2 = state(&send(&mut g2, false, true, cmd::STATE, &conf));
    assert_eq!(st2[1].flags, "bootable confirmed active ");
    // Testing image 1 writes swap_info 0x12 into slot 3.
    let h = hash_of(&img);
    let t = state_req(&h);
    let st = state(&send(&mut g, false, true, cmd::STATE, &t));
    assert_eq!(st[2].flags, "bootable pending ");
    assert_eq!(c[3].borrow().as_bytes()[SLOT - 40], 0x12);
}

#[test]
fn direct_upload() {
    let c = factory();
    let mut g = group(
        &c,
        Config {
            images: 2,
            direct_upload: true,
            ..Config::default()
        },
    );
    let img = image("1.1.0", 700, 3);
    // image = slot + 1: slot 0 is running, refused.
    let rsp = upload(&mut g, &img, 300, |e| {
        e.str("image")?.u32(1)?;
        Ok(())
    });
    assert_eq!(err(&rsp), Some(9));
    assert_eq!(&c[0].borrow().as_bytes()[..4], &IMAGE_MAGIC.to_le_bytes());
    let rsp = upload(&mut g, &img, 300, |e| {
        e.str("image")?.u32(4)?;
        Ok(())
    });
    assert_eq!(field(&rsp, "match"), Some(1));
    assert_eq!(&c[3].borrow().as_bytes()[..img.len()], &img[..]);
    let rsp = send(&mut g, false, false, cmd::SLOT_INFO, &[0xa0]);
    let ids = rsp
        .windows(16)
        .filter(|w| &w[1..] == b"upload_image_id")
        .count();
    assert_eq!(ids, 4);
}

#[test]
fn frugal_list_and_unsupported_commands() {
    let c = factory();
    let mut g = group(
        &c,
        Config {
            frugal_list: true,
            ..Config::default()
        },
    );
    let rsp = send(&mut g, false, false, cmd::STATE, &[0xa0]);
    assert!(!rsp.windows(11).any(|w| w == b"splitStatus"));
    assert!(!rsp.windows(7).any(|w| w == b"pending"));
    for id in [cmd::FILE, cmd::CORELIST, cmd::CORELOAD] {
        assert_eq!(
            field(&send(&mut g, false, false, id, &[0xa0]), "rc"),
            Some(8)
        );
    }
    assert_eq!(
        field(&send(&mut g, false, false, cmd::UPLOAD, &[0xa0]), "rc"),
        Some(8)
    );
}

#[test]
fn v1_translation() {
    assert_eq!(v1_rc(9), Rc::BadState);
    assert_eq!(v1_rc(3), Rc::NoEnt);
    assert_eq!(v1_rc(22), Rc::Inval);
    assert_eq!(v1_rc(23), Rc::Unknown);
    assert_eq!(v1_rc(15), Rc::NoMem);
    assert_eq!(v1_rc(30), Rc::Unknown);
}

#[test]
fn power_cut_during_test_request_is_repaired_by_a_new_upload() {
    let c = factory();
    let mut g = group(&c, Config::default());
    let b = image("1.1.0", 1000, 2);
    upload(&mut g, &b, 512, |_| Ok(()));
    let h = hash_of(&b);
    let t = state_req(&h);
    // The power fails in the middle of the magic.
    c[1].borrow_mut().cut_power_after(5);
    assert_eq!(err(&send(&mut g, false, true, cmd::STATE, &t)), Some(12));
    c[1].borrow_mut().power_on();
    // The half-written magic reads BAD: the request cannot be repeated...
    assert_eq!(err(&send(&mut g, false, true, cmd::STATE, &t)), Some(23));
    // ...but uploading again erases the trailer, and then it works.
    let rsp = upload(&mut g, &b, 512, |_| Ok(()));
    assert_eq!(field(&rsp, "match"), Some(1));
    let st = state(&send(&mut g, false, true, cmd::STATE, &t));
    assert_eq!(st[1].flags, "bootable pending ");
}

#[test]
fn erase_pending_slot_is_allowed_by_default() {
    // Zephyr's `MCUMGR_GRP_IMG_ALLOW_ERASE_PENDING` (default y) lets erase cancel a
    // scheduled test or permanent swap: `img_mgmt_slot_in_use` then only refuses the
    // active slot and a revert target.
    for confirm in [false, true] {
        let c = factory();
        let mut g = group(&c, Config::default());
        let b = image("1.1.0", 1000, 2);
        upload(&mut g, &b, 512, |_| Ok(()));
        let h = hash_of(&b);
        let req = body(|e| {
            e.str("hash")?.bytes(&h)?;
            e.str("confirm")?.bool(confirm)?;
            Ok(())
        });
        let st = state(&send(&mut g, false, true, cmd::STATE, &req));
        assert!(st[1].flags.contains("pending"));
        let rsp = send(&mut g, false, true, cmd::ERASE, &[0xa0]);
        assert_eq!(&rsp[8..], &[0xbf, 0xff]);
        assert!(c[1].borrow().as_bytes().iter().all(|&x| x == 0xff));
        assert_eq!(g.boot().swap_type(0), Ok(SwapType::None));
        let st = state(&send(&mut g, false, false, cmd::STATE, &[0xa0]));
        assert_eq!(st.len(), 1);
        assert_eq!(st[0].flags, "bootable confirmed active ");
    }
}

#[test]
fn set_state_empty_hash_counts_as_absent() {
    // Zephyr tests `zhash.len == 0`: an empty `hash` is the same as none.
    let c = factory();
    let mut g = group(&c, Config::default());
    let confirm = body(|e| {
        e.str("hash")?.bytes(&[])?;
        e.str("confirm")?.bool(true)?;
        Ok(())
    });
    let rsp = send(&mut g, false, true, cmd::STATE, &confirm);
    assert_eq!(err(&rsp), None);
    assert_eq!(state(&rsp)[0].flags, "bootable confirmed active ");
    let test = state_req(&[]);
    assert_eq!(err(&send(&mut g, false, true, cmd::STATE, &test)), Some(24));
}

#[test]
fn erase_of_an_unknown_slot_still_ends_the_upload() {
    // Zephyr's img_mgmt_erase calls img_mgmt_reset_upload() after img_mgmt_erase_slot()
    // whatever it returned, so an upload in progress ends even on err 14.
    let c = factory();
    let mut g = group(&c, Config::default());
    let b = image("1.1.0", 1000, 2);
    let first = body(|e| {
        e.str("off")?.u32(0)?;
        e.str("data")?.bytes(&b[..100])?;
        e.str("len")?.u32(b.len() as u32)?;
        Ok(())
    });
    assert_eq!(
        field(&send(&mut g, false, true, cmd::UPLOAD, &first), "off"),
        Some(100)
    );
    let s9 = body(|e| {
        e.str("slot")?.u32(9)?;
        Ok(())
    });
    assert_eq!(err(&send(&mut g, false, true, cmd::ERASE, &s9)), Some(14));
    let next = chunk(100, &b[100..200]);
    assert_eq!(
        field(&send(&mut g, false, true, cmd::UPLOAD, &next), "off"),
        Some(0)
    );
}

#[test]
fn direct_upload_to_a_missing_slot_has_no_slot() {
    // Zephyr's img_mgmt_get_unused_slot_area_id returns -1 for a slot without a flash
    // area, which img_mgmt_upload_inspect answers with err 9 (no free slot).
    let c = factory();
    let img = image("1.1.0", 700, 3);
    for (images, id) in [(1u8, 3u32), (2, 5)] {
        let mut g = group(
            &c,
            Config {
                images,
                direct_upload: true,
                ..Config::default()
            },
        );
        let rsp = upload(&mut g, &img, 300, |e| {
            e.str("image")?.u32(id)?;
            Ok(())
        });
        assert_eq!(err(&rsp), Some(9));
    }
}

#[test]
fn upload_checks_only_the_header_magic() {
    // img_mgmt_upload_inspect looks at nothing in the header but `ih_magic` (and
    // `ih_ver` for `upgrade`): flags MCUboot would refuse, a short `ih_hdr_size` or
    // overflowing sizes are for the bootloader to judge, not errors of the upload.
    let c = factory();
    let mut g = group(&c, Config::default());
    let mut img = image("1.1.0", 700, 3);
    img[16] = 0x0c; // ENCRYPTED_AES128 | ENCRYPTED_AES256
    img[8..10].copy_from_slice(&[0x10, 0]); // ih_hdr_size 16
    img[12..16].copy_from_slice(&[0xff; 4]); // ih_img_size overflows
    let rsp = upload(&mut g, &img, 300, |e| {
        e.str("upgrade")?.bool(true)?;
        Ok(())
    });
    assert_eq!(err(&rsp), None);
    assert_eq!(field(&rsp, "match"), Some(1));
    assert_eq!(&c[1].borrow().as_bytes()[..img.len()], &img[..]);
}

#[test]
fn padded_image_of_slot_size_uploads() {
    // Zephyr's default (`MCUMGR_GRP_IMG_TOO_LARGE_DISABLED`) refuses only `len` > slot
    // size, so an imgtool `--pad`ded image (slot-sized, trailer magic included) uploads
    // and is then pending for a test without any set-state request.
    let c = factory();
    let mut g = group(&c, Config::default());
    let b = image("1.1.0", 1000, 2);
    let mut padded = vec![0xffu8; SLOT];
    padded[..b.len()].copy_from_slice(&b);
    padded[SLOT - 16..].copy_from_slice(&trailer::MAGIC_8);
    let rsp = upload(&mut g, &padded, 512, |_| Ok(()));
    assert_eq!(err(&rsp), None);
    assert_eq!(field(&rsp, "match"), Some(1));
    assert_eq!(c[1].borrow().as_bytes(), &padded[..]);
    let st = state(&send(&mut g, false, false, cmd::STATE, &[0xa0]));
    assert_eq!(st[1].flags, "bootable pending ");
    // With the trailer check on, the same upload is too large.
    let c = factory();
    let mut g = group(
        &c,
        Config {
            reject_trailer_overlap: true,
            ..Config::default()
        },
    );
    assert_eq!(err(&upload(&mut g, &padded, 512, |_| Ok(()))), Some(30));
}

/// Zephyr's `img_mgmt_upload_inspect` (subsys/mgmt/mcumgr/grp/img_mgmt/src/img_mgmt.c,
/// v4.4.0; the same check in every stored version read) tests `off + data.len > size`
/// only on a continuation chunk: a first chunk with more data than its `len` is written
/// and answered with its end offset; the next chunk is the overrun (err {1, 31}).
#[test]
fn first_chunk_larger_than_len_is_not_an_overrun() {
    let c = factory();
    let mut g = group(&c, Config::default());
    let img = image("1.1.0", 100, 3);
    let first = body(|e| {
        e.str("off")?.u32(0)?;
        e.str("len")?.u32(40)?;
        e.str("data")?.bytes(&img[..64])?;
        Ok(())
    });
    // {"off": 64}
    assert_eq!(
        &send(&mut g, false, true, cmd::UPLOAD, &first)[..],
        &[0x0b, 0, 0, 8, 0, 1, 7, 1, 0xbf, 0x63, b'o', b'f', b'f', 0x18, 0x40, 0xff]
    );
    assert_eq!(&c[1].borrow().as_bytes()[..64], &img[..64]);
    let next = chunk(64, &img[64..65]);
    // {"err": {"group": 1, "rc": 31}}
    assert_eq!(
        &send(&mut g, false, true, cmd::UPLOAD, &next)[..],
        &[
            0x0b, 0, 0, 20, 0, 1, 7, 1, 0xbf, 0x63, b'e', b'r', b'r', 0xbf, 0x65, b'g', b'r', b'o',
            b'u', b'p', 0x01, 0x62, b'r', b'c', 0x18, 0x1f, 0xff, 0xff
        ]
    );
}

/// The image group of a swap-using-offset build: images in the secondary start one
/// 256-byte sector in, and the boot control decides with the swap-offset row.
fn offset_group<'a>(c: &'a [RefCell<Flash>; 4]) -> Img<'a> {
    let mut g = group(
        c,
        Config {
            secondary_offset: 256,
            ..Config::default()
        },
    );
    g.boot().offset_mode = true;
    g
}

/// Zephyr in `MCUBOOT_BOOTLOADER_MODE_SWAP_USING_OFFSET` (`boot_get_image_start_offset`,
/// zephyrproject-rtos/zephyr `subsys/dfu/boot/mcuboot.c` @030cbd8f6f14): the upload is
/// written one sector into the secondary slot, its first sector erased; image state lists
/// it from there; the "already there" check hashes from there.
#[test]
fn swap_offset_upload_lands_one_sector_in() {
    let c = factory();
    // Leftovers in the secondary's first sector (an older image at 0) must be erased.
    program(&c, 1, &image("0.9.0", 200, 5));
    let b = image("1.1.0", 2500, 2);
    let mut g = offset_group(&c);
    let last = upload(&mut g, &b, 333, |_| Ok(()));
    assert_eq!(field(&last, "match"), Some(1));
    {
        let s = c[1].borrow();
        assert!(s.as_bytes()[..256].iter().all(|&x| x == 0xff));
        assert_eq!(&s.as_bytes()[256..256 + b.len()], &b[..]);
        // The last partial write unit is padded with erased bytes, nothing after it.
        assert!(s.as_bytes()[256 + b.len()..].iter().all(|&x| x == 0xff));
    }
    let st = state(&send(&mut g, false, false, cmd::STATE, &[0xa0]));
    assert_eq!(st.len(), 2);
    assert_eq!((st[1].slot, st[1].version.as_str()), (1, "1.1.0"));
    assert_eq!(st[1].hash, hash_of(&b));
    // The same upload again: found in place (hashed from the offset), not rewritten.
    let sha: [u8; 32] = Sha256::digest(&b).into();
    let first = body(|e| {
        e.str("off")?.u32(0)?;
        e.str("data")?.bytes(&b[..512])?;
        e.str("len")?.u32(b.len() as u32)?;
        e.str("sha")?.bytes(&sha)?;
        Ok(())
    });
    let rsp = send(&mut g, false, true, cmd::UPLOAD, &first);
    assert_eq!(field(&rsp, "off"), Some(b.len() as u64));
    assert_eq!(field(&rsp, "match"), Some(1));
    // Test it: the trailer goes to the slot's end, as in every mode.
    let st = state(&send(
        &mut g,
        false,
        true,
        cmd::STATE,
        &state_req(&hash_of(&b)),
    ));
    assert_eq!(st[1].flags, "bootable pending ");
    assert_eq!(
        &c[1].borrow().as_bytes()[SLOT - 16..],
        &trailer::Layout::default().magic()[..]
    );
    // The group of another mode (offset 0) does not see the image: it is not at 0.
    let mut other = group(&c, Config::default());
    let st = state(&send(&mut other, false, false, cmd::STATE, &[0xa0]));
    assert_eq!(st.len(), 1);
}

#[test]
fn swap_offset_image_at_zero_is_not_listed_and_erase_clears_the_slot() {
    let c = factory();
    program(&c, 1, &image("1.1.0", 400, 2));
    let mut g = offset_group(&c);
    let st = state(&send(&mut g, false, false, cmd::STATE, &[0xa0]));
    assert_eq!(
        st.len(),
        1,
        "an image at 0 of the secondary is not where MCUboot looks"
    );
    // Erase (the other slot by default) clears the whole slot, its first sector too.
    assert_eq!(err(&send(&mut g, false, true, cmd::ERASE, &[0xa0])), None);
    assert!(c[1].borrow().as_bytes().iter().all(|&x| x == 0xff));
}

/// An upload in swap-offset mode, then the core's swap using offset over the same flash
/// (`swap::offset::boot`, mcu-tools/mcuboot `swap_offset.c` @2d4bacc3): the bootloader
/// finds the new image where the group wrote it and swaps; while the revert is pending
/// the old image is listed from offset 0 of the secondary (`boot_get_image_start_offset`
/// returns 0 for a revert), and after the revert the new one from the sector again.
#[test]
fn swap_offset_upload_then_swap_and_revert_lists_both_images() {
    use crate::mcuboot::swap::{self, offset, Outcome};
    let c = factory();
    let a = image("1.0.0", 100, 9);
    let b = image("1.1.0", 2500, 2);
    let mut g = offset_group(&c);
    upload(&mut g, &b, 512, |_| Ok(()));
    send(&mut g, false, true, cmd::STATE, &state_req(&hash_of(&b)));
    let boot = |c: &[RefCell<Flash>; 4]| {
        let (mut p, mut s) = (SharedFlash(&c[0]), SharedFlash(&c[1]));
        let geo = swap::Geometry::new(trailer::Layout::default(), 256);
        offset::boot(&mut p, &mut s, &geo, |f, at| {
            image::check_hash(&mut Offset { f, at }).is_ok()
        })
    };
    assert_eq!(boot(&c), Ok(Outcome::Swapped(SwapType::Test)));
    let mut g = offset_group(&c);
    let st = state(&send(&mut g, false, false, cmd::STATE, &[0xa0]));
    assert_eq!(st.len(), 2);
    assert_eq!(
        (st[0].version.as_str(), st[0].flags.as_str()),
        ("1.1.0", "bootable active ")
    );
    assert_eq!(st[1].hash, hash_of(&a));
    assert_eq!(st[1].flags, "bootable confirmed ");
    assert_eq!(&c[1].borrow().as_bytes()[..a.len()], &a[..]);
    // Not confirmed: the next boot reverts.
    assert_eq!(boot(&c), Ok(Outcome::Swapped(SwapType::Revert)));
    let mut g = offset_group(&c);
    let st = state(&send(&mut g, false, false, cmd::STATE, &[0xa0]));
    assert_eq!(st.len(), 2);
    assert_eq!(st[0].hash, hash_of(&a));
    assert_eq!(st[0].flags, "bootable confirmed active ");
    assert_eq!(
        (st[1].version.as_str(), st[1].flags.as_str()),
        ("1.1.0", "bootable ")
    );
}

/// With `reject_same_as_active`, the refused upload's header is erased where it is: one
/// sector in, in swap-offset mode.
#[test]
fn swap_offset_same_as_active_is_erased_at_the_offset() {
    let c = factory();
    let a = image("1.0.0", 100, 9);
    let mut g = group(
        &c,
        Config {
            secondary_offset: 256,
            reject_same_as_active: true,
            ..Config::default()
        },
    );
    g.boot().offset_mode = true;
    assert_eq!(err(&upload(&mut g, &a, 512, |_| Ok(()))), Some(28));
    assert!(c[1].borrow().as_bytes()[256..512]
        .iter()
        .all(|&x| x == 0xff));
    let st = state(&send(&mut g, false, false, cmd::STATE, &[0xa0]));
    assert_eq!(st.len(), 1);
}
