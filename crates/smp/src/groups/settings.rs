//! Settings management group (3), after Zephyr's `settings_mgmt.c`.
//!
//! | id | command | op | request | response |
//! |---|---|---|---|---|
//! | 0 | read | R | `name`: tstr, opt `max_size`: uint | `val`: bstr, `max_size` (only if the request's was reduced) |
//! | 0 | write | W | `name`, `val`: bstr | empty |
//! | 1 | delete | W | `name` | empty |
//! | 2 | commit | W | ignored | empty |
//! | 3 | load | R | ignored | empty |
//! | 3 | save | W | opt `name` (save only that subtree) | empty |
//!
//! A missing or empty `name` is `rc` 3; a name of `name_len` (32) bytes or more is group
//! error 2. Reads use a `V`-byte buffer (`CONFIG_MCUMGR_GRP_SETTINGS_VALUE_LEN`, 32): a
//! larger `max_size` is clamped and the reply carries `"max_size": V`. Store errors map as
//! Zephyr maps the handler's errno: no handler for the root (`-EINVAL`) → 5, unknown key
//! (`-ENOENT`) → 3, unsupported (`-ENOTSUP`) → 4 / 6 / 7 / 8 for read / write / delete /
//! save, anything else → 1. A save with an empty payload is a full save (the stored
//! versions of Zephyr's `settings_mgmt_save` read no payload; trees that take a subtree
//! `name` are followed when one is sent). Zephyr ignores the result of commit, load and
//! save; this group reports their failures with the same mapping (a host store that cannot
//! persist should say so).
//!
//! Group error codes ([`SettingsMgmtErr`]) and their SMP v1 translation: 1 unknown → 1, 2 key too long
//! → 3, 3 key not found → 5, 4 read not supported → 5, 5 root key not found → 1, 6 write
//! not supported → 1, 7 delete not supported → 1, 8 save not supported → 1.

use crate::cbor::{for_each_entry, once};
use crate::platform::{Settings, SettingsError};
use crate::server::{group_error, Ctx, Error, Group, Response};
use crate::wire::{group, Rc};

/// Command ids.
pub mod cmd {
    /// Read (R) / write (W).
    pub const READ_WRITE: u8 = 0;
    /// Delete.
    pub const DELETE: u8 = 1;
    /// Commit.
    pub const COMMIT: u8 = 2;
    /// Load (R) / save (W).
    pub const LOAD_SAVE: u8 = 3;
}

/// Settings group error codes (`settings_mgmt_err_code_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum SettingsMgmtErr {
    /// Unknown error.
    Unknown = 1,
    /// The key is too long.
    KeyTooLong = 2,
    /// The key does not exist.
    KeyNotFound = 3,
    /// The key cannot be read.
    ReadNotSupported = 4,
    /// No handler for the root key.
    RootKeyNotFound = 5,
    /// The key cannot be written.
    WriteNotSupported = 6,
    /// The key cannot be deleted.
    DeleteNotSupported = 7,
    /// Save is not supported.
    SaveNotSupported = 8,
}

group_error!(SettingsMgmtErr, group::SETTINGS);

/// Translates a settings group error for SMP v1.
pub fn v1_rc(rc: u16) -> Rc {
    match rc {
        2 => Rc::Inval,
        3 | 4 => Rc::NoEnt,
        _ => Rc::Unknown,
    }
}

/// Build options of the settings group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// `MCUMGR_GRP_SETTINGS_NAME_LEN` (terminator included): names must be shorter.
    pub name_len: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config { name_len: 32 }
    }
}

/// Maps a store error; `not_sup` is the operation's "not supported" code.
fn store_err(e: SettingsError, not_sup: SettingsMgmtErr) -> Error {
    match e {
        SettingsError::NoRoot => SettingsMgmtErr::RootKeyNotFound,
        SettingsError::NotFound => SettingsMgmtErr::KeyNotFound,
        SettingsError::NotSup => not_sup,
        SettingsError::Other => SettingsMgmtErr::Unknown,
    }
    .into()
}

/// The settings group over a store `S`, with a `V`-byte read buffer.
pub struct SettingsGroup<S: Settings, const V: usize = 32> {
    store: S,
    config: Config,
    buf: [u8; V],
}

