//! Boot emulator tests over slot files in a temporary directory.

use super::*;
use crate::flash::Geometry;
use smp::mcuboot::trailer::MAGIC_8;
use smp::platform::BootControl;
use smp::testing::build_image;

const SLOT: u32 = 0x8000;
type Parts = Partitions<8, 1024>;

fn parts(dir: &Path) -> Parts {
    Parts::open(
        dir,
        Geometry {
            slot_size: SLOT,
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
    let dir = tempfile::tempdir().unwrap();
    let p = parts(dir.path());
    let cfg = BootConfig::default();
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
    let dir = tempfile::tempdir().unwrap();
    let p = parts(dir.path());
    let f = Path::new(DATA).join("ecdsa-p256.bin");
    assert!(install_if_blank(&p, 0, &f).unwrap());
    assert!(!install_if_blank(&p, 0, &Path::new(DATA).join("ed25519.bin")).unwrap());
    let r = reset(&p, &BootConfig::default()).unwrap();
    assert_eq!(booted(&r), hash(&fixture("ecdsa-p256.bin")));
}

#[test]
fn test_swap_revert_and_confirm() {
    let dir = tempfile::tempdir().unwrap();
    let p = parts(dir.path());
    let cfg = BootConfig::default();
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
    // The primary trailer as MCUboot leaves it after a test swap (§12).
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
fn permanent_swap() {
    let dir = tempfile::tempdir().unwrap();
    let p = parts(dir.path());
    let cfg = BootConfig::default();
    let a = img("1.0.0", 3000, 1);
    let b = img("2.0.0", 1000, 2);
    flash_image(&p, 0, &a).unwrap();
    put(&p, 1, &b);
    boot_control(&p, &cfg)
        .unwrap()
        .request_upgrade(0, true)
        .unwrap();
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
    let dir = tempfile::tempdir().unwrap();
    let p = parts(dir.path());
    let cfg = BootConfig::default();
    let a = img("1.0.0", 3000, 1);
    let mut b = img("1.1.0", 1000, 2);
    b[100] ^= 1; // breaks the hash
    flash_image(&p, 0, &a).unwrap();
    put(&p, 1, &b);
    boot_control(&p, &cfg)
        .unwrap()
        .request_upgrade(0, false)
        .unwrap();
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
    let dir = tempfile::tempdir().unwrap();
    let p = parts(dir.path());
    let mut cfg = BootConfig::default();
    cfg.add_key_file(Path::new(&format!("{DATA}ecdsa-p256.pub.pem")))
        .unwrap();
    assert!(cfg
        .add_key_file(Path::new(&format!("{DATA}README.md")))
        .is_err());
    flash_image(&p, 0, &fixture("sc-ecdsa-p256.bin")).unwrap();
    // Signed by another key: refused.
    put(&p, 1, &fixture("ed25519.bin"));
    boot_control(&p, &cfg)
        .unwrap()
        .request_upgrade(0, false)
        .unwrap();
    let r = reset(&p, &cfg).unwrap();
    assert_eq!(r[0].rejected, Some(Rejection::Invalid(ImageError::NoKey)));
    // Bad signature by the right key: refused.
    let mut bad = fixture("ecdsa-p256.bin");
    let n = bad.len();
    bad[n - 3] ^= 0x10;
    put(&p, 1, &bad);
    boot_control(&p, &cfg)
        .unwrap()
        .request_upgrade(0, false)
        .unwrap();
    let r = reset(&p, &cfg).unwrap();
    assert_eq!(
        r[0].rejected,
        Some(Rejection::Invalid(ImageError::BadSignature))
    );
    // Properly signed: swapped in.
    let good = fixture("ecdsa-p256.bin");
    put(&p, 1, &good);
    boot_control(&p, &cfg)
        .unwrap()
        .request_upgrade(0, false)
        .unwrap();
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
    let dir = tempfile::tempdir().unwrap();
    let p = parts(dir.path());
    let a = img("1.2.0", 1000, 1);
    let b = img("1.1.9+99", 1000, 2);
    for prevent in [true, false] {
        let cfg = BootConfig {
            downgrade_prevention: prevent,
            ..BootConfig::default()
        };
        flash_image(&p, 0, &a).unwrap();
        put(&p, 1, &b);
        boot_control(&p, &cfg)
            .unwrap()
            .request_upgrade(0, true)
            .unwrap();
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
    let dir = tempfile::tempdir().unwrap();
    let p = parts(dir.path());
    let cfg = BootConfig::default();
    flash_image(&p, 0, &img("1.0.0", 100, 1)).unwrap();
    // A test request on an empty secondary: trailer scrubbed, nothing swapped.
    boot_control(&p, &cfg)
        .unwrap()
        .request_upgrade(0, false)
        .unwrap();
    let r = reset(&p, &cfg).unwrap();
    assert_eq!(r[0].rejected, Some(Rejection::Stale));
    assert!(slot(&p, 1).iter().all(|&x| x == 0xff));
    // An image that would reach the trailer sectors is not swapped.
    let big = img("1.1.0", SLOT - 3000, 2);
    put(&p, 1, &big);
    boot_control(&p, &cfg)
        .unwrap()
        .request_upgrade(0, false)
        .unwrap();
    let r = reset(&p, &cfg).unwrap();
    assert_eq!(r[0].rejected, Some(Rejection::NoSpace));
    assert_eq!(r[0].swap, SwapType::None);
}

#[test]
fn image_info_of_fixtures() {
    let s = image_info(Path::new(&format!("{DATA}ecdsa-p256.bin"))).unwrap();
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
        assert_eq!(image_info(Path::new(&format!("{DATA}{f}"))).unwrap().sig, k);
    }
    assert!(image_info(Path::new(&format!("{DATA}README.md"))).is_err());
}
