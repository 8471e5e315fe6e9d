//! Command groups, one module each. Every module lists its command ids, request and
//! response keys, and error codes.
//!
//! | group | id | module | platform trait |
//! |---|---|---|---|
//! | OS | 0 | [`os`] | [`Os`](crate::platform::Os) |
//! | image | 1 | [`img`] | one `embedded-storage` NOR flash per slot, and [`BootControl`](crate::platform::BootControl) |
//! | statistics | 2 | [`stat`] | [`Stats`](crate::platform::Stats) |
//! | settings | 3 | [`settings`] | [`Settings`](crate::platform::Settings) |
//! | file system | 8 | [`fs`] | [`Fs`](crate::platform::Fs) |
//! | shell | 9 | [`shell`] | [`Shell`](crate::platform::Shell) |
//! | enumeration | 10 | [`enum_`] | none: it reports the registry |
//! | Zephyr basic | 63 | [`basic`] | [`StorageErase`](crate::platform::StorageErase) |
//!
//! A port builds each group over its platform and registers it; registration order is what
//! the enumeration group reports (list order, and what `single`'s index counts). Zephyr
//! registers groups from `mcumgr_handlers_init` (subsys/mgmt/mcumgr/mgmt/src/mgmt.c), which
//! walks the `mcumgr_handler` iterable section: entries sorted by the handler's name, each
//! `mgmt_register_group` appending to the group list. [`ZEPHYR_ORDER`] is that order for
//! the groups here; ports register in it:
//!
//! ```
//! use core::cell::RefCell;
//! use smp::groups::{basic::BasicGroup, enum_::EnumGroup, fs::FsGroup, img::ImgGroup};
//! use smp::groups::{os::OsGroup, settings::SettingsGroup, shell::ShellGroup, stat::StatGroup};
//! use smp::mcuboot::trailer::{Layout, TrailerBoot};
//! use smp::platform::SharedFlash;
//! use smp::server::{Config, Meta, Server};
//! use smp::testing::{FakeOs, FakeSettings, FakeShell, FakeStats, FakeStorage, MemFs, RamFlash};
//!
//! // One image, two slots: the image group and the boot control share the flash.
//! let flash: [RefCell<RamFlash<0x4000>>; 2] = Default::default();
//! let slots = || [SharedFlash(&flash[0]), SharedFlash(&flash[1])];
//! let mut img = ImgGroup::new(slots(), TrailerBoot::new(slots(), Layout::default()), Default::default());
//! let mut os = OsGroup::new(FakeOs::default(), Default::default());
//! let mut stat = StatGroup::new(FakeStats::default(), Default::default());
//! let mut settings: SettingsGroup<_> = SettingsGroup::new(FakeSettings::default(), Default::default());
//! // The download chunk is min(buf_size - 44, B): pick B from the transport buffer size.
//! let mut fs: FsGroup<_, 512> = FsGroup::new(MemFs::default(), Default::default());
//! let mut shell: ShellGroup<_> = ShellGroup::new(FakeShell::default(), Default::default());
//! let mut enum_ = EnumGroup::new();
//! let mut basic = BasicGroup::new(FakeStorage::default());
//!
//! let mut server: Server<'_, 8> = Server::new(Config::default());
//! server.register(&mut enum_).unwrap();
//! server.register(&mut fs).unwrap();
//! server.register(&mut img).unwrap();
//! server.register(&mut os).unwrap();
//! server.register(&mut settings).unwrap();
//! server.register(&mut shell).unwrap();
//! server.register(&mut stat).unwrap();
//! server.register(&mut basic).unwrap();
//!
//! // enum count (v2 read): {"count": 8}
//! let req = [0x08, 0, 0, 2, 0, 10, 1, 0, 0xbf, 0xff];
//! let mut tx = [0u8; 384];
//! let mut rsp = [0u8; 17];
//! server.process(Meta { transport: 0, now_ms: 0 }, &req, &mut tx, |r| rsp.copy_from_slice(r));
//! assert_eq!(&rsp[8..], &[0xbf, 0x65, b'c', b'o', b'u', b'n', b't', 8, 0xff]);
//! ```

