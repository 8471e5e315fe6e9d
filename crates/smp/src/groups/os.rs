//! OS management group (0), after Zephyr's `os_mgmt.c`.
//!
//! | id | command | op | request | response |
//! |---|---|---|---|---|
//! | 0 | echo | R, W | `d`: tstr | `r`: tstr |
//! | 1 | console echo control | — | — | rc 8 |
//! | 2 | task statistics | R | ignored | `tasks`: map name → {`prio`, `tid`, `state`, `stksiz`, `stkuse`, `runtime`} |
//! | 3 | memory pool statistics | R | ignored | `mpools`: map "0".. → {`nblks`, `nfree`, `min`} |
//! | 4 | date-time | R / W | — / `datetime`: tstr | `datetime`: tstr / empty |
//! | 5 | reset | W | opt `force`: bool, `boot_mode`: uint | empty, then reset |
//! | 6 | MCUmgr parameters | R | ignored | `buf_size`, `buf_count` |
//! | 7 | OS/application info | R | opt `format`: tstr | `output`: tstr |
//! | 8 | bootloader info | R | opt `query`: tstr | `bootloader` or `mode` (+ `no-downgrade`); an unknown query is the group error 3 (query yields no answer) |
//!
//! Group error codes ([`OsMgmtErr`]) and their SMP v1 translation
//! (`os_mgmt_translate_error_code`): 1 unknown → 1, 2 invalid format → 3, 3 query yields no
//! answer → 5, 4 RTC not set → 5, 5 RTC command failed → 1, 6 query response value not
//! valid → 5, 7 heap stats fetch failed → 5.
//!
//! The bootloader-info, reset and v1-translation behaviour is that of Zephyr's `os_mgmt.c`
//! since the bootloader-info hook and `boot_mode` (Zephyr 4.x; read in
//! DDC-NDRS/zephyr_rtos, a copy of Zephyr's tree, @1b84dc8d, the newest stored: the
//! zephyrproject-rtos copy stored, @b2d53f60, predates them).

use core::fmt::Write as _;

use crate::cbor::{for_each_entry, once};
use crate::platform::{DateTime, Os, ResetRequest, RtcError};
use crate::server::{group_error, Ctx, Error, Group, Response};
use crate::wire::{group, Rc};

/// Command ids.
pub mod cmd {
    /// Echo.
    pub const ECHO: u8 = 0;
    /// Console echo control (not implemented, as in Zephyr).
    pub const CONSOLE_ECHO: u8 = 1;
    /// Task statistics.
    pub const TASKSTAT: u8 = 2;
    /// Memory pool statistics.
    pub const MPSTAT: u8 = 3;
    /// Date-time get/set.
    pub const DATETIME: u8 = 4;
    /// Reset.
    pub const RESET: u8 = 5;
    /// MCUmgr parameters.
    pub const PARAMS: u8 = 6;
    /// OS/application info.
    pub const INFO: u8 = 7;
    /// Bootloader info.
    pub const BOOTLOADER_INFO: u8 = 8;
}

/// OS group error codes (`os_mgmt_err_code_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum OsMgmtErr {
    /// Unknown error.
    Unknown = 1,
    /// A format character of `os info` is not recognised.
    InvalidFormat = 2,
    /// Bootloader-info query has no answer.
    QueryYieldsNoAnswer = 3,
    /// RTC not set.
    RtcNotSet = 4,
    /// RTC command failed.
    RtcCommandFailed = 5,
    /// Query response value not valid.
    QueryResponseValueNotValid = 6,
    /// Heap statistics could not be fetched.
    HeapStatsFetchFailed = 7,
}

group_error!(OsMgmtErr, group::OS);

/// Translates an OS group error for SMP v1.
pub fn v1_rc(rc: u16) -> Rc {
    match rc {
        2 => Rc::Inval,
        3 | 4 | 6 | 7 => Rc::NoEnt,
        _ => Rc::Unknown,
    }
}