impl<S: Settings, const V: usize> SettingsGroup<S, V> {
    /// A new settings group.
    pub fn new(store: S, config: Config) -> Self {
        SettingsGroup {
            store,
            config,
            buf: [0; V],
        }
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The store, mutably.
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// Checks a name: `rc` 3 if missing or empty, group error 2 if too long.
    fn check_name<'n>(&self, name: Option<&'n str>) -> Result<&'n str, Error> {
        match name {
            None | Some("") => Err(Rc::Inval.into()),
            Some(n) if n.len() >= self.config.name_len => Err(SettingsMgmtErr::KeyTooLong.into()),
            Some(n) => Ok(n),
        }
    }

    fn read(&mut self, ctx: &Ctx<'_>, rsp: &mut Response<'_>) -> Result<(), Error> {
        let (mut name, mut max) = (None, None);
        for_each_entry(ctx.payload, |k, d| match k {
            "name" => once(&mut name, d.str()?),
            "max_size" => once(&mut max, d.u32()?),
            _ => Ok(false),
        })?;
        let name = self.check_name(name)?;
        let mut max = max.map_or(V, |m| m as usize);
        let limited = max > V;
        if limited {
            max = V;
        }
        let n = self
            .store
            .get(name, &mut self.buf[..max])
            .map_err(|e| store_err(e, SettingsMgmtErr::ReadNotSupported))?;
        let enc = rsp.enc();
        enc.str("val")?.bytes(&self.buf[..n.min(max)])?;
        if limited {
            enc.str("max_size")?.u32(V as u32)?;
        }
        Ok(())
    }

    fn write(&mut self, ctx: &Ctx<'_>) -> Result<(), Error> {
        let (mut name, mut val) = (None, None);
        for_each_entry(ctx.payload, |k, d| match k {
            "name" => once(&mut name, d.str()?),
            "val" => once(&mut val, d.bytes()?),
            _ => Ok(false),
        })?;
        let name = self.check_name(name)?;
        self.store
            .set(name, val.unwrap_or(&[]))
            .map_err(|e| store_err(e, SettingsMgmtErr::WriteNotSupported))
    }

    fn delete(&mut self, ctx: &Ctx<'_>) -> Result<(), Error> {
        let mut name = None;
        for_each_entry(ctx.payload, |k, d| match k {
            "name" => once(&mut name, d.str()?),
            _ => Ok(false),
        })?;
        let name = self.check_name(name)?;
        self.store
            .delete(name)
            .map_err(|e| store_err(e, SettingsMgmtErr::DeleteNotSupported))
    }

    fn save(&mut self, ctx: &Ctx<'_>) -> Result<(), Error> {
        // The payload is ignored by older trees; newest ones take an optional subtree name.
        let mut name = None;
        if !ctx.payload.is_empty() {
            for_each_entry(ctx.payload, |k, d| match k {
                "name" => once(&mut name, d.str()?),
                _ => Ok(false),
            })?;
        }
        let subtree = match name {
            Some(_) => Some(self.check_name(name)?),
            None => None,
        };
        self.store
            .save(subtree)
            .map_err(|e| store_err(e, SettingsMgmtErr::SaveNotSupported))
    }
}

impl<S: Settings, const V: usize> Group for SettingsGroup<S, V> {
    fn id(&self) -> u16 {
        group::SETTINGS
    }

