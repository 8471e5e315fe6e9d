//! The direct-XIP modes of the boot emulator ([`boot_image_xip`], [`boot_control_for`])
//! over slot files: which slot runs, what the image group is told, the factory trailer.

use super::*;
use crate::flash::Geometry;
use smp::mcuboot::trailer::MAGIC_8;
use smp::platform::BootControl;
use smp::testing::build_image;

const SLOT: u32 = 0x8000;
type Parts = Partitions<8, 1024>;

fn rig(mode: SwapMode) -> (tempfile::TempDir, Parts, BootConfig) {
    let dir = tempfile::tempdir().unwrap();
    let p = Parts::open(
        dir.path(),
        Geometry {
            slot_size: SLOT,
            images: 1,
            layout: Layout::default(),
            secondary_extra: 0,
        },
    )
    .unwrap();
    let cfg = BootConfig {
        swap_mode: mode,
        ..BootConfig::default()
    };
    (dir, p, cfg)
}

fn img(ver: &str, seed: u8) -> Vec<u8> {
    let mut b = vec![0u8; 3000];
    let n = build_image(&mut b, Version::parse(ver).unwrap(), 2800, seed);
    b.truncate(n);
    b.resize(n.div_ceil(8) * 8, 0xff);
    b
}

fn put(p: &Parts, n: usize, b: &[u8]) {
    let mut f = p.slot(n).unwrap();
    f.erase(0, SLOT).unwrap();
    f.write(0, b).unwrap();
}

fn version(r: &[ImageBoot]) -> String {
    match r[0].outcome {
        Outcome::Boot { version, .. } => version.to_string(),
        o => panic!("no boot: {o:?}"),
    }
}

#[test]
fn direct_xip_runs_the_higher_version_and_tells_the_image_group() {
    let (_d, p, cfg) = rig(SwapMode::DirectXip);
    put(&p, 0, &img("1.0.0", 1));
    put(&p, 1, &img("1.2.0", 2));
    let before = (
        p.slot(0).unwrap().read_all().unwrap(),
        p.slot(1).unwrap().read_all().unwrap(),
    );
    let boots = reset(&p, &cfg).unwrap();
    assert_eq!(version(&boots), "1.2.0");
    assert_eq!(boots[0].swap, SwapType::None);
    let b = boot_control_for(&p, &cfg, &boots).unwrap();
    assert_eq!(b.active_slot(0), 1);
    assert_eq!(b.info().mode, 4);
    assert!(b.info().no_downgrade);
    assert_eq!(p.slot(0).unwrap().read_all().unwrap(), before.0);
    assert_eq!(p.slot(1).unwrap().read_all().unwrap(), before.1);
    // The same image in both slots: MCUboot takes slot 0, and so does the image group.
    put(&p, 0, &img("1.2.0", 2));
    let boots = reset(&p, &cfg).unwrap();
    assert_eq!(
        boot_control_for(&p, &cfg, &boots).unwrap().active_slot(0),
        0
    );
    // The swap modes always run slot 0.
    let mv = BootConfig {
        swap_mode: SwapMode::Move,
        ..BootConfig::default()
    };
    assert_eq!(boot_control_for(&p, &mv, &boots).unwrap().active_slot(0), 0);
    assert_eq!(bootloader_mode(SwapMode::DirectXipRevert), 5);
    assert_eq!(
        max_image_size(SwapMode::DirectXip, p.geometry(), 8, 1024),
        Some(SLOT - 40)
    );
}

#[test]
fn direct_xip_revert_needs_the_factory_magic() {
    let (_d, p, cfg) = rig(SwapMode::DirectXipRevert);
    put(&p, 0, &img("1.0.0", 1));
    // Without it the bootloader erases the only image: nothing boots.
    let (_d2, q, _) = rig(SwapMode::DirectXipRevert);
    put(&q, 0, &img("1.0.0", 1));
    assert!(!mark_factory_image(&q, &cfg, false).unwrap());
    assert_eq!(reset(&q, &cfg).unwrap()[0].outcome, Outcome::NoImage);
    assert!(q
        .slot(0)
        .unwrap()
        .read_all()
        .unwrap()
        .iter()
        .all(|&b| b == 0xff));
    // The built-in path writes magic and image_ok (what `imgtool --pad --confirm` adds).
    assert!(mark_factory_image(&p, &cfg, true).unwrap());
    let s0 = p.slot(0).unwrap().read_all().unwrap();
    let n = SLOT as usize;
    assert_eq!(&s0[n - 16..], &MAGIC_8);
    assert_eq!(s0[n - 24], 1);
    assert_eq!(s0[n - 32], 0xff);
    let boots = reset(&p, &cfg).unwrap();
    assert_eq!(version(&boots), "1.0.0");
    // Its first boot sets copy_done.
    assert_eq!(p.slot(0).unwrap().read_all().unwrap()[n - 32], 1);
    // Not in the other modes.
    let mv = BootConfig::default();
    let (_d3, r, _) = rig(SwapMode::Journal);
    put(&r, 0, &img("1.0.0", 1));
    assert!(mark_factory_image(&r, &mv, true).unwrap());
    assert_eq!(r.slot(0).unwrap().read_all().unwrap()[n - 16], 0xff);
}
