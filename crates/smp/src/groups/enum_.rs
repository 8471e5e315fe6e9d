//! Enumeration group (10), after Zephyr's `enum_mgmt.c`.
//!
//! | id | command | op | request | response |
//! |---|---|---|---|---|
//! | 0 | count | R | ignored | `count`: uint |
//! | 1 | list | R | ignored | `groups`: array of uint |
//! | 2 | single | R | opt `index`: uint (default 0) | `group`: uint, `end`: true (only for the last group) |
//! | 3 | details | R | opt `groups`: array of uint (filter) | `groups`: array of {`group`, `name`, `handlers`} |
//!
//! Everything is derived from the server's registry ([`Ctx::groups`]), in registration
//! order; nothing is kept by hand. `index` above 65535 is `rc` 3; an index past the last
//! group is group error 4; a filter of more than 16 entries is group error 2. Encoding
//! failures answer `rc` 9 (ECORRUPT), not 7, as in Zephyr.
//!
//! Group error codes ([`EnumMgmtErr`]) and their SMP v1 translation: 1 unknown → 1, 2 too many
//! group entries → 3, 3 insufficient heap → 1, 4 index too large → 1.

use minicbor::data::Type;

use crate::cbor::{for_each_entry, once};
use crate::server::{group_error, Ctx, Error, Group, Response};
use crate::wire::{group, Rc};

/// Command ids.
pub mod cmd {
    /// Number of groups.
    pub const COUNT: u8 = 0;
    /// Group ids.
    pub const LIST: u8 = 1;
    /// One group id by index.
    pub const SINGLE: u8 = 2;
    /// Group details.
    pub const DETAILS: u8 = 3;
}

/// Enumeration group error codes (`enum_mgmt_err_code_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum EnumMgmtErr {
    /// Unknown error.
    Unknown = 1,
    /// The details filter has too many entries.
    TooManyGroupEntries = 2,
    /// No heap for the filter (Zephyr heap mode; never sent here).
    InsufficientHeapForEntries = 3,
    /// The index is past the last group.
    IndexTooLarge = 4,
}

group_error!(EnumMgmtErr, group::ENUM);

/// Translates an enumeration group error for SMP v1.
pub fn v1_rc(rc: u16) -> Rc {
    match rc {
        2 => Rc::Inval,
        _ => Rc::Unknown,
    }
}

/// Most entries in a details filter (`MCUMGR_GRP_ENUM_DETAILS_BUFFER_TYPE_STACK_ENTRIES`).
pub const FILTER_MAX: usize = 16;

/// The enumeration group. It has no state: it reports the registry it is served from.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnumGroup;

impl EnumGroup {
    /// A new enumeration group.
    pub fn new() -> Self {
        EnumGroup
    }

    fn count(&self, ctx: &Ctx<'_>, rsp: &mut Response<'_>) -> Result<(), Error> {
        rsp.enc().str("count")?.u32(ctx.groups.len() as u32)?;
        Ok(())
    }

    fn list(&self, ctx: &Ctx<'_>, rsp: &mut Response<'_>) -> Result<(), Error> {
        let enc = rsp.enc();
        enc.str("groups")?.begin_array()?;
        for g in ctx.groups {
            enc.u16(g.id)?;
        }
        enc.end()?;
        Ok(())
    }

    fn single(&self, ctx: &Ctx<'_>, rsp: &mut Response<'_>) -> Result<(), Error> {
        let mut index = None;
        for_each_entry(ctx.payload, |k, d| match k {
            "index" => once(&mut index, d.u32()?),
            _ => Ok(false),
        })?;
        let index = index.unwrap_or(0);
        if index > 65535 {
            return Err(Rc::Inval.into());
        }
        let Some(g) = ctx.groups.get(index as usize) else {
            return Err(EnumMgmtErr::IndexTooLarge.into());
        };
        let enc = rsp.enc();
        enc.str("group")?.u16(g.id)?;
        if index as usize + 1 == ctx.groups.len() {
            enc.str("end")?.bool(true)?;
        }
        Ok(())
    }

