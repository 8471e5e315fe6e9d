//! Statistics group (2), after Zephyr's `stat_mgmt.c`.
//!
//! | id | command | op | request | response |
//! |---|---|---|---|---|
//! | 0 | show group | R | `name`: tstr (1..`name_len`−1 bytes) | `name` (echo), `fields`: map counter → uint |
//! | 1 | list groups | R | ignored | `stat_list`: array of tstr |
//!
//! A missing, empty or too long `name` is `rc` 3; an unknown group is group error 3
//! (invalid stat name), tagged with group 2 (some Zephyr trees tag it 63; that bug is not
//! reproduced). Values are sent as 32-bit unsigned integers, truncated as Zephyr does,
//! unless [`Config::full_width`] is set.
//!
//! Group error codes ([`StatMgmtErr`]) and their SMP v1 translation: 1 unknown → 1, 2 invalid
//! group → 5, 3 invalid stat name → 5, 4 invalid stat size → 3, 5 walk aborted → 1.

use crate::cbor::{for_each_entry, once};
use crate::platform::Stats;
use crate::server::{group_error, Ctx, Error, Group, Response};
use crate::wire::{group, Rc};

/// Command ids.
pub mod cmd {
    /// Show one group's counters.
    pub const SHOW: u8 = 0;
    /// List the groups.
    pub const LIST: u8 = 1;
}

/// Statistics group error codes (`stat_mgmt_err_code_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum StatMgmtErr {
    /// Unknown error.
    Unknown = 1,
    /// Invalid group.
    InvalidGroup = 2,
    /// No statistics group of that name.
    InvalidStatName = 3,
    /// A counter has an unsupported size.
    InvalidStatSize = 4,
    /// The walk was aborted.
    WalkAborted = 5,
}

group_error!(StatMgmtErr, group::STAT);

/// Translates a statistics group error for SMP v1.
pub fn v1_rc(rc: u16) -> Rc {
    match rc {
        2 | 3 => Rc::NoEnt,
        4 => Rc::Inval,
        _ => Rc::Unknown,
    }
}

/// Build options of the statistics group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// `MCUMGR_GRP_STAT_MAX_NAME_LEN` (terminator included): requested names must be
    /// shorter; group and counter names are sent cut to this many bytes.
    pub name_len: usize,
    /// Send 64-bit counters in full instead of truncating them to 32 bits (a pending Zephyr
    /// change; off by default).
    pub full_width: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            name_len: 32,
            full_width: false,
        }
    }
}

/// The statistics group over a statistics source `S`.
pub struct StatGroup<S: Stats> {
    stats: S,
    config: Config,
}

impl<S: Stats> StatGroup<S> {
    /// A new statistics group.
    pub fn new(stats: S, config: Config) -> Self {
        StatGroup { stats, config }
    }

    /// The statistics source.
    pub fn stats(&self) -> &S {
        &self.stats
    }

    /// The statistics source, mutably.
    pub fn stats_mut(&mut self) -> &mut S {
        &mut self.stats
    }

    fn show(&mut self, ctx: &Ctx<'_>, rsp: &mut Response<'_>) -> Result<(), Error> {
        let mut name = None;
        for_each_entry(ctx.payload, |k, d| match k {
            "name" => once(&mut name, d.str()?),
            _ => Ok(false),
        })?;
        let name = match name {
            Some(n) if !n.is_empty() && n.len() < self.config.name_len => n,
            _ => return Err(Rc::Inval.into()),
        };
        // Find the group before writing anything, so an unknown name is a clean error.
        let exists = self.stats.counters(name, &mut |_, _| Ok(()))?;
        if !exists {
            return Err(StatMgmtErr::InvalidStatName.into());
        }
        let full = self.config.full_width;
        let enc = rsp.enc();
        enc.str("name")?.str(name)?.str("fields")?.begin_map()?;
        let max = self.config.name_len;
        self.stats.counters(name, &mut |field, v| {
            enc.str(cut(field, max))?;
            if full {
                enc.u64(v)?;
            } else {
                enc.u32(v as u32)?;
            }
            Ok(())
        })?;
        enc.end()?;
        Ok(())
    }

    fn list(&mut self, rsp: &mut Response<'_>) -> Result<(), Error> {
        let enc = rsp.enc();
        enc.str("stat_list")?.begin_array()?;
        let max = self.config.name_len;
        self.stats.groups(&mut |g| {
            enc.str(cut(g, max))?;
            Ok(())
        })?;
        enc.end()?;
        Ok(())
    }
}