/// Build options of the OS group (Zephyr's Kconfig).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// `MCUMGR_GRP_OS_DATETIME_MS`: date-time carries `.mmm` milliseconds.
    pub datetime_ms: bool,
    /// `MCUMGR_GRP_OS_INFO_MAX_RESPONSE_SIZE` (32..=512): longest `os info` output + 1.
    pub info_max: usize,
    /// `MCUMGR_GRP_OS_TASKSTAT_THREAD_NAME_LEN`: thread names are cut to this length.
    pub thread_name_len: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            datetime_ms: false,
            info_max: 256,
            thread_name_len: 32,
        }
    }
}

/// Largest supported `info_max`.
const INFO_CAP: usize = 512;

/// The OS group over a platform `P`.
pub struct OsGroup<P: Os> {
    platform: P,
    config: Config,
}

impl<P: Os> OsGroup<P> {
    /// A new OS group.
    pub fn new(platform: P, config: Config) -> Self {
        OsGroup { platform, config }
    }

    /// The platform.
    pub fn platform(&self) -> &P {
        &self.platform
    }

    /// The platform, mutably.
    pub fn platform_mut(&mut self) -> &mut P {
        &mut self.platform
    }

    fn echo(&mut self, ctx: &Ctx<'_>, rsp: &mut Response<'_>) -> Result<(), Error> {
        let mut d = None;
        for_each_entry(ctx.payload, |k, dec| match k {
            "d" => once(&mut d, dec.str()?),
            _ => Ok(false),
        })?;
        let d = d.ok_or(Rc::Inval)?;
        rsp.enc().str("r")?.str(d)?;
        Ok(())
    }

    fn taskstat(&mut self, rsp: &mut Response<'_>) -> Result<(), Error> {
        let name_len = self.config.thread_name_len;
        let enc = rsp.enc();
        enc.str("tasks")?.begin_map()?;
        let mut tid = 0u32;
        self.platform.tasks(&mut |t| {
            let name = truncate_str(t.name, name_len);
            enc.str(name)?.begin_map()?;
            enc.str("prio")?.i32(t.prio)?;
            enc.str("tid")?.u32(tid)?;
            enc.str("state")?.u32(t.state)?;
            if let Some(s) = t.stack {
                enc.str("stksiz")?.u32(s.size / 4)?;
                enc.str("stkuse")?.u32(s.used / 4)?;
            }
            if let Some(r) = t.runtime {
                enc.str("runtime")?.u64(r)?;
            }
            enc.end()?;
            tid += 1;
            Ok(())
        })?;
        enc.end()?;
        Ok(())
    }

    fn mpstat(&mut self, rsp: &mut Response<'_>) -> Result<(), Error> {
        let enc = rsp.enc();
        enc.str("mpools")?.begin_map()?;
        let mut idx = 0u32;
        self.platform.heaps(&mut |h| {
            let mut key = heapless::String::<10>::new();
            let _ = write!(key, "{idx}");
            enc.str(&key)?.begin_map()?;
            enc.str("nblks")?.u64(h.size)?;
            enc.str("nfree")?.u64(h.free)?;
            enc.str("min")?.u64(h.min_free)?;
            enc.end()?;
            idx += 1;
            Ok(())
        })?;
        enc.end()?;
        Ok(())
    }

    fn datetime_get(&mut self, rsp: &mut Response<'_>) -> Result<(), Error> {
        let t = match self.platform.rtc_get() {
            Ok(t) => t,
            Err(RtcError::NotSet) => return rsp.group_err(OsMgmtErr::RtcNotSet),
            Err(RtcError::Failed) => return rsp.group_err(OsMgmtErr::RtcCommandFailed),
        };
        let mut s = heapless::String::<32>::new();
        let _ = write!(
            s,
            "{:4}-{:02}-{:02}T{:02}:{:02}:{:02}",
            t.year, t.month, t.day, t.hour, t.minute, t.second
        );
        if self.config.datetime_ms {
            let _ = write!(s, ".{:03}", t.millis);
        }
        rsp.enc().str("datetime")?.str(&s)?;
        Ok(())
    }

    fn datetime_set(&mut self, ctx: &Ctx<'_>, rsp: &mut Response<'_>) -> Result<(), Error> {
        let mut s = None;
        for_each_entry(ctx.payload, |k, dec| match k {
            "datetime" => once(&mut s, dec.str()?),
            _ => Ok(false),
        })?;
        let t = parse_datetime(s.ok_or(Rc::Inval)?, self.config.datetime_ms)?;
        if self.platform.rtc_set(&t).is_err() {
            rsp.group_err(OsMgmtErr::RtcCommandFailed)?;
        }
        Ok(())
    }