    fn details(&self, ctx: &Ctx<'_>, rsp: &mut Response<'_>) -> Result<(), Error> {
        let mut filter = heapless::Vec::<u16, FILTER_MAX>::new();
        let mut seen = false;
        let mut too_many = false;
        for_each_entry(ctx.payload, |k, d| {
            if k != "groups" {
                return Ok(false);
            }
            if seen {
                return Err(Rc::Inval.into());
            }
            seen = true;
            let n = d.array()?;
            let mut i = 0u64;
            loop {
                match n {
                    Some(n) if i == n => break,
                    Some(_) => {}
                    None => {
                        if d.datatype()? == Type::Break {
                            d.skip()?;
                            break;
                        }
                    }
                }
                let id = d.u32()? as u16;
                i += 1;
                if filter.push(id).is_err() {
                    too_many = true;
                }
            }
            Ok(true)
        })?;
        if too_many {
            return Err(EnumMgmtErr::TooManyGroupEntries.into());
        }
        let enc = rsp.enc();
        enc.str("groups")?.begin_array()?;
        for g in ctx.groups {
            if !filter.is_empty() && !filter.contains(&g.id) {
                continue;
            }
            enc.begin_map()?;
            enc.str("group")?.u16(g.id)?;
            enc.str("name")?.str(g.name)?;
            enc.str("handlers")?.u8(g.handlers)?;
            enc.end()?;
        }
        enc.end()?;
        Ok(())
    }
}

impl Group for EnumGroup {
    fn id(&self) -> u16 {
        group::ENUM
    }

