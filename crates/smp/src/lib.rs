//! # smp — the core of an SMP (MCUmgr) server
//!
//! This crate is the device side of MCUmgr's Simple Management Protocol, byte-compatible
//! with Zephyr's `subsys/mgmt/mcumgr`. It is `#![no_std]`, uses no allocator, and the
//! request path allocates nothing: requests are decoded from the receive buffer and
//! responses are encoded straight into a caller-provided transmit buffer.
//!
//! The layers, each using only those above it (as the `use crate::...` lines are; see
//! docs/architecture.md for the whole picture):
//!
//! - [`wire`]: the 8-byte header, operations, versions, group ids and `rc` codes;
//! - [`codec`]: byte framings (the serial console's Base64 lines, raw UART); uses `wire`;
//! - [`server`]: the [`Group`](server::Group) trait, the errors, the registry and the
//!   dispatcher; uses `wire`;
//! - [`cbor`]: hand-written request decoding helpers; uses `server`'s error type;
//! - [`platform`]: the traits a port implements (OS services, flash, boot control, ...);
//!   uses `server`'s error type;
//! - [`mcuboot`]: MCUboot's image format, hash and signature checks, trailer and swap
//!   decisions (knows nothing of CBOR); implements `platform`'s boot control;
//! - [`groups`]: one module per command group, over all of the above.
//!
//! Tests and fuzz targets share `testing` (feature `_test`): a fake per platform trait
//! and the one test client.
//!
//! A port builds its groups over its platform, registers them with a
//! [`Server`](server::Server), and feeds it packets:
//!
//! ```
//! use smp::server::{Config, Meta, Server};
//! use smp::groups::os::OsGroup;
//! # use smp::testing::FakeOs;
//! let mut os = OsGroup::new(FakeOs::default(), Default::default());
//! let mut server: Server<'_, 8> = Server::new(Config::default());
//! server.register(&mut os).unwrap();
//! // A v1 echo of "abc", answered with "r" in place of "d".
//! let req = [0x02, 0, 0, 0x08, 0, 0, 1, 0, 0xbf, 0x61, 0x64, 0x63, b'a', b'b', b'c', 0xff];
//! let mut tx = [0u8; 384];
//! let mut got = [0u8; 16];
//! server.process(Meta::default(), &req, &mut tx, |rsp| got.copy_from_slice(rsp));
//! assert_eq!(got, [0x03, 0, 0, 0x08, 0, 0, 1, 0, 0xbf, 0x61, 0x72, 0x63, b'a', b'b', b'c', 0xff]);
//! ```

#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod cbor;
pub mod codec;
pub mod groups;
pub mod mcuboot;
pub mod platform;
pub mod server;
pub mod wire;

#[cfg(any(test, feature = "_test"))]
pub mod testing;
