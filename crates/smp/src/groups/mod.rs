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
pub mod os;
pub mod settings;
pub mod shell;
pub mod stat;