    fn name(&self) -> &'static str {
        "settings mgmt"
    }

    fn handlers(&self) -> u8 {
        cmd::LOAD_SAVE + 1
    }

    fn handle(&mut self, ctx: &Ctx<'_>, rsp: &mut Response<'_>) -> Result<(), Error> {
        match (ctx.header.id, ctx.is_read()) {
            (cmd::READ_WRITE, true) => self.read(ctx, rsp),
            (cmd::READ_WRITE, false) => self.write(ctx),
            (cmd::DELETE, false) => self.delete(ctx),
            (cmd::COMMIT, false) => self
                .store
                .commit()
                .map_err(|e| store_err(e, SettingsMgmtErr::Unknown)),
            (cmd::LOAD_SAVE, true) => self
                .store
                .load()
                .map_err(|e| store_err(e, SettingsMgmtErr::Unknown)),
            (cmd::LOAD_SAVE, false) => self.save(ctx),
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
    use crate::testing::{body, exchange, hex, packet, Bytes, FakeSettings};

    fn run(g: &mut SettingsGroup<FakeSettings>, req: &[u8]) -> Bytes {
        let mut s: Server<'_, 1> = Server::new(ServerConfig::default());
        s.register(g).unwrap();
        exchange(&mut s, Meta::default(), req)
    }

    fn group() -> SettingsGroup<FakeSettings> {
        SettingsGroup::new(FakeSettings::with_roots(&["foo"]), Config::default())
    }

    fn named(ov: u8, id: u8, name: &str) -> Bytes {
        packet(
            ov,
            3,
            5,
            id,
            &body(|e| {
                e.str("name")?.str(name)?;
                Ok(())
            }),
        )
    }

    #[test]
    fn tv8_read() {
        let mut g = group();
        let req = hex("08 00 00 0f 00 03 05 00 bf 64 6e 61 6d 65 67 66 6f 6f 2f 62 61 72 ff");
        assert_eq!(req, named(0x08, 0, "foo/bar"));
        // key missing
        assert_eq!(
            run(&mut g, &req),
            hex("09 00 00 13 00 03 05 00 bf 63 65 72 72 bf 65 67 72 6f 75 70 03 62 72 63 03 ff ff")
        );
        // present
        g.store_mut().set("foo/bar", &[1, 2]).unwrap();
        assert_eq!(
            run(&mut g, &req),
            hex("09 00 00 09 00 03 05 00 bf 63 76 61 6c 42 01 02 ff")
        );
        // no handler for the root
        let mut g = SettingsGroup::<FakeSettings>::new(FakeSettings::default(), Config::default());
        assert_eq!(
            run(&mut g, &req),
            hex("09 00 00 13 00 03 05 00 bf 63 65 72 72 bf 65 67 72 6f 75 70 03 62 72 63 05 ff ff")
        );
        // v1: key not found -> rc 5, no root -> rc 1
        let mut v1 = req.clone();
        v1[0] = 0x00;
        assert_eq!(&run(&mut g, &v1)[8..], &hex("bf 62 72 63 01 ff")[..]);
        let mut g = group();
        assert_eq!(&run(&mut g, &v1)[8..], &hex("bf 62 72 63 05 ff")[..]);
    }

    #[test]
    fn read_max_size_rule() {
        let mut g = group();
        g.store_mut().set("foo/v", b"0123456789").unwrap();
        let read = |max: u32| {
            packet(
                0x08,
                3,
                5,
                0,
                &body(|e| {
                    e.str("name")?.str("foo/v")?.str("max_size")?.u32(max)?;
                    Ok(())
                }),
            )
        };
        // smaller max_size: value cut, no max_size key
        assert_eq!(
            &run(&mut g, &read(4))[8..],
            &hex("bf 63 76 61 6c 44 30 31 32 33 ff")[..]
        );
        // larger than 32: clamped, "max_size":32 added
        assert_eq!(
            &run(&mut g, &read(100))[8..],
            &hex("bf 63 76 61 6c 4a 30 31 32 33 34 35 36 37 38 39 68 6d 61 78 5f 73 69 7a 65 18 20 ff")[..]
        );
        // exactly 32: not reduced
        assert_eq!(run(&mut g, &read(32)).len(), 8 + 17);
    }

    #[test]
    fn write_delete_and_names() {
        let mut g = group();
        let write = |name: &str, val: &[u8]| {
            packet(
                0x0a,
                3,
                5,
                0,
                &body(|e| {
                    e.str("name")?.str(name)?.str("val")?.bytes(val)?;
                    Ok(())
                }),
            )
        };
        assert_eq!(
            run(&mut g, &write("foo/a", b"xy")),
            hex("0b 00 00 02 00 03 05 00 bf ff")
        );
        assert_eq!(g.store().value("foo/a"), Some(&b"xy"[..]));
        assert_eq!(
            run(&mut g, &named(0x0a, 1, "foo/a")),
            hex("0b 00 00 02 00 03 05 01 bf ff")
        );
        assert_eq!(g.store().value("foo/a"), None);
        // a store that reports -ENOENT on delete: err 3 (Zephyr's own backends answer 0 for a
        // missing key, see `Settings::delete`); read-only key: write err 6, delete err 7
        let err = |rc: u8| {
            let mut v = hex("bf 63 65 72 72 bf 65 67 72 6f 75 70 03 62 72 63 00 ff ff");
            v[16] = rc;
            v
        };
        assert_eq!(&run(&mut g, &named(0x0a, 1, "foo/a"))[8..], &err(3)[..]);
        assert_eq!(&run(&mut g, &write("foo/ro", b"1"))[8..], &err(6)[..]);
        assert_eq!(&run(&mut g, &named(0x0a, 1, "foo/ro"))[8..], &err(7)[..]);
        assert_eq!(&run(&mut g, &named(0x08, 0, "foo/wo"))[8..], &err(4)[..]);
        // names: 31 bytes accepted, 32 is err 2 (v1 rc 3), empty/missing rc 3
        let n31 = "foo/aaaaaaaaaaaaaaaaaaaaaaaaaaa";
        assert_eq!(n31.len(), 31);
        assert_eq!(&run(&mut g, &write(n31, b"1"))[8..], &hex("bf ff")[..]);
        let n32 = "foo/aaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        assert_eq!(&run(&mut g, &write(n32, b"1"))[8..], &err(2)[..]);
        let mut v1 = write(n32, b"1");
        v1[0] = 0x02;
        assert_eq!(&run(&mut g, &v1)[8..], &hex("bf 62 72 63 03 ff")[..]);
        assert_eq!(
            &run(&mut g, &write("", b"1"))[8..],
            &hex("bf 62 72 63 03 ff")[..]
        );
        assert_eq!(
            &run(&mut g, &packet(0x0a, 3, 5, 1, &hex("bf ff")))[8..],
            &hex("bf 62 72 63 03 ff")[..]
        );
    }

    /// Zephyr's `settings_mgmt_save` (subsys/mgmt/mcumgr/grp/settings_mgmt/src/
    /// settings_mgmt.c @09078aed8163, and the other stored version read) never decodes the
    /// payload: a save with a zero-length payload (v2 write, group 3, seq 9, id 3) is a
    /// full `settings_save()` answered with an empty map, not rc 3.
    #[test]
    fn save_with_an_empty_payload_succeeds() {
        let mut g = group();
        assert_eq!(
            run(&mut g, &hex("0a 00 00 00 00 03 09 03")),
            hex("0b 00 00 02 00 03 09 03 bf ff")
        );
        assert_eq!(g.store().saves, 1);
        assert_eq!(g.store().last_subtree, None);
    }

    #[test]
    fn commit_load_save() {
        let mut g = group();
        assert_eq!(
            run(&mut g, &hex("0a 00 00 02 00 03 05 02 bf ff")),
            hex("0b 00 00 02 00 03 05 02 bf ff")
        );
        assert_eq!(
            run(&mut g, &hex("08 00 00 02 00 03 05 03 bf ff")),
            hex("09 00 00 02 00 03 05 03 bf ff")
        );
        assert_eq!(
            run(&mut g, &hex("0a 00 00 02 00 03 05 03 bf ff")),
            hex("0b 00 00 02 00 03 05 03 bf ff")
        );
        // save with an empty payload, and with a subtree
        assert_eq!(
            &run(&mut g, &packet(0x0a, 3, 5, 3, &[]))[8..],
            &hex("bf ff")[..]
        );
        assert_eq!(&run(&mut g, &named(0x0a, 3, "foo"))[8..], &hex("bf ff")[..]);
        let st = g.store();
        assert_eq!((st.commits, st.loads, st.saves), (1, 1, 3));
        assert_eq!(st.last_subtree.as_deref(), Some("foo"));
        // save with an empty name: rc 3; a store that cannot save: err 8
        assert_eq!(
            &run(&mut g, &named(0x0a, 3, ""))[8..],
            &hex("bf 62 72 63 03 ff")[..]
        );
        g.store_mut().no_save = true;
        assert_eq!(
            &run(&mut g, &hex("0a 00 00 02 00 03 05 03 bf ff"))[8..],
            &hex("bf 63 65 72 72 bf 65 67 72 6f 75 70 03 62 72 63 08 ff ff")[..]
        );
        // wrong ops
        assert_eq!(
            &run(&mut g, &hex("08 00 00 02 00 03 05 02 bf ff"))[8..],
            &hex("bf 62 72 63 08 ff")[..]
        );
        assert_eq!(
            &run(&mut g, &hex("08 00 00 02 00 03 05 01 bf ff"))[8..],
            &hex("bf 62 72 63 08 ff")[..]
        );
    }
}
