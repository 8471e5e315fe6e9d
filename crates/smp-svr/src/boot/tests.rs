//! Boot emulator tests over slot files in a temporary directory.

use super::*;
use crate::flash::Geometry;
use smp::mcuboot::trailer::MAGIC_8;
use smp::platform::BootControl;
use smp::testing::build_image;

use crate::cli::SwapMode;

const SLOT: u32 = 0x8000;
type Parts = Partitions<8, 1024>;

/// A board's slot files in a fresh temporary directory (kept while the first value
/// lives), and the default boot configuration.
fn rig() -> (tempfile::TempDir, Parts, BootConfig) {
    let dir = tempfile::tempdir().unwrap();
    let p = parts(dir.path());
    (dir, p, BootConfig::default())
}

/// Requests an upgrade of image 0 (a test, or `permanent`), as `image test`/`confirm` would.
fn request(p: &Parts, cfg: &BootConfig, permanent: bool) {
    boot_control(p, cfg)
        .unwrap()
        .request_upgrade(0, permanent)
        .unwrap();
}

fn parts(dir: &Path) -> Parts {
    Parts::open(
        dir,
        Geometry {
            slot_size: SLOT,
            secondary_extra: 0,
            images: 1,
            layout: Layout::default(),
        },
    )
    .unwrap()
}

fn img(ver: &str, payload: u32, seed: u8) -> Vec<u8> {
    let mut b = vec![0u8; payload as usize + 100];
    let n = build_image(&mut b, Version::parse(ver).unwrap(), payload, seed);
    b.truncate(n);
    b
}

fn hash(b: &[u8]) -> [u8; 32] {
    image::inspect(&mut Bytes(b)).unwrap().hash
}

/// Writes `b` into slot `n` as an upload would.
fn put(p: &Parts, n: usize, b: &[u8]) {
    let mut f = p.slot(n).unwrap();
    f.erase(0, SLOT).unwrap();
    let mut d = b.to_vec();
    d.resize(b.len().div_ceil(8) * 8, 0xff);
    f.write(0, &d).unwrap();
}

fn slot(p: &Parts, n: usize) -> Vec<u8> {
    p.slot(n).unwrap().read_all().unwrap()
}

fn booted(r: &[ImageBoot]) -> [u8; 32] {
    match r[0].outcome {
        Outcome::Boot { hash, .. } => hash,
        o => panic!("no boot: {o:?}"),
    }
}

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../smp/tests/data/");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DATA}{name}")).unwrap()
}

#[test]
fn first_boot_installs_and_boots() {
    let (_dir, p, cfg) = rig();
    assert_eq!(reset(&p, &cfg).unwrap()[0].outcome, Outcome::NoImage);
    let a = img("1.0.0", 3000, 1);
    flash_image(&p, 0, &a).unwrap();
    let r = reset(&p, &cfg).unwrap();
    assert_eq!(r[0].swap, SwapType::None);
    assert_eq!(booted(&r), hash(&a));
    assert!(flash_image(&p, 0, &vec![0u8; SLOT as usize + 1]).is_err());
}

#[test]
fn install_only_on_a_blank_slot() {
    let (_dir, p, cfg) = rig();
    let f = Path::new(DATA).join("ecdsa-p256.bin");
    assert_eq!(install_if_blank(&p, 0, &f, &cfg).unwrap(), Install::Flashed);
    assert_eq!(install_if_blank(&p, 0, &f, &cfg).unwrap(), Install::Present);
    let other = Path::new(DATA).join("ed25519.bin");
    assert_eq!(
        install_if_blank(&p, 0, &other, &cfg).unwrap(),
        Install::Other
    );
    let r = reset(&p, &BootConfig::default()).unwrap();
    assert_eq!(booted(&r), hash(&fixture("ecdsa-p256.bin")));
}

#[test]
fn test_swap_revert_and_confirm() {
    let (_dir, p, cfg) = rig();
    let a = img("1.0.0", 3000, 1);
    let b = img("1.1.0", 5000, 2);
    flash_image(&p, 0, &a).unwrap();
    put(&p, 1, &b);
    let mut bc = boot_control(&p, &cfg).unwrap();
    bc.request_upgrade(0, false).unwrap();
    assert_eq!(bc.swap_type(0), Ok(SwapType::Test));
    let r = reset(&p, &cfg).unwrap();
    assert_eq!(r[0].swap, SwapType::Test);
    assert_eq!(booted(&r), hash(&b));
    // The primary trailer as MCUboot leaves it after a test swap (docs/mcuboot.md, reset).
    let pri = slot(&p, 0);
    let s = SLOT as usize;
    let mut want = [0xffu8; 48];
    want[..4].copy_from_slice(&(b.len() as u32).to_le_bytes());
    want[8] = 0x02;
    want[16] = 0x01;
    want[32..].copy_from_slice(&MAGIC_8);
    assert_eq!(&pri[s - 48..], &want[..]);
    assert_eq!(&pri[..b.len()], &b[..]);
    // The old image sits in the secondary, without trailer.
    let sec = slot(&p, 1);
    assert_eq!(&sec[..a.len()], &a[..]);
    assert!(sec[s - 48..].iter().all(|&x| x == 0xff));
    let mut bc = boot_control(&p, &cfg).unwrap();
    assert_eq!(bc.swap_type(0), Ok(SwapType::Revert));
    assert_eq!(bc.is_confirmed(0), Ok(false));
    // Not confirmed: the next reset reverts.
    let r = reset(&p, &cfg).unwrap();
    assert_eq!(r[0].swap, SwapType::Revert);
    assert_eq!(booted(&r), hash(&a));
    let pri = slot(&p, 0);
    assert_eq!(pri[s - 40], 0x04);
    assert_eq!(pri[s - 32], 0x01);
    assert_eq!(pri[s - 24], 0x01);
    let mut bc = boot_control(&p, &cfg).unwrap();
    assert_eq!(bc.swap_type(0), Ok(SwapType::None));
    assert_eq!(bc.is_confirmed(0), Ok(true));
    // Again, and this time B confirms itself: it stays.
    bc.request_upgrade(0, false).unwrap();
    assert_eq!(reset(&p, &cfg).unwrap()[0].swap, SwapType::Test);
    boot_control(&p, &cfg).unwrap().confirm(0).unwrap();
    let r = reset(&p, &cfg).unwrap();
    assert_eq!(r[0].swap, SwapType::None);
    assert_eq!(booted(&r), hash(&b));
}