    fn reset(&mut self, ctx: &Ctx<'_>) -> Result<(), Error> {
        // As Zephyr does for this core command: a payload that fails to decode is ignored,
        // keeping what `zcbor_map_decode_bulk` decoded before the bad value, and the
        // defaults are used for the rest. `boot_mode` is decoded as a uint32: one above
        // 255 is refused (rc 3) and there is no reset.
        let mut force = None;
        let mut mode = None;
        let _ = for_each_entry(ctx.payload, |k, dec| match k {
            "force" => once(&mut force, dec.bool()?),
            "boot_mode" => once(&mut mode, dec.u32()?),
            _ => Ok(false),
        });
        let boot_mode = match mode {
            Some(m) => u8::try_from(m).map_err(|_| Rc::Inval)?,
            None => 0,
        };
        self.platform.reset(ResetRequest {
            force: force.unwrap_or(false),
            boot_mode,
        })
    }

    fn params(&mut self, ctx: &Ctx<'_>, rsp: &mut Response<'_>) -> Result<(), Error> {
        rsp.enc()
            .str("buf_size")?
            .u32(ctx.params.buf_size)?
            .str("buf_count")?
            .u32(ctx.params.buf_count)?;
        Ok(())
    }

    fn info(&mut self, ctx: &Ctx<'_>, rsp: &mut Response<'_>) -> Result<(), Error> {
        let mut format = None;
        for_each_entry(ctx.payload, |k, dec| match k {
            "format" => once(&mut format, dec.str()?),
            _ => Ok(false),
        })?;
        let format = format.unwrap_or("");
        let id = self.platform.identity();
        const S: u16 = 1 << 0;
        const N: u16 = 1 << 1;
        const R: u16 = 1 << 2;
        const V: u16 = 1 << 3;
        const B: u16 = 1 << 4;
        const M: u16 = 1 << 5;
        const P: u16 = 1 << 6;
        const I: u16 = 1 << 7;
        const O: u16 = 1 << 8;
        let mut mask = 0u16;
        for c in format.bytes() {
            mask |= match c {
                b's' => S,
                b'n' => N,
                b'r' => R,
                b'v' => V,
                b'b' if id.build_date_time.is_some() => B,
                b'm' => M,
                b'p' => P,
                b'i' => I,
                b'o' => O,
                b'a' => {
                    S | N | R | V | M | P | I | O | if id.build_date_time.is_some() { B } else { 0 }
                }
                _ => return rsp.group_err(OsMgmtErr::InvalidFormat),
            };
        }
        if mask == 0 {
            mask = S;
        }
        let parts: [(u16, &str); 9] = [
            (S, "Zephyr"),
            (N, id.node_name),
            (R, id.kernel_release),
            (V, id.kernel_version),
            (B, id.build_date_time.unwrap_or("")),
            (M, id.machine),
            (P, id.processor),
            (I, id.hardware_platform),
            (O, id.os_name),
        ];
        let limit = self.config.info_max.clamp(32, INFO_CAP);
        let mut out = heapless::String::<INFO_CAP>::new();
        for (bit, text) in parts {
            if mask & bit == 0 {
                continue;
            }
            if !out.is_empty() {
                out.push(' ').map_err(|_| Rc::MsgSize)?;
            }
            out.push_str(text).map_err(|_| Rc::MsgSize)?;
            // Zephyr formats into a buffer of `limit` bytes, terminator included.
            if out.len() >= limit {
                return Err(Rc::MsgSize.into());
            }
        }
        rsp.enc().str("output")?.str(&out)?;
        Ok(())
    }