/// A group or counter name as Zephyr encodes it, `zcbor_tstr_put_term(name,
/// MCUMGR_GRP_STAT_MAX_NAME_LEN)`: at most `max` bytes (stat_mgmt.c). Cut at the last
/// character boundary there (Zephyr's names are ASCII, where the two agree).
fn cut(name: &str, max: usize) -> &str {
    let mut end = name.len().min(max);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

impl<S: Stats> Group for StatGroup<S> {
    fn id(&self) -> u16 {
        group::STAT
    }

    fn name(&self) -> &'static str {
        "stat mgmt"
    }

    fn handlers(&self) -> u8 {
        cmd::LIST + 1
    }

    fn handle(&mut self, ctx: &Ctx<'_>, rsp: &mut Response<'_>) -> Result<(), Error> {
        match (ctx.header.id, ctx.is_read()) {
            (cmd::SHOW, true) => self.show(ctx, rsp),
            (cmd::LIST, true) => self.list(rsp),
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
    use crate::testing::{body, exchange, hex, packet, Bytes, FakeStats};

    fn run(g: &mut StatGroup<FakeStats>, req: &[u8]) -> Bytes {
        let mut s: Server<'_, 1> = Server::new(ServerConfig::default());
        s.register(g).unwrap();
        exchange(&mut s, Meta::default(), req)
    }

    fn show(name: &str, ov: u8) -> Bytes {
        packet(
            ov,
            2,
            4,
            0,
            &body(|e| {
                e.str("name")?.str(name)?;
                Ok(())
            }),
        )
    }

    #[test]
    fn show_smp_svr_stats() {
        let mut g = StatGroup::new(FakeStats::default(), Config::default());
        g.stats_mut().ticks = 42;
        // {"name":"smp_svr_stats","fields":{"ticks":42}}
        assert_eq!(
            run(&mut g, &show("smp_svr_stats", 0x08)),
            hex(
                "09 00 00 26 00 02 04 00 bf 64 6e 61 6d 65 6d 73 6d 70 5f 73 76 72 5f 73 74 61 74
                 73 66 66 69 65 6c 64 73 bf 65 74 69 63 6b 73 18 2a ff ff"
            )
        );
    }

    #[test]
    fn show_truncates_to_u32_unless_full_width() {
        let mut g = StatGroup::new(FakeStats::default(), Config::default());
        g.stats_mut().big = 0x1_0000_0005;
        let rsp = run(&mut g, &show("big", 0x08));
        // {"name":"big","fields":{"wide":5}}
        assert_eq!(
            &rsp[8..],
            &hex("bf 64 6e 61 6d 65 63 62 69 67 66 66 69 65 6c 64 73 bf 64 77 69 64 65 05 ff ff")[..]
        );
        g.config.full_width = true;
        let rsp = run(&mut g, &show("big", 0x08));
        assert_eq!(&rsp[31..40], &hex("1b 00 00 00 01 00 00 00 05")[..]);
    }

    #[test]
    fn show_errors() {
        let mut g = StatGroup::new(FakeStats::default(), Config::default());
        // unknown group: err {group 2, rc 3}; v1 -> rc 5
        assert_eq!(
            run(&mut g, &show("nope", 0x08)),
            hex("09 00 00 13 00 02 04 00 bf 63 65 72 72 bf 65 67 72 6f 75 70 02 62 72 63 03 ff ff")
        );
        assert_eq!(
            run(&mut g, &show("nope", 0x00)),
            hex("01 00 00 06 00 02 04 00 bf 62 72 63 05 ff")
        );
        let rc3 = hex("09 00 00 06 00 02 04 00 bf 62 72 63 03 ff");
        assert_eq!(run(&mut g, &show("", 0x08)), rc3);
        assert_eq!(run(&mut g, &show(&"x".repeat(32), 0x08)), rc3);
        assert_eq!(run(&mut g, &packet(0x08, 2, 4, 0, &hex("bf ff"))), rc3);
        // 31 bytes is the longest name: accepted (and unknown)
        let rsp = run(&mut g, &show(&"x".repeat(31), 0x08));
        assert_eq!(rsp[8..].len(), 19);
    }

    #[test]
    fn list_groups() {
        let mut g = StatGroup::new(FakeStats::default(), Config::default());
        // {"stat_list":["smp_svr_stats","big"]}
        assert_eq!(
            run(&mut g, &hex("08 00 00 02 00 02 00 01 bf ff")),
            hex(
                "09 00 00 20 00 02 00 01 bf 69 73 74 61 74 5f 6c 69 73 74 9f 6d 73 6d 70 5f 73 76
                 72 5f 73 74 61 74 73 63 62 69 67 ff ff"
            )
        );
        // Names longer than MCUMGR_GRP_STAT_MAX_NAME_LEN are sent cut to it:
        // {"stat_list":["smp_","big"]}
        let mut short = StatGroup::new(
            FakeStats::default(),
            Config {
                name_len: 4,
                ..Config::default()
            },
        );
        assert_eq!(
            &run(&mut short, &hex("08 00 00 02 00 02 00 01 bf ff"))[8..],
            &hex("bf 69 73 74 61 74 5f 6c 69 73 74 9f 64 73 6d 70 5f 63 62 69 67 ff ff")[..]
        );
        assert_eq!(
            (cut("wide", 3), cut("ab", 3), cut("aé", 2)),
            ("wid", "ab", "a")
        );
        // the payload is ignored, even an empty one
        assert_eq!(run(&mut g, &packet(0x08, 2, 0, 1, &[])).len(), 40);
        // write op: rc 8
        assert_eq!(
            run(&mut g, &hex("0a 00 00 02 00 02 00 01 bf ff")),
            hex("0b 00 00 06 00 02 00 01 bf 62 72 63 08 ff")
        );
    }
}