#[test]
fn interrupted_swap_finishes_at_next_reset() {
    let (_dir, p, cfg) = rig();
    let a = img("1.0.0", 3000, 1);
    let b = img("1.1.0", 5000, 2);
    flash_image(&p, 0, &a).unwrap();
    put(&p, 1, &b);
    request(&p, &cfg, false);
    reset(&p, &cfg).unwrap();
    let (pri, sec) = (slot(&p, 0), slot(&p, 1));
    // Replay: put the pre-swap state back with half the journal applied.
    flash_image(&p, 0, &a).unwrap();
    put(&p, 1, &b);
    request(&p, &cfg, false);
    let mut journal = pri.clone();
    journal.extend_from_slice(&sec);
    std::fs::write(p.journal_path(0), &journal).unwrap();
    let mut f = p.slot(0).unwrap();
    f.erase(0, SLOT).unwrap(); // the crash hit after erasing the primary
    let r = reset(&p, &cfg).unwrap();
    assert_eq!(booted(&r), hash(&b));
    assert_eq!(r[0].swap, SwapType::Test); // resumed, not reverted in the same boot
    assert_eq!(slot(&p, 0), pri);
    assert_eq!(slot(&p, 1), sec);
    assert!(!p.journal_path(0).exists());
    // Unconfirmed: the next reset reverts.
    let r = reset(&p, &cfg).unwrap();
    assert_eq!((r[0].swap, booted(&r)), (SwapType::Revert, hash(&a)));
}

#[test]
fn permanent_swap() {
    let (_dir, p, cfg) = rig();
    let a = img("1.0.0", 3000, 1);
    let b = img("2.0.0", 1000, 2);
    flash_image(&p, 0, &a).unwrap();
    put(&p, 1, &b);
    request(&p, &cfg, true);
    let r = reset(&p, &cfg).unwrap();
    assert_eq!(r[0].swap, SwapType::Perm);
    assert_eq!(booted(&r), hash(&b));
    let pri = slot(&p, 0);
    let s = SLOT as usize;
    assert_eq!(pri[s - 40], 0x03);
    assert_eq!(pri[s - 24], 0x01);
    assert_eq!(pri[s - 32], 0x01);
    // swap_size = the larger image's end.
    assert_eq!(&pri[s - 48..s - 44], &(a.len() as u32).to_le_bytes());
    let r = reset(&p, &cfg).unwrap();
    assert_eq!(r[0].swap, SwapType::None);
    assert_eq!(booted(&r), hash(&b));
}

#[test]
fn bad_secondary_is_erased() {
    let (_dir, p, cfg) = rig();
    let a = img("1.0.0", 3000, 1);
    let mut b = img("1.1.0", 1000, 2);
    b[100] ^= 1; // breaks the hash
    flash_image(&p, 0, &a).unwrap();
    put(&p, 1, &b);
    request(&p, &cfg, false);
    let r = reset(&p, &cfg).unwrap();
    assert_eq!(r[0].swap, SwapType::None);
    assert_eq!(
        r[0].rejected,
        Some(Rejection::Invalid(ImageError::HashMismatch))
    );
    assert_eq!(booted(&r), hash(&a));
    assert!(slot(&p, 1).iter().all(|&x| x == 0xff));
}

#[test]
fn signatures_and_keys() {
    let (_dir, p, mut cfg) = rig();
    cfg.add_key_file(Path::new(&format!("{DATA}ecdsa-p256.pub.pem")))
        .unwrap();
    assert!(cfg
        .add_key_file(Path::new(&format!("{DATA}README.md")))
        .is_err());
    flash_image(&p, 0, &fixture("sc-ecdsa-p256.bin")).unwrap();
    // Signed by another key: refused.
    put(&p, 1, &fixture("ed25519.bin"));
    request(&p, &cfg, false);
    let r = reset(&p, &cfg).unwrap();
    assert_eq!(r[0].rejected, Some(Rejection::Invalid(ImageError::NoKey)));
    // Bad signature by the right key: refused.
    let mut bad = fixture("ecdsa-p256.bin");
    let n = bad.len();
    bad[n - 3] ^= 0x10;
    put(&p, 1, &bad);
    request(&p, &cfg, false);
    let r = reset(&p, &cfg).unwrap();
    assert_eq!(
        r[0].rejected,
        Some(Rejection::Invalid(ImageError::BadSignature))
    );
    // Properly signed: swapped in.
    let good = fixture("ecdsa-p256.bin");
    put(&p, 1, &good);
    request(&p, &cfg, false);
    let r = reset(&p, &cfg).unwrap();
    assert_eq!(r[0].swap, SwapType::Test);
    assert_eq!(booted(&r), hash(&good));
    // Without keys, an unsigned primary boots; with keys it does not.
    flash_image(&p, 0, &img("1.0.0", 100, 3)).unwrap();
    let r = reset(&p, &cfg).unwrap();
    assert_eq!(r[0].outcome, Outcome::Invalid(ImageError::NoKey));
    assert!(matches!(
        reset(&p, &BootConfig::default()).unwrap()[0].outcome,
        Outcome::Boot { .. }
    ));
}

