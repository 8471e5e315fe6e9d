//! `log` crate backend: every record becomes one line in Zephyr's logger, through
//! `smp_port_log()`.
//!
//! Records are formatted into a fixed buffer on the stack (no allocator); longer messages
//! are cut at `LINE_MAX` (120) bytes.

use core::fmt::{self, Write as _};

use log::{Level, LevelFilter, Log, Metadata, Record};

use crate::port;
use crate::port_sys as sys;

/// Longest log line passed to Zephyr, without the NUL.
pub(crate) const LINE_MAX: usize = 120;

/// Formats into a fixed buffer, silently cutting what does not fit.
pub(crate) struct LineBuf {
    buf: [u8; LINE_MAX + 1],
    len: usize,
}

impl LineBuf {
    pub(crate) const fn new() -> Self {
        LineBuf {
            buf: [0; LINE_MAX + 1],
            len: 0,
        }
    }

    /// The text followed by a NUL byte.
    pub(crate) fn with_nul(&mut self) -> &[u8] {
        self.buf[self.len] = 0;
        &self.buf[..=self.len]
    }
}

impl fmt::Write for LineBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut take = s.len().min(LINE_MAX - self.len);
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        self.buf[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        Ok(())
    }
}

struct ZephyrLogger;

static LOGGER: ZephyrLogger = ZephyrLogger;

impl Log for ZephyrLogger {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &Record<'_>) {
        let level = match record.level() {
            Level::Error => sys::SMP_PORT_LOG_ERR,
            Level::Warn => sys::SMP_PORT_LOG_WRN,
            Level::Info => sys::SMP_PORT_LOG_INF,
            Level::Debug | Level::Trace => sys::SMP_PORT_LOG_DBG,
        };
        let mut line = LineBuf::new();
        let _ = write!(line, "{}", record.args());
        port::log_line(level, line.with_nul());
    }

    fn flush(&self) {}
}

/// Installs the logger, filtering at `CONFIG_SMP_RS_LOG_LEVEL` (Zephyr's levels: 0 off,
/// 1 error, 2 warning, 3 info, 4 debug) so that records Zephyr would drop are not even
/// formatted.
pub fn init() {
    let max = match crate::kconfig::LOG_LEVEL {
        0 => LevelFilter::Off,
        1 => LevelFilter::Error,
        2 => LevelFilter::Warn,
        3 => LevelFilter::Info,
        _ => LevelFilter::Debug,
    };
    // SAFETY: called once from `smp_rs_init`, before the transports start, so no other
    // thread is logging through the `log` crate at this point (`set_logger_racy`'s
    // requirement; the safe variant needs compare-and-swap, which thumbv6m lacks).
    let _ = unsafe { log::set_logger_racy(&LOGGER) };
    // SAFETY: same single-threaded start-up as above.
    unsafe { log::set_max_level_racy(max) };
}
