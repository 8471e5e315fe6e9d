//! Command groups, one module each. Every module lists its command ids, request and
//! response keys, and error codes.
//!
//! | group | id | module | platform trait |
//! |---|---|---|---|
//! | OS | 0 | [`os`] | [`Os`](crate::platform::Os) |
//! | statistics | 2 | [`stat`] | [`Stats`](crate::platform::Stats) |
//! | settings | 3 | [`settings`] | [`Settings`](crate::platform::Settings) |
//! | file system | 8 | [`fs`] | [`Fs`](crate::platform::Fs) |
//! | shell | 9 | [`shell`] | [`Shell`](crate::platform::Shell) |
//! | enumeration | 10 | [`enum_`] | none: it reports the registry |
//! | Zephyr basic | 63 | [`basic`] | [`StorageErase`](crate::platform::StorageErase) |
//!
//! A port builds each group over its platform and registers it; registration order is what
//! the enumeration group reports:
//!
//! ```
//! use smp::groups::{basic::BasicGroup, enum_::EnumGroup, fs::FsGroup, os::OsGroup};
//! use smp::groups::{settings::SettingsGroup, shell::ShellGroup, stat::StatGroup};
//! use smp::server::{Config, Meta, Server};
//! use smp::testing::{FakeOs, FakeSettings, FakeShell, FakeStats, FakeStorage, MemFs};
//!
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
//! server.register(&mut os).unwrap();
//! server.register(&mut stat).unwrap();
//! server.register(&mut settings).unwrap();
//! server.register(&mut fs).unwrap();
//! server.register(&mut shell).unwrap();
//! server.register(&mut enum_).unwrap();
//! server.register(&mut basic).unwrap();
//!
//! // enum count (v2 read): {"count": 7}
//! let req = [0x08, 0, 0, 2, 0, 10, 1, 0, 0xbf, 0xff];
//! let mut tx = [0u8; 384];
//! let mut rsp = [0u8; 17];
//! server.process(Meta { transport: 0, now_ms: 0 }, &req, &mut tx, |r| rsp.copy_from_slice(r));
//! assert_eq!(&rsp[8..], &[0xbf, 0x65, b'c', b'o', b'u', b'n', b't', 7, 0xff]);
//! ```

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