#[test]
fn downgrade_prevention() {
    let (_dir, p, _) = rig();
    let a = img("1.2.0", 1000, 1);
    let b = img("1.1.9+99", 1000, 2);
    for prevent in [true, false] {
        let cfg = BootConfig {
            downgrade_prevention: prevent,
            ..BootConfig::default()
        };
        flash_image(&p, 0, &a).unwrap();
        put(&p, 1, &b);
        request(&p, &cfg, true);
        let r = reset(&p, &cfg).unwrap();
        if prevent {
            assert_eq!(r[0].rejected, Some(Rejection::Downgrade));
            assert_eq!(booted(&r), hash(&a));
        } else {
            assert_eq!(booted(&r), hash(&b));
        }
    }
}

#[test]
fn stale_trailer_and_no_space() {
    let (_dir, p, cfg) = rig();
    flash_image(&p, 0, &img("1.0.0", 100, 1)).unwrap();
    // A test request on an empty secondary: trailer scrubbed, nothing swapped.
    request(&p, &cfg, false);
    let r = reset(&p, &cfg).unwrap();
    assert_eq!(r[0].rejected, Some(Rejection::Stale));
    assert!(slot(&p, 1).iter().all(|&x| x == 0xff));
    // An image that would reach the trailer sectors is not swapped.
    let big = img("1.1.0", SLOT - 3000, 2);
    put(&p, 1, &big);
    request(&p, &cfg, false);
    let r = reset(&p, &cfg).unwrap();
    assert_eq!(r[0].rejected, Some(Rejection::NoSpace));
    assert_eq!(r[0].swap, SwapType::None);
}

#[test]
fn image_info_of_fixtures() {
    let s = image_info(
        Path::new(&format!("{DATA}ecdsa-p256.bin")),
        &BootConfig::default(),
    )
    .unwrap();
    assert_eq!(s.version.to_string(), "1.2.3.4");
    assert_eq!(s.size, 1663);
    assert!(s.hash_ok);
    assert_eq!(s.sig, Some(SigKind::Ecdsa));
    let text = s.to_string();
    assert!(text.contains("signature: ecdsa-p256"));
    for (f, k) in [
        ("rsa-2048.bin", Some(SigKind::Rsa2048)),
        ("rsa-3072.bin", Some(SigKind::Rsa3072)),
        ("ed25519.bin", Some(SigKind::Ed25519)),
        ("unsigned.bin", None),
    ] {
        assert_eq!(
            image_info(Path::new(&format!("{DATA}{f}")), &BootConfig::default())
                .unwrap()
                .sig,
            k
        );
    }
    assert!(image_info(
        Path::new(&format!("{DATA}README.md")),
        &BootConfig::default()
    )
    .is_err());
}

#[test]
fn install_checks_the_image_before_writing() {
    let (dir, p, cfg) = rig();
    let not_an_image = Path::new(DATA).join("README.md");
    let e = install_if_blank(&p, 0, &not_an_image, &cfg).unwrap_err();
    assert_eq!(
        e.to_string(),
        "not an MCUboot image (bad magic): MCUboot would not boot it"
    );
    assert!(primary_is_blank(&p, 0).unwrap(), "nothing written");
    let mut keyed = BootConfig::default();
    keyed
        .add_key_file(&Path::new(DATA).join("other-ecdsa-p256.pub.pem"))
        .unwrap();
    let e = install_if_blank(&p, 0, &Path::new(DATA).join("ecdsa-p256.bin"), &keyed).unwrap_err();
    assert_eq!(
        e.to_string(),
        "no signature by an accepted key: MCUboot would not boot it"
    );
    let big = dir.path().join("big.bin");
    std::fs::write(&big, vec![0u8; SLOT as usize + 1]).unwrap();
    let e = install_if_blank(&p, 0, &big, &cfg).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "image of {} bytes does not fit slot of {SLOT} bytes",
            SLOT + 1
        )
    );
    let e = install_if_blank(&p, 0, &dir.path().join("nope.bin"), &cfg).unwrap_err();
    assert!(
        e.to_string().starts_with("cannot read image ")
            && e.to_string()
                .ends_with("nope.bin: No such file or directory"),
        "{e}"
    );
    assert!(primary_is_blank(&p, 0).unwrap(), "nothing written");
}

#[test]
fn truncated_images_are_reported_as_truncated() {
    let full = fixture("ecdsa-p256.bin");
    assert_eq!(truncation(&full), None);
    assert_eq!(truncation(b"not an image at all"), None);
    let cut = &full[..full.len() - 10];
    assert_eq!(
        truncation(cut).unwrap(),
        format!(
            "truncated: {} bytes, but its header, payload and TLVs take {} bytes",
            full.len() - 10,
            full.len()
        )
    );
    assert_eq!(
        truncation(&full[..20]).unwrap(),
        "truncated: 20 bytes, shorter than an MCUboot image header (32 bytes)"
    );
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("cut.bin");
    std::fs::write(&f, &full[..700]).unwrap();
    let e = image_info(&f, &BootConfig::default()).unwrap_err();
    assert!(
        e.to_string().ends_with(
            "cut.bin: truncated: 700 bytes, but its header and payload alone take 1512 bytes"
        ),
        "{e}"
    );
}