/// The groups in Zephyr's registration order, with the name each registers its handler
/// under (`MCUMGR_HANDLER_DEFINE(name, ...)` in its `grp/*/src/*.c`): the iterable section
/// sorts by that name. Handler names as in Zephyr (v4.4.0): `enum_mgmt` (enum_mgmt.c),
/// `fs_mgmt` (fs_mgmt.c @0014f3dc4dda), `img_mgmt` (img_mgmt.c), `os_mgmt` (os_mgmt.c
/// @0014f3dc4dda), `settings_mgmt` (settings_mgmt.c @09078aed8163), `shell_mgmt`
/// (shell_mgmt.c @1714a88861db), `stat_mgmt` (stat_mgmt.c), `zephyr_basic_mgmt`
/// (zephyr_basic_grp.c).
pub const ZEPHYR_ORDER: [(u16, &str); 8] = [
    (crate::wire::group::ENUM, "enum_mgmt"),
    (crate::wire::group::FS, "fs_mgmt"),
    (crate::wire::group::IMAGE, "img_mgmt"),
    (crate::wire::group::OS, "os_mgmt"),
    (crate::wire::group::SETTINGS, "settings_mgmt"),
    (crate::wire::group::SHELL, "shell_mgmt"),
    (crate::wire::group::STAT, "stat_mgmt"),
    (crate::wire::group::ZEPHYR_BASIC, "zephyr_basic_mgmt"),
];

/// Where group `id` comes in [`ZEPHYR_ORDER`] (groups Zephyr does not have come last, in
/// the order they are given): a sort key for a port's registration.
pub fn zephyr_rank(id: u16) -> usize {
    ZEPHYR_ORDER
        .iter()
        .position(|(g, _)| *g == id)
        .unwrap_or(ZEPHYR_ORDER.len())
}