    fn bootloader_info(&mut self, ctx: &Ctx<'_>, rsp: &mut Response<'_>) -> Result<(), Error> {
        let Some(bl) = self.platform.bootloader() else {
            return Err(Rc::NotSup.into());
        };
        let mut query = None;
        for_each_entry(ctx.payload, |k, dec| match k {
            "query" => once(&mut query, dec.str()?),
            _ => Ok(false),
        })?;
        match query {
            None => {
                rsp.enc().str("bootloader")?.str(bl.name)?;
            }
            Some("mode") => {
                rsp.enc().str("mode")?.i32(bl.mode)?;
                if bl.no_downgrade {
                    rsp.enc().str("no-downgrade")?.bool(true)?;
                }
            }
            // `smp_add_cmd_err(zse, MGMT_GROUP_ID_OS, OS_MGMT_ERR_QUERY_YIELDS_NO_ANSWER)`:
            // `{"err": {"group": 0, "rc": 3}}` in v2, `{"rc": 5}` (ENOENT) in v1.
            Some(_) => return Err(OsMgmtErr::QueryYieldsNoAnswer.into()),
        }
        Ok(())
    }
}

impl<P: Os> Group for OsGroup<P> {
    fn id(&self) -> u16 {
        group::OS
    }

    fn name(&self) -> &'static str {
        "os mgmt"
    }

    fn handlers(&self) -> u8 {
        cmd::BOOTLOADER_INFO + 1
    }

    fn handle(&mut self, ctx: &Ctx<'_>, rsp: &mut Response<'_>) -> Result<(), Error> {
        match (ctx.header.id, ctx.is_read()) {
            (cmd::ECHO, _) => self.echo(ctx, rsp),
            (cmd::TASKSTAT, true) => self.taskstat(rsp),
            (cmd::MPSTAT, true) => self.mpstat(rsp),
            (cmd::DATETIME, true) => self.datetime_get(rsp),
            (cmd::DATETIME, false) => self.datetime_set(ctx, rsp),
            (cmd::RESET, false) => self.reset(ctx),
            (cmd::PARAMS, true) => self.params(ctx, rsp),
            (cmd::INFO, true) => self.info(ctx, rsp),
            (cmd::BOOTLOADER_INFO, true) => self.bootloader_info(ctx, rsp),
            _ => Err(Rc::NotSup.into()),
        }
    }

    fn v1_rc(&self, rc: u16) -> Rc {
        v1_rc(rc)
    }
}

fn truncate_str(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Parses a `strtol`-style decimal: optional spaces and sign, then digits. Returns the
/// value and the index after the digits, or `None` if there are no digits.
fn strtol(s: &[u8], mut i: usize) -> Option<(i64, usize)> {
    while i < s.len() && (s[i] == b' ' || (b'\t'..=b'\r').contains(&s[i])) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let start = i;
    let mut v: i64 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        v = v.saturating_mul(10).saturating_add((s[i] - b'0') as i64);
        i += 1;
    }
    if i == start {
        return None;
    }
    Some((if neg { -v } else { v }, i))
}

/// Parses a date-time string the way current Zephyr does: `YYYY-MM-DDTHH:MM:SS`, each field
/// followed by one arbitrary delimiter, then (with millisecond support) an optional `.`
/// fraction read as up to three decimal digits. Anything after is ignored.
pub fn parse_datetime(s: &str, with_ms: bool) -> Result<DateTime, Error> {
    let b = s.as_bytes();
    if !(19..=31).contains(&b.len()) {
        return Err(Rc::Inval.into());
    }
    let limits: [(i64, i64); 6] = [(1900, 11899), (1, 12), (1, 31), (0, 23), (0, 59), (0, 59)];
    let mut vals = [0i64; 6];
    let mut pos = 0usize;
    for (i, (lo, hi)) in limits.iter().enumerate() {
        if pos >= b.len() {
            return Err(Rc::Inval.into());
        }
        let (v, end) = strtol(b, pos).ok_or(Rc::Inval)?;
        if v < *lo || v > *hi {
            return Err(Rc::Inval.into());
        }
        vals[i] = v;
        pos = end + 1;
    }
    let mut millis = 0u16;
    if with_ms && pos < b.len() && b[pos - 1] == b'.' {
        let mut scale = 100u16;
        for &c in b[pos..].iter().take(3) {
            if !c.is_ascii_digit() {
                break;
            }
            millis += (c - b'0') as u16 * scale;
            scale /= 10;
        }
    }
    Ok(DateTime {
        year: vals[0] as u16,
        month: vals[1] as u8,
        day: vals[2] as u8,
        hour: vals[3] as u8,
        minute: vals[4] as u8,
        second: vals[5] as u8,
        millis,
    })
}

#[cfg(test)]
mod tests;