#[test]
fn image_info_verifies_signatures_with_keys() {
    let f = Path::new(DATA).join("ecdsa-p256.bin");
    let mut good = BootConfig::default();
    good.add_key_file(&Path::new(DATA).join("ecdsa-p256.pub.pem"))
        .unwrap();
    let s = image_info(&f, &good).unwrap();
    assert_eq!(s.verified, Some(Ok(())));
    assert_eq!(s.problem(), None);
    assert!(s.to_string().contains("signature: ecdsa-p256 (verified"));
    let mut other = BootConfig::default();
    other
        .add_key_file(&Path::new(DATA).join("other-ecdsa-p256.pub.pem"))
        .unwrap();
    let s = image_info(&f, &other).unwrap();
    assert_eq!(s.verified, Some(Err(ImageError::NoKey)));
    assert_eq!(s.problem().unwrap(), "no signature by an accepted key");
    let mut bad = fixture("ecdsa-p256.bin");
    bad[0x300] ^= 1;
    let dir = tempfile::tempdir().unwrap();
    let g = dir.path().join("bad.bin");
    std::fs::write(&g, &bad).unwrap();
    let s = image_info(&g, &BootConfig::default()).unwrap();
    assert!(!s.hash_ok);
    assert!(s.problem().unwrap().starts_with("image hash mismatch"));
}

#[test]
fn rejections_read_as_words() {
    assert_eq!(
        Rejection::Invalid(ImageError::NoKey).to_string(),
        "no signature by an accepted key"
    );
    assert_eq!(
        Rejection::Downgrade.to_string(),
        "lower version than the running image"
    );
}

/// The whole host path: the image group over slot files and the host boot control,
/// the emulator at each reset.
mod end_to_end {
    use super::*;
    use smp::groups::img::{self, ImgGroup};
    use smp::server::{Config, Enc, Params};
    use smp::testing::{body, Bytes, Client, EncResult};
    use smp::wire::Op;

    type Group = ImgGroup<FileFlash<8, 4096>, HostBoot<8, 4096>, SLOTS>;

    fn group(p: &Partitions<8, 4096>, cfg: &BootConfig) -> Group {
        ImgGroup::new(
            p.slots().unwrap(),
            boot_control(p, cfg).unwrap(),
            img::Config {
                images: p.geometry().images,
                layout: p.geometry().layout,
                ..img::Config::default()
            },
        )
    }

    /// One request through the test client (checked as a well-formed reply).
    fn send(
        g: &mut Group,
        write: bool,
        id: u8,
        f: impl FnOnce(&mut Enc<'_>) -> EncResult,
    ) -> Bytes {
        let mut client: Client<'_, 1> = Client::new(Config {
            params: Params {
                buf_size: 2048,
                buf_count: 2,
            },
            support_v1: true,
        });
        client.register(g);
        let op = if write { Op::Write } else { Op::Read };
        client.request(op, smp::wire::group::IMAGE, id, &body(f))
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn upload_test_reset_confirm() {
        let dir = tempfile::tempdir().unwrap();
        let p = Partitions::<8, 4096>::open(
            dir.path(),
            Geometry {
                slot_size: 0x20000,
                secondary_extra: 0,
                images: 1,
                layout: Layout::default(),
            },
        )
        .unwrap();
        let cfg = BootConfig::default();
        let a = img("1.0.0", 20000, 1);
        let b = img("1.1.0", 30000, 2);
        flash_image(&p, 0, &a).unwrap();
        reset(&p, &cfg).unwrap();
        let mut g = group(&p, &cfg);
        let mut off = 0;
        while off < b.len() {
            let n = 1000.min(b.len() - off);
            let rsp = send(&mut g, true, 1, |e| {
                e.str("off")?.u32(off as u32)?;
                e.str("data")?.bytes(&b[off..off + n])?;
                if off == 0 {
                    e.str("len")?.u32(b.len() as u32)?;
                }
                Ok(())
            });
            assert!(!contains(&rsp, b"err"), "{rsp:x?}");
            off += n;
        }
        let hb = hash(&b);
        let rsp = send(&mut g, true, 0, |e| {
            e.str("hash")?.bytes(&hb)?;
            Ok(())
        });
        assert!(contains(&rsp, b"pending\xf5"));
        // Reset: the emulator swaps; a new group sees B running, unconfirmed.
        drop(g);
        let r = reset(&p, &cfg).unwrap();
        assert_eq!(r[0].swap, SwapType::Test);
        let mut g = group(&p, &cfg);
        let rsp = send(&mut g, false, 0, |_| Ok(()));
        assert!(contains(&rsp, b"1.1.0"));
        assert!(contains(&rsp, b"confirmed\xf4\x66active\xf5"));
        // Confirm; reset: B stays.
        let rsp = send(&mut g, true, 0, |e| {
            e.str("confirm")?.bool(true)?;
            Ok(())
        });
        assert!(contains(&rsp, b"confirmed\xf5\x66active\xf5"));
        drop(g);
        let r = reset(&p, &cfg).unwrap();
        assert_eq!((r[0].swap, booted(&r)), (SwapType::None, hb));
    }
}