pub mod basic;
pub mod enum_;
pub mod fs;
pub mod img;
pub mod os;
pub mod settings;
pub mod shell;
pub mod stat;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::{Config, Meta, Server};
    use crate::testing::{
        body, hex, packet, Bytes, FakeOs, FakeSettings, FakeShell, FakeStats, FakeStorage, MemFs,
    };

    /// Zephyr's `mcumgr_handlers_init` (subsys/mgmt/mcumgr/mgmt/src/mgmt.c) registers in
    /// the iterable section's order, sorted by handler name: enum list then reports
    /// [10, 8, 0, 3, 9, 2, 63] for these groups (no image group here), and `single`'s
    /// index 0 is the enumeration group itself.
    #[test]
    fn zephyr_order_is_by_handler_name() {
        assert!(ZEPHYR_ORDER.windows(2).all(|w| w[0].1 < w[1].1));
        let mut os = os::OsGroup::new(FakeOs::default(), Default::default());
        let mut st = stat::StatGroup::new(FakeStats::default(), Default::default());
        let mut se: settings::SettingsGroup<_> =
            settings::SettingsGroup::new(FakeSettings::default(), Default::default());
        let mut f: fs::FsGroup<_, 256> = fs::FsGroup::new(MemFs::default(), Default::default());
        let mut sh: shell::ShellGroup<_> =
            shell::ShellGroup::new(FakeShell::default(), Default::default());
        let mut en = enum_::EnumGroup::new();
        let mut ba = basic::BasicGroup::new(FakeStorage::default());
        let mut groups: [&mut dyn crate::server::Group; 7] =
            [&mut os, &mut st, &mut se, &mut f, &mut sh, &mut en, &mut ba];
        groups.sort_by_key(|g| zephyr_rank(g.id()));
        let mut server: Server<'_, 8> = Server::new(Config::default());
        for g in groups {
            server.register(g).unwrap();
        }
        // enum list (v2 read, seq 5, id 1): {"groups": [10, 8, 0, 3, 9, 2, 24 63]}
        let list = crate::testing::exchange(
            &mut server,
            Meta::default(),
            &hex("08 00 00 01 00 0a 05 01 a0"),
        );
        assert_eq!(
            list,
            hex("09 00 00 13 00 0a 05 01 bf 66 67 72 6f 75 70 73 9f 0a 08 00 03 09 02 18 3f ff ff")
        );
        // enum single index 0 (v2 read, seq 6, id 2): {"group": 10} ("end" only on the last)
        let single = crate::testing::exchange(
            &mut server,
            Meta::default(),
            &hex("08 00 00 08 00 0a 06 02 a1 65 69 6e 64 65 78 00"),
        );
        assert_eq!(
            single,
            hex("09 00 00 09 00 0a 06 02 bf 65 67 72 6f 75 70 0a ff")
        );
    }

    /// Every single-byte mutation of a valid request of each new group gets an answer or a
    /// well-defined silence, never a panic, and the file system never leaks handles.
    #[test]
    fn no_input_panics_any_group() {
        let mut os = os::OsGroup::new(FakeOs::default(), Default::default());
        let mut st = stat::StatGroup::new(FakeStats::default(), Default::default());
        let mut se: settings::SettingsGroup<_> =
            settings::SettingsGroup::new(FakeSettings::with_roots(&["foo"]), Default::default());
        let mut f: fs::FsGroup<_, 256> = fs::FsGroup::new(
            MemFs::with_files(&[("/lfs1/a", b"0123456789")]),
            Default::default(),
        );
        let mut sh: shell::ShellGroup<_> =
            shell::ShellGroup::new(FakeShell::default(), Default::default());
        let mut en = enum_::EnumGroup::new();
        let mut ba = basic::BasicGroup::new(FakeStorage::default());
        let mut server: Server<'_, 8> = Server::new(Config::default());
        server.register(&mut os).unwrap();
        server.register(&mut st).unwrap();
        server.register(&mut se).unwrap();
        server.register(&mut f).unwrap();
        server.register(&mut sh).unwrap();
        server.register(&mut en).unwrap();
        server.register(&mut ba).unwrap();

        let reqs: [Bytes; 9] = [
            packet(
                0x08,
                2,
                0,
                0,
                &body(|e| {
                    e.str("name")?.str("smp_svr_stats")?;
                    Ok(())
                }),
            ),
            packet(
                0x0a,
                3,
                0,
                0,
                &body(|e| {
                    e.str("name")?.str("foo/x")?.str("val")?.bytes(b"12")?;
                    Ok(())
                }),
            ),
            packet(
                0x08,
                3,
                0,
                0,
                &body(|e| {
                    e.str("name")?.str("foo/x")?.str("max_size")?.u8(40)?;
                    Ok(())
                }),
            ),
            packet(
                0x0a,
                8,
                0,
                0,
                &body(|e| {
                    e.str("name")?.str("/lfs1/b")?.str("off")?.u8(0)?;
                    e.str("data")?.bytes(b"xyz")?.str("len")?.u8(6)?;
                    Ok(())
                }),
            ),
            packet(
                0x08,
                8,
                0,
                0,
                &body(|e| {
                    e.str("name")?.str("/lfs1/a")?.str("off")?.u8(0)?;
                    Ok(())
                }),
            ),
            packet(
                0x08,
                8,
                0,
                2,
                &body(|e| {
                    e.str("name")?.str("/lfs1/a")?.str("type")?.str("sha256")?;
                    Ok(())
                }),
            ),
            packet(
                0x0a,
                9,
                0,
                0,
                &body(|e| {
                    e.str("argv")?
                        .begin_array()?
                        .str("echo")?
                        .str("hi")?
                        .end()?;
                    Ok(())
                }),
            ),
            packet(
                0x08,
                10,
                0,
                3,
                &body(|e| {
                    e.str("groups")?.begin_array()?.u8(8)?.u8(9)?.end()?;
                    Ok(())
                }),
            ),
            hex("0a 00 00 02 00 3f 00 00 bf ff"),
        ];
        let mut tx = [0u8; 384];
        let mut now = 0u64;
        for base in &reqs {
            for i in 0..base.len() {
                for v in [
                    0x00u8, 0x01, 0x17, 0x18, 0x1b, 0x3f, 0x5f, 0x7f, 0x9f, 0xbf, 0xff,
                ] {
                    let mut m = base.clone();
                    m[i] = v;
                    now += 1;
                    server.process(
                        Meta {
                            transport: (i % 2) as u8,
                            now_ms: now,
                        },
                        &m,
                        &mut tx,
                        |r| {
                            assert!(r.len() >= 8);
                            assert_eq!(usize::from(u16::from_be_bytes([r[2], r[3]])), r.len() - 8);
                        },
                    );
                }
            }
        }
        drop(server);
        f.poll(u64::MAX);
        assert_eq!(f.fs().open_handles, 0);
    }
}