    fn name(&self) -> &'static str {
        "enum mgmt"
    }

    fn handlers(&self) -> u8 {
        cmd::DETAILS + 1
    }

    fn handle(&mut self, ctx: &Ctx<'_>, rsp: &mut Response<'_>) -> Result<(), Error> {
        let r = match (ctx.header.id, ctx.is_read()) {
            (cmd::COUNT, true) => self.count(ctx, rsp),
            (cmd::LIST, true) => self.list(ctx, rsp),
            (cmd::SINGLE, true) => self.single(ctx, rsp),
            (cmd::DETAILS, true) => self.details(ctx, rsp),
            _ => Err(Rc::NotSup.into()),
        };
        // Zephyr's enumeration group reports encoding failures as ECORRUPT.
        match r {
            Err(Error::Rc(Rc::MsgSize)) => Err(Rc::Corrupt.into()),
            r => r,
        }
    }

    fn v1_rc(&self, rc: u16) -> Rc {
        v1_rc(rc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::groups::os::OsGroup;
    use crate::groups::shell::ShellGroup;
    use crate::server::{Config as ServerConfig, Meta, Params, Server};
    use crate::testing::{body, exchange, hex, packet, Bytes, FakeOs, FakeShell};

    /// Runs `req` against a server holding os, enum and shell groups (in that order).
    fn run(req: &[u8]) -> Bytes {
        run_with(req, ServerConfig::default())
    }

    fn run_with(req: &[u8], cfg: ServerConfig) -> Bytes {
        let mut os = OsGroup::new(FakeOs::default(), Default::default());
        let mut en = EnumGroup::new();
        let mut sh: ShellGroup<FakeShell> =
            ShellGroup::new(FakeShell::default(), Default::default());
        let mut s: Server<'_, 4> = Server::new(cfg);
        s.register(&mut os).unwrap();
        s.register(&mut en).unwrap();
        s.register(&mut sh).unwrap();
        exchange(&mut s, Meta::default(), req)
    }

    #[test]
    fn tv5_count() {
        assert_eq!(
            run(&hex("08 00 00 02 00 0a 01 00 bf ff")),
            hex("09 00 00 09 00 0a 01 00 bf 65 63 6f 75 6e 74 03 ff")
        );
    }

    #[test]
    fn list_in_registration_order() {
        // {"groups":[0,10,9]}
        assert_eq!(
            run(&hex("08 00 00 02 00 0a 01 01 bf ff")),
            hex("09 00 00 0e 00 0a 01 01 bf 66 67 72 6f 75 70 73 9f 00 0a 09 ff ff")
        );
    }

    fn single(index: Option<u32>) -> Bytes {
        packet(
            0x08,
            10,
            1,
            2,
            &body(|e| {
                if let Some(i) = index {
                    e.str("index")?.u32(i)?;
                }
                Ok(())
            }),
        )
    }

    #[test]
    fn single_by_index() {
        // {"group":0}
        assert_eq!(
            run(&single(None)),
            hex("09 00 00 09 00 0a 01 02 bf 65 67 72 6f 75 70 00 ff")
        );
        assert_eq!(
            &run(&single(Some(1)))[8..],
            &hex("bf 65 67 72 6f 75 70 0a ff")[..]
        );
        // the last one: {"group":9,"end":true}
        assert_eq!(
            &run(&single(Some(2)))[8..],
            &hex("bf 65 67 72 6f 75 70 09 63 65 6e 64 f5 ff")[..]
        );
        // past the end: err 4 (v1: rc 1); above 65535: rc 3
        assert_eq!(
            &run(&single(Some(3)))[8..],
            &hex("bf 63 65 72 72 bf 65 67 72 6f 75 70 0a 62 72 63 04 ff ff")[..]
        );
        let mut req = single(Some(3));
        req[0] = 0x00;
        assert_eq!(&run(&req)[8..], &hex("bf 62 72 63 01 ff")[..]);
        assert_eq!(
            &run(&single(Some(65536)))[8..],
            &hex("bf 62 72 63 03 ff")[..]
        );
    }

    #[test]
    fn details_all_and_filtered() {
        let rsp = run(&hex("08 00 00 02 00 0a 01 03 bf ff"));
        let os = "bf 65 67 72 6f 75 70 00 64 6e 61 6d 65 67 6f 73 20 6d 67 6d 74 68 68 61 6e 64 6c 65 72 73 09 ff";
        let en = "bf 65 67 72 6f 75 70 0a 64 6e 61 6d 65 69 65 6e 75 6d 20 6d 67 6d 74 68 68 61 6e 64 6c 65 72 73 04 ff";
        // Zephyr's shell group has no name: "name" is the empty text string (60).
        let sh = "bf 65 67 72 6f 75 70 09 64 6e 61 6d 65 60 68 68 61 6e 64 6c 65 72 73 01 ff";
        let mut want = hex("bf 66 67 72 6f 75 70 73 9f");
        for part in [os, en, sh] {
            want.extend_from_slice(&hex(part)).unwrap();
        }
        want.extend_from_slice(&[0xff, 0xff]).unwrap();
        assert_eq!(&rsp[8..], &want[..]);
        // filter [9, 99]: only the shell group, registration order kept
        let req = packet(
            0x08,
            10,
            1,
            3,
            &body(|e| {
                e.str("groups")?.begin_array()?.u8(9)?.u8(99)?.end()?;
                Ok(())
            }),
        );
        let mut want = hex("bf 66 67 72 6f 75 70 73 9f");
        want.extend_from_slice(&hex(sh)).unwrap();
        want.extend_from_slice(&[0xff, 0xff]).unwrap();
        assert_eq!(&run(&req)[8..], &want[..]);
    }

    #[test]
    fn details_errors() {
        // 17 filter entries: err 2 (v1: rc 3)
        let req = packet(
            0x08,
            10,
            1,
            3,
            &body(|e| {
                e.str("groups")?.begin_array()?;
                for i in 0..17u8 {
                    e.u8(i)?;
                }
                e.end()?;
                Ok(())
            }),
        );
        assert_eq!(
            &run(&req)[8..],
            &hex("bf 63 65 72 72 bf 65 67 72 6f 75 70 0a 62 72 63 02 ff ff")[..]
        );
        let mut v1 = req.clone();
        v1[0] = 0x00;
        assert_eq!(&run(&v1)[8..], &hex("bf 62 72 63 03 ff")[..]);
        // not an array: rc 3
        assert_eq!(
            &run(&packet(
                0x08,
                10,
                1,
                3,
                &hex("bf 66 67 72 6f 75 70 73 01 ff")
            ))[8..],
            &hex("bf 62 72 63 03 ff")[..]
        );
        // a response that does not fit: rc 9, not 7
        let cfg = ServerConfig {
            params: Params {
                buf_size: 40,
                buf_count: 1,
            },
            support_v1: true,
        };
        assert_eq!(
            &run_with(&hex("08 00 00 02 00 0a 01 03 bf ff"), cfg)[8..],
            &hex("bf 62 72 63 09 ff")[..]
        );
        // writes are not supported
        assert_eq!(
            &run(&hex("0a 00 00 02 00 0a 01 00 bf ff"))[8..],
            &hex("bf 62 72 63 08 ff")[..]
        );
    }
}