/// Power cuts in the boot emulator (`--power-cut-after`): a small board (8 sectors of 1 KiB
/// per slot) so that a cut can be tried after every one of its operations.
mod power_cut {
    use super::*;
    use crate::flash::{PowerCut, PowerMeter};

    const SMALL: u32 = 0x2000;

    fn small(dir: &Path) -> Parts {
        board(dir, 0)
    }

    /// The small board, its secondary slot `extra` bytes larger than the primary.
    fn board(dir: &Path, extra: u32) -> Parts {
        Parts::open(
            dir,
            Geometry {
                slot_size: SMALL,
                secondary_extra: extra,
                images: 1,
                layout: Layout::default(),
            },
        )
        .unwrap()
    }

    /// v1 confirmed in the primary slot, v2 in the secondary marked for test; returns
    /// both images.
    fn staged(p: &Parts, cfg: &BootConfig) -> (Vec<u8>, Vec<u8>) {
        staged_at(p, cfg, 0)
    }

    /// [`staged`] with v2 at `off` in the secondary slot.
    fn staged_at(p: &Parts, cfg: &BootConfig, off: u32) -> (Vec<u8>, Vec<u8>) {
        let a = img("1.0.0", 2000, 1);
        let b = img("2.0.0", 2500, 2);
        flash_image(p, 0, &a).unwrap();
        reset(p, cfg).unwrap();
        let mut f = p.slot(1).unwrap();
        let mut d = b.clone();
        d.resize(b.len().div_ceil(8) * 8, 0xff);
        f.write(off, &d).unwrap();
        request(p, cfg, false);
        (a, b)
    }

    fn slots(p: &Parts) -> [Vec<u8>; 2] {
        [slot(p, 0), slot(p, 1)]
    }

    fn confirmed(p: &Parts) -> bool {
        let mut f = p.slot(0).unwrap();
        trailer::is_confirmed(&trailer::read(&mut f, &Layout::default()).unwrap())
    }

    /// The test swap and the revert, as two resets; the meter counts them.
    fn sequence(p: &Parts, cfg: &BootConfig) {
        let r = reset(p, cfg).unwrap();
        assert_eq!(r[0].swap, SwapType::Test);
        let r = reset(p, cfg).unwrap();
        assert_eq!(r[0].swap, SwapType::Revert);
    }

    /// The uncut run a sweep is measured by: v1 and v2 staged on a fresh board
    /// (`open`, `stage`), then the test swap (booting v2) and the revert (booting v1),
    /// every flash operation metered.
    struct Uncut {
        /// Holds the board's files while the test looks at them.
        dir: tempfile::TempDir,
        p: Parts,
        a: Vec<u8>,
        b: Vec<u8>,
        /// The operations of the test swap alone.
        test_ops: u64,
        /// Both slots between the test swap and the revert.
        after_test: [Vec<u8>; 2],
        /// The operations of both swaps.
        total: u64,
        /// Both slots at the end.
        want: [Vec<u8>; 2],
    }

    fn uncut(cfg: &BootConfig, open: fn(&Path) -> Parts, stage: Stage) -> Uncut {
        let dir = tempfile::tempdir().unwrap();
        let mut p = open(dir.path());
        let (a, b) = stage(&p, cfg);
        let meter = PowerMeter::new(None);
        p.meter_into(meter.clone());
        let r = reset(&p, cfg).unwrap();
        assert_eq!((r[0].swap, booted(&r)), (SwapType::Test, hash(&b)));
        let test_ops = meter.ops();
        let after_test = slots(&p);
        let r = reset(&p, cfg).unwrap();
        assert_eq!((r[0].swap, booted(&r)), (SwapType::Revert, hash(&a)));
        Uncut {
            dir,
            a,
            b,
            test_ops,
            after_test,
            total: meter.ops(),
            want: slots(&p),
            p,
        }
    }

