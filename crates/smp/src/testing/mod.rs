//! Test support (enabled by `cfg(test)` or the semver-exempt `_test` feature): one fake per
//! platform trait, a RAM NOR flash, an image builder, request/response bytes, the response
//! checks every test and fuzz target applies, and the one test [`Client`].
//!
//! | module | what |
//! | --- | --- |
//! | `os` | [`FakeOs`] ([`Os`](crate::platform::Os)) |
//! | `fs` | [`MemFs`] ([`Fs`](crate::platform::Fs)) |
//! | `stats` | [`FakeStats`] ([`Stats`](crate::platform::Stats)) |
//! | `shell` | [`FakeShell`] ([`Shell`](crate::platform::Shell)) |
//! | `settings` | [`FakeSettings`] ([`Settings`](crate::platform::Settings)) |
//! | `storage` | [`FakeStorage`] ([`StorageErase`](crate::platform::StorageErase)) |
//! | `flash` | [`RamFlash`] (`embedded_storage` NOR flash) |
//! | `image` | [`build_image`] |
//! | `packet` | [`hex`], [`packet`], [`body`], [`exchange`], [`rsp_body`] |
//! | `check` | [`check_response`], [`map_entries`], [`item`] |
//! | `client` | [`Client`], [`field`], [`rc`], [`err`], [`image_state`] |
//!
//! ```
//! use smp::groups::os::OsGroup;
//! use smp::testing::{field, Client, FakeOs};
//! use smp::wire::group;
//! let mut os = OsGroup::new(FakeOs::default(), Default::default());
//! let mut client: Client<'_> = Client::with(&mut os);
//! // mcumgr parameters: a read of OS command 6, checked as a well-formed reply.
//! let rsp = client.read(group::OS, 6, &[0xbf, 0xff]);
//! assert_eq!(field(&rsp, "buf_count"), Some(4));
//! ```

mod check;
mod client;
mod flash;
mod fs;
mod image;
mod os;
mod packet;
mod settings;
mod shell;
mod stats;
mod storage;

pub use check::{check_response, item, map_entries};
pub use client::{err, field, image_state, rc, Client, ImageEntry};
pub use flash::{RamFlash, RamFlashError};
pub use fs::{MemFile, MemFs, MemHandle, MEM_FILE_CAP};
pub use image::build_image;
pub use os::FakeOs;
pub use packet::{body, exchange, hex, packet, rsp_body, Bytes, EncResult};
pub use settings::FakeSettings;
pub use shell::FakeShell;
pub use stats::FakeStats;
pub use storage::FakeStorage;
