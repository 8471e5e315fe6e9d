//! Zephyr basic management group (63), after Zephyr's `basic_mgmt.c`.
//!
//! | id | command | op | request | response |
//! |---|---|---|---|---|
//! | 0 | erase storage | W | ignored | empty |
//!
//! Erases the whole storage partition through the platform's [`StorageErase`].
//!
//! Group error codes ([`BasicMgmtErr`]) and their SMP v1 translation: 1 unknown → 1, 2 flash open
//! failed → 5, 3 flash config query failed → 1, 4 flash erase failed → 1. (Zephyr
//! translates 3 and 4 to 0, which makes a malformed v1 reply; an error must never read as
//! success, so they become 1 here.)

use crate::platform::{EraseError, StorageErase};
use crate::server::{group_error, Ctx, Error, Group, Response};
use crate::wire::{group, Rc};

/// Command ids.
pub mod cmd {
    /// Erase the storage partition.
    pub const ERASE_STORAGE: u8 = 0;
}

/// Zephyr basic group error codes (`zephyr_basic_group_err_code_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum BasicMgmtErr {
    /// Unknown error.
    Unknown = 1,
    /// The storage area could not be opened.
    FlashOpenFailed = 2,
    /// The flash device could not be queried.
    FlashConfigQueryFail = 3,
    /// The erase failed.
    FlashEraseFailed = 4,
}

group_error!(BasicMgmtErr, group::ZEPHYR_BASIC);

/// Translates a basic group error for SMP v1 (never to 0).
pub fn v1_rc(rc: u16) -> Rc {
    match rc {
        2 => Rc::NoEnt,
        _ => Rc::Unknown,
    }
}

/// The Zephyr basic group over a storage partition `P`.
pub struct BasicGroup<P: StorageErase> {
    storage: P,
}

impl<P: StorageErase> BasicGroup<P> {
    /// A new basic group.
    pub fn new(storage: P) -> Self {
        BasicGroup { storage }
    }

    /// The storage partition.
    pub fn storage(&self) -> &P {
        &self.storage
    }

    /// The storage partition, mutably.
    pub fn storage_mut(&mut self) -> &mut P {
        &mut self.storage
    }
}

impl<P: StorageErase> Group for BasicGroup<P> {
    fn id(&self) -> u16 {
        group::ZEPHYR_BASIC
    }

    fn name(&self) -> &'static str {
        "zephyr basic mgmt"
    }

    fn handlers(&self) -> u8 {
        cmd::ERASE_STORAGE + 1
    }

    fn handle(&mut self, ctx: &Ctx<'_>, _rsp: &mut Response<'_>) -> Result<(), Error> {
        match (ctx.header.id, ctx.is_read()) {
            (cmd::ERASE_STORAGE, false) => self.storage.erase_storage().map_err(|e| {
                match e {
                    EraseError::Open => BasicMgmtErr::FlashOpenFailed,
                    EraseError::ConfigQuery => BasicMgmtErr::FlashConfigQueryFail,
                    EraseError::Erase => BasicMgmtErr::FlashEraseFailed,
                }
                .into()
            }),
            _ => Err(Rc::NotSup.into()),
        }
    }

    fn v1_rc(&self, rc: u16) -> Rc {
        v1_rc(rc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::{Config as ServerConfig, Meta, Server};
    use crate::testing::{exchange, hex, Bytes, FakeStorage};

    fn run(g: &mut BasicGroup<FakeStorage>, req: &[u8]) -> Bytes {
        let mut s: Server<'_, 1> = Server::new(ServerConfig::default());
        s.register(g).unwrap();
        exchange(&mut s, Meta::default(), req)
    }

    #[test]
    fn erase_storage() {
        let mut g = BasicGroup::new(FakeStorage::default());
        assert_eq!(
            run(&mut g, &hex("0a 00 00 02 00 3f 01 00 bf ff")),
            hex("0b 00 00 02 00 3f 01 00 bf ff")
        );
        assert_eq!(g.storage().erases, 1);
        // the payload is ignored, even an empty one
        assert_eq!(
            run(&mut g, &hex("0a 00 00 00 00 3f 01 00")),
            hex("0b 00 00 02 00 3f 01 00 bf ff")
        );
        // read: rc 8
        assert_eq!(
            run(&mut g, &hex("08 00 00 02 00 3f 01 00 bf ff")),
            hex("09 00 00 06 00 3f 01 00 bf 62 72 63 08 ff")
        );
    }

    #[test]
    fn errors_and_v1_never_zero() {
        let mut g = BasicGroup::new(FakeStorage::default());
        for (e, code, v1) in [
            (EraseError::Open, 2u8, 5u8),
            (EraseError::ConfigQuery, 3, 1),
            (EraseError::Erase, 4, 1),
        ] {
            g.storage_mut().fail = Some(e);
            let mut want = hex(
                "0b 00 00 14 00 3f 01 00 bf 63 65 72 72 bf 65 67 72 6f 75 70 18 3f 62 72 63 00 ff ff",
            );
            want[25] = code;
            assert_eq!(run(&mut g, &hex("0a 00 00 02 00 3f 01 00 bf ff")), want);
            let mut want_v1 = hex("03 00 00 06 00 3f 01 00 bf 62 72 63 00 ff");
            want_v1[12] = v1;
            assert_eq!(run(&mut g, &hex("02 00 00 02 00 3f 01 00 bf ff")), want_v1);
        }
    }
}