    /// Runs `f`; the operation a power cut stopped it after, if one did.
    fn cut_in(f: impl FnOnce()) -> Option<u64> {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
            Ok(()) => None,
            Err(e) => Some(e.downcast_ref::<PowerCut>().expect("a power cut").0),
        }
    }

    /// Stages a board for a sweep (as [`staged`]); returns v1 and v2.
    type Stage = fn(&Parts, &BootConfig) -> (Vec<u8>, Vec<u8>);

    /// The cut loop of the sweeps below: for every operation `n` of `total` (the uncut
    /// test swap and revert, [`sequence`]), a fresh board (`open`, `stage`) cut after
    /// `n`, then powered again. It must boot v1 (`a`) or v2 (`b`, then unconfirmed, with
    /// v1 waiting in the secondary, and its revert still to come, only before
    /// `test_ops` when given), and end as the uncut run: `want`, after `fixup` (which
    /// may mend a known, allowed difference and says whether it did). Returns how many
    /// cuts resumed the test swap and how many `fixup` mended.
    #[allow(clippy::too_many_arguments)]
    fn cut_loop(
        cfg: &BootConfig,
        open: fn(&Path) -> Parts,
        stage: Stage,
        (a, b): (&[u8], &[u8]),
        total: u64,
        test_ops: Option<u64>,
        want: &[Vec<u8>; 2],
        fixup: impl Fn(&mut [Vec<u8>; 2], &[Vec<u8>; 2]) -> bool,
    ) -> (u32, u32) {
        let (mut resumed, mut fixed) = (0, 0);
        for n in 1..=total {
            let dir = tempfile::tempdir().unwrap();
            let mut p = open(dir.path());
            stage(&p, cfg);
            p.meter_into(PowerMeter::new(Some(n)));
            assert_eq!(cut_in(|| sequence(&p, cfg)), Some(n));
            drop(p);
            let p = open(dir.path());
            let r = reset(&p, cfg).unwrap();
            let running = booted(&r);
            if running == hash(b) {
                // Cut inside the test swap, resumed: v2 runs unconfirmed; v1 waits in
                // the secondary and the revert is what is left of the sequence.
                assert!(test_ops.is_none_or(|t| n < t), "N={n}");
                assert!(!confirmed(&p), "N={n}");
                assert!(slot(&p, 1).starts_with(a), "N={n}: v1 lost");
                resumed += 1;
                assert_eq!(reset(&p, cfg).unwrap()[0].swap, SwapType::Revert, "N={n}");
            } else {
                assert_eq!(running, hash(a), "N={n}");
            }
            let mut got = slots(&p);
            if fixup(&mut got, want) {
                fixed += 1;
            }
            assert!(&got == want, "N={n}: end state");
            assert!(confirmed(&p), "N={n}");
        }
        (resumed, fixed)
    }

    #[test]
    fn every_cut_in_a_test_swap_and_its_revert_recovers() {
        let cfg = BootConfig::default();
        // The uncut run: its operation count and its end state.
        let dir = tempfile::tempdir().unwrap();
        let mut p = small(dir.path());
        let (a, b) = staged(&p, &cfg);
        let meter = PowerMeter::new(None);
        p.meter_into(meter.clone());
        sequence(&p, &cfg);
        let total = meter.ops();
        let want = slots(&p);
        // Each whole-slot swap: journal commit, 8 + 8 sectors erased, 2 slot writes,
        // journal removal.
        assert_eq!(total, 2 * (1 + 16 + 2 + 1));
        assert!(want[0].starts_with(&a) && want[1].starts_with(&b));

        let mut reverted_at_restart = Vec::new();
        for n in 1..=total {
            let dir = tempfile::tempdir().unwrap();
            let mut p = small(dir.path());
            staged(&p, &cfg);
            p.meter_into(PowerMeter::new(Some(n)));
            assert_eq!(cut_in(|| sequence(&p, &cfg)), Some(n));
            drop(p);
            // Power back: a new process maps the same files.
            // (Until then v1 may live only in the journal, as a sector lives in MCUboot's
            // scratch area during a swap.)
            let p = small(dir.path());
            let r = reset(&p, &cfg).unwrap();
            assert!(
                slots(&p).iter().any(|s| s.starts_with(&a)),
                "N={n}: v1 lost from both slots"
            );
            let running = booted(&r);
            assert!(running == hash(&a) || running == hash(&b), "N={n}");
            let in_test_swap = n <= total / 2;
            if running == hash(&b) {
                // Only a cut in the test swap leaves v2 running, unconfirmed; the revert
                // is what is left of the sequence.
                assert!(in_test_swap && !confirmed(&p), "N={n}");
                assert_eq!(reset(&p, &cfg).unwrap()[0].swap, SwapType::Revert);
            } else if in_test_swap {
                // v1 after a cut in the test swap: the swap had finished, and the restart
                // reverted the unconfirmed image.
                assert_eq!(r[0].swap, SwapType::Revert, "N={n}");
                reverted_at_restart.push(n);
            }
            assert_eq!(slots(&p), want, "N={n}: end state");
            assert!(confirmed(&p), "N={n}");
            assert!(!p.journal_path(0).exists(), "N={n}");
        }
        // Only the cut after the test swap's last operation.
        assert_eq!(reverted_at_restart, [total / 2]);
    }

    #[test]
    fn every_cut_in_a_move_swap_and_its_revert_recovers() {
        // `--swap-mode move`: the core's swap using move over the slot files, each of its
        // writes and erases one metered operation.
        let cfg = BootConfig {
            swap_mode: SwapMode::Move,
            ..BootConfig::default()
        };
        let Uncut {
            dir: _dir,
            p,
            a,
            b,
            test_ops,
            total,
            want,
            ..
        } = uncut(&cfg, small, staged);
        assert!(want[0].starts_with(&a) && want[1].starts_with(&b));
        assert!(confirmed(&p));
        // No journal: the swap status lives in the primary's trailer.
        assert!(!p.journal_path(0).exists());
        // Sector by sector: 3 sectors of image (1 KiB each) moved and swapped, far more
        // operations than the whole-slot journal's 20 per swap.
        assert!(test_ops > 20 && total > 2 * 20, "{test_ops} {total}");

        // A revert cut before its first move resumes as a permanent swap of the same
        // two images: MCUboot's `fixup_revert` (mcu-tools/mcuboot
        // boot/bootutil/src/swap_move.c @2d4bacc3) has written image_ok and magic into
        // the secondary first, so the next boot's table says "permanent". Only the
        // primary's swap_info byte (3 instead of 4) tells the two apart.
        let info = SMALL as usize - 40;
        let (resumed, perm_resumes) = cut_loop(
            &cfg,
            small,
            staged,
            (&a, &b),
            total,
            Some(test_ops),
            &want,
            |got, want| {
                let perm = got[0][info] == 0x03 && want[0][info] == 0x04;
                if perm {
                    got[0][info] = 0x04;
                }
                perm
            },
        );
        assert!(resumed > 0 && perm_resumes > 0, "{resumed} {perm_resumes}");
    }

    #[test]
    fn move_mode_reports_mode_3_and_bounds_uploads() {
        let cfg = BootConfig {
            swap_mode: SwapMode::Move,
            ..BootConfig::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let p = small(dir.path());
        assert_eq!(boot_control(&p, &cfg).unwrap().info().mode, 3);
        assert_eq!(
            boot_control(&p, &BootConfig::default())
                .unwrap()
                .info()
                .mode,
            1
        );
        // 8 sectors of 1 KiB, write size 8: the status area (128 x 3 x 8 bytes) and
        // trailer fields round up to 4 sectors, and one sector is move's headroom.
        let g = p.geometry();
        assert_eq!(max_image_size(SwapMode::Move, g, 8, 1024), Some(3 * 1024));
        assert_eq!(max_image_size(SwapMode::Journal, g, 8, 1024), None);
    }

    /// The small board in `--swap-mode offset`: the secondary slot one sector larger.
    fn small_offset(dir: &Path) -> Parts {
        board(dir, 1024)
    }

    /// [`staged`] for swap using offset: v2 one sector into the secondary slot, as the
    /// image group uploads it in that mode.
    fn staged_offset(p: &Parts, cfg: &BootConfig) -> (Vec<u8>, Vec<u8>) {
        staged_at(p, cfg, 1024)
    }

    #[test]
    fn offset_mode_reports_mode_9_and_bounds_uploads() {
        let cfg = BootConfig {
            swap_mode: SwapMode::Offset,
            ..BootConfig::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let p = small_offset(dir.path());
        assert_eq!(boot_control(&p, &cfg).unwrap().info().mode, 9);
        assert!(boot_control(&p, &cfg).unwrap().offset_mode);
        // Primary 8 sectors of 1 KiB, secondary 9, write size 8: the status area
        // (128 x 2 x 8 bytes) and 5 x 8 + 16 bytes of fields round up to 3 sectors
        // (app_max_size, swap_offset.c @2d4bacc3), and the secondary's extra sector is
        // the offset's headroom: one sector more than move allows with equal slots.
        let g = p.geometry();
        assert_eq!(max_image_size(SwapMode::Offset, g, 8, 1024), Some(5 * 1024));
        let equal = Geometry {
            secondary_extra: 0,
            ..*g
        };
        assert_eq!(
            max_image_size(SwapMode::Offset, &equal, 8, 1024),
            Some(4 * 1024)
        );
    }

    #[test]
    fn an_image_at_zero_of_the_secondary_is_refused_in_offset_mode() {
        // MCUboot's boot_validate_slot in swap-offset mode refuses (and erases) a
        // secondary whose header is at 0 ("wrong upload address?"): where the other
        // modes' image groups would put it.
        let cfg = BootConfig {
            swap_mode: SwapMode::Offset,
            ..BootConfig::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let p = small_offset(dir.path());
        let a = img("1.0.0", 2000, 1);
        flash_image(&p, 0, &a).unwrap();
        reset(&p, &cfg).unwrap();
        let b = img("2.0.0", 2500, 2);
        let mut f = p.slot(1).unwrap();
        let mut d = b.clone();
        d.resize(b.len().div_ceil(8) * 8, 0xff);
        f.write(0, &d).unwrap();
        request(&p, &cfg, false);
        let r = reset(&p, &cfg).unwrap();
        assert_eq!(r[0].swap, SwapType::None);
        assert!(r[0].rejected.is_some());
        assert_eq!(booted(&r), hash(&a));
        assert!(slot(&p, 1).iter().all(|&x| x == 0xff));
    }

    #[test]
    fn every_cut_in_an_offset_swap_and_its_revert_recovers() {
        // `--swap-mode offset`: the core's swap using offset over the slot files.
        let cfg = BootConfig {
            swap_mode: SwapMode::Offset,
            ..BootConfig::default()
        };
        let Uncut {
            dir: _dir,
            p,
            a,
            b,
            test_ops,
            after_test,
            total,
            want,
            ..
        } = uncut(&cfg, small_offset, staged_offset);
        // After the test swap, v1 sits at 0 of the secondary (the revert's source).
        assert!(after_test[1].starts_with(&a));
        // Back where they were: v1 at 0 of the primary, v2 one sector into the
        // secondary, whose first sector the revert erased (swap_run, swap_offset.c).
        assert!(want[0].starts_with(&a) && want[1][1024..].starts_with(&b));
        assert!(want[1][..1024].iter().all(|&x| x == 0xff));
        assert!(confirmed(&p));
        assert!(!p.journal_path(0).exists());
        assert!(test_ops > 20 && total > 2 * 20, "{test_ops} {total}");

        let (resumed, _) = cut_loop(
            &cfg,
            small_offset,
            staged_offset,
            (&a, &b),
            total,
            Some(test_ops),
            &want,
            |_, _| false,
        );
        assert!(resumed > 0, "{resumed}");
    }

    #[test]
    fn a_cut_after_a_finished_test_swap_reverts_at_the_next_boot() {
        // MCUboot writes copy-done last (mcu-tools/mcuboot 2d4bacc3,
        // boot/bootutil/src/loader.c boot_perform_update); a primary trailer with good
        // magic and copy-done set is no status to resume (swap_scratch.c
        // boot_status_tables[0]; swap_move.c swap_status_source), so the next boot takes
        // the swap type from the trailers: revert of the unconfirmed test image. Here the
        // journal's removal is the swap's last operation.
        let cfg = BootConfig::default();
        let dir = tempfile::tempdir().unwrap();
        let mut p = small(dir.path());
        let (a, b) = staged(&p, &cfg);
        p.meter_into(PowerMeter::new(Some(20)));
        assert_eq!(cut_in(|| drop(reset(&p, &cfg).unwrap())), Some(20));
        let p = small(dir.path());
        assert!(slot(&p, 0).starts_with(&b) && !confirmed(&p));
        assert!(!p.journal_path(0).exists());
        let r = reset(&p, &cfg).unwrap();
        assert_eq!((r[0].swap, booted(&r)), (SwapType::Revert, hash(&a)));
    }

    #[test]
    fn a_cut_with_the_journal_committed_resumes_the_swap_not_a_revert() {
        // Cut after the commit (operation 1) and after the primary's erase (1 + 8): the
        // journal is the status area, the next boot finishes the test swap and boots v2.
        for n in [1, 9, 19] {
            let cfg = BootConfig::default();
            let dir = tempfile::tempdir().unwrap();
            let mut p = small(dir.path());
            let (_, b) = staged(&p, &cfg);
            p.meter_into(PowerMeter::new(Some(n)));
            assert_eq!(cut_in(|| drop(reset(&p, &cfg).unwrap())), Some(n));
            let p = small(dir.path());
            assert!(p.journal_path(0).exists(), "N={n}");
            let r = reset(&p, &cfg).unwrap();
            assert_eq!((r[0].swap, booted(&r)), (SwapType::Test, hash(&b)), "N={n}");
            assert!(!confirmed(&p) && !p.journal_path(0).exists(), "N={n}");
        }
    }

    #[test]
    fn every_cut_in_a_scratch_swap_and_its_revert_recovers() {
        // `--swap-mode scratch`: the core's swap using scratch over the slot files and a
        // one-sector scratch file, each write and erase one metered operation.
        let cfg = BootConfig {
            swap_mode: SwapMode::Scratch,
            ..BootConfig::default()
        };
        let u = uncut(&cfg, small, staged);
        let (p, a, b, total, want) = (&u.p, &u.a, &u.b, u.total, &u.want);
        assert_eq!(boot_control(p, &cfg).unwrap().info().mode, 1);
        assert!(want[0].starts_with(a) && want[1].starts_with(b));
        assert!(confirmed(p) && !p.journal_path(0).exists());
        assert_eq!(
            std::fs::metadata(u.dir.path().join("scratch.bin"))
                .unwrap()
                .len(),
            1024
        );
        let (resumed, _) = cut_loop(&cfg, small, staged, (a, b), total, None, want, |_, _| false);
        assert!(resumed > 0 && total > 40, "{resumed} {total}");
    }

    #[test]
    fn every_cut_in_an_overwrite_ends_with_the_new_image() {
        // `--swap-mode overwrite`: the secondary copied over the primary; no revert.
        let cfg = BootConfig {
            swap_mode: SwapMode::Overwrite,
            ..BootConfig::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let mut p = small(dir.path());
        assert_eq!(boot_control(&p, &cfg).unwrap().info().mode, 2);
        let (_, b) = staged(&p, &cfg);
        let meter = PowerMeter::new(None);
        p.meter_into(meter.clone());
        let two = |p: &Parts| {
            let r = reset(p, &cfg).unwrap();
            assert_eq!((r[0].swap, booted(&r)), (SwapType::Test, hash(&b)));
            let r = reset(p, &cfg).unwrap();
            assert_eq!((r[0].swap, booted(&r)), (SwapType::None, hash(&b)));
        };
        two(&p);
        let total = meter.ops();
        let want = slot(&p, 0);
        assert!(want.starts_with(&b));
        // The secondary's header sector is erased: nothing left to swap back.
        assert!(slot(&p, 1)[..1024].iter().all(|&x| x == 0xff));
        let mut redone = 0;
        for n in 1..=total {
            let dir = tempfile::tempdir().unwrap();
            let mut p = small(dir.path());
            staged(&p, &cfg);
            p.meter_into(PowerMeter::new(Some(n)));
            assert_eq!(cut_in(|| two(&p)), Some(n));
            drop(p);
            let p = small(dir.path());
            let r = reset(&p, &cfg).unwrap();
            assert_eq!(booted(&r), hash(&b), "N={n}");
            if r[0].swap == SwapType::Test {
                redone += 1;
            }
            assert_eq!(slot(&p, 0), want, "N={n}");
            assert_eq!(reset(&p, &cfg).unwrap()[0].swap, SwapType::None, "N={n}");
        }
        assert!(redone > 0 && redone < total, "{redone} {total}");
    }

    #[test]
    fn scratch_and_overwrite_bound_uploads_as_mcuboot() {
        let dir = tempfile::tempdir().unwrap();
        let p = small(dir.path());
        let g = p.geometry();
        // Scratch: 8 sectors of 1 KiB, W 8: the trailer (128 x 3 x 8 + 48 = 3120 bytes)
        // has 48 bytes in its first sector, 24 fewer than the scratch trailer (72):
        // app_max_size_adjust_to_trailer pads by 24 (swap_scratch.c @2d4bacc3).
        assert_eq!(
            max_image_size(SwapMode::Scratch, g, 8, 1024),
            Some(0x2000 - 3120 - 24)
        );
        // Overwrite: up to swap_info (bootutil_max_image_size, bootutil_misc.c).
        assert_eq!(
            max_image_size(SwapMode::Overwrite, g, 8, 1024),
            Some(0x2000 - 40)
        );
    }
}
