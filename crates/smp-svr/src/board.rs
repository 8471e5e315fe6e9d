//! The emulated board: what one boot of the device knows, and what survives a reset.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use smp::platform::ResetRequest;

/// State that survives a (warm) reset but not the end of the process: like a board's RTC,
/// which keeps running across a reboot.
#[derive(Debug, Default)]
pub struct Persist {
    /// Offset of the emulated RTC from the host's UTC clock, in milliseconds.
    pub rtc_offset_ms: Cell<i64>,
    /// The RTC holds a time (`--rtc host`, or set by a client). Until then it reads as
    /// not set, as the RTC emulator of Zephyr's native_sim answers `-ENODATA`.
    pub rtc_valid: Cell<bool>,
    /// Number of boots (the device loads and records it in the state directory).
    pub boots: Cell<u32>,
    /// Lowest free heap seen (for `os mpstat`'s `min`).
    pub heap_min_free: Cell<Option<u64>>,
}

/// Identity strings reported by `os info`.
#[derive(Debug, Clone)]
pub struct Identity {
    /// `n`
    pub node_name: String,
    /// `r`
    pub kernel_release: String,
    /// `i`
    pub hardware_platform: String,
}

/// The Zephyr version whose mcumgr behaviour smp-svr reproduces; reported as the kernel
/// version (`os info` `v`, shell `kernel version`).
pub const KERNEL_VERSION: &str = "4.2.0";
/// `CONFIG_ARCH` of Zephyr's host boards.
pub const MACHINE: &str = "posix";
/// Processor name reported for the host.
pub const PROCESSOR: &str = "native";

/// One boot of the device.
#[derive(Debug)]
pub struct Board {
    boot: Instant,
    reset: Cell<Option<ResetRequest>>,
    /// State that outlives this boot.
    pub persist: Rc<Persist>,
    /// Identity strings.
    pub identity: Identity,
}

impl Board {
    /// Boots the board now.
    pub fn new(persist: Rc<Persist>, identity: Identity) -> Self {
        persist.boots.set(persist.boots.get() + 1);
        Board {
            boot: Instant::now(),
            reset: Cell::new(None),
            persist,
            identity,
        }
    }

    /// When this boot began (uptime 0).
    pub fn booted_at(&self) -> Instant {
        self.boot
    }

    /// Milliseconds since this boot.
    pub fn uptime_ms(&self) -> u64 {
        self.boot.elapsed().as_millis() as u64
    }

    /// Asks for a reset once the current request has been answered.
    pub fn request_reset(&self, req: ResetRequest) {
        self.reset.set(Some(req));
    }

    /// The pending reset request, if any.
    pub fn pending_reset(&self) -> Option<ResetRequest> {
        self.reset.get()
    }

    /// Host UTC time in milliseconds since the epoch.
    pub fn host_utc_ms() -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }

    /// The emulated RTC, in milliseconds since the epoch; `None` while it is not set.
    pub fn rtc_ms(&self) -> Option<i64> {
        self.persist
            .rtc_valid
            .get()
            .then(|| Self::host_utc_ms() + self.persist.rtc_offset_ms.get())
    }

    /// Sets the emulated RTC.
    pub fn set_rtc_ms(&self, ms: i64) {
        self.persist.rtc_offset_ms.set(ms - Self::host_utc_ms());
        self.persist.rtc_valid.set(true);
    }
}

/// A thread of this process, as /proc reports it.
#[derive(Debug, Clone)]
pub struct HostThread {
    /// Thread name (`comm`).
    pub name: String,
    /// Nice value.
    pub nice: i32,
    /// Zephyr-style thread state bits: 0 ready/running, 0x02 pending (sleeping),
    /// 0x10 suspended (stopped), 0x08 dead.
    pub state: u32,
}

/// Lists the threads of this process from /proc/self/task, in thread-id order.
pub fn host_threads() -> Vec<HostThread> {
    let mut ids: Vec<u64> = std::fs::read_dir("/proc/self/task")
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    ids.sort_unstable();
    ids.into_iter()
        .filter_map(|id| {
            let base = format!("/proc/self/task/{id}");
            let name = std::fs::read_to_string(format!("{base}/comm")).ok()?;
            let stat = std::fs::read_to_string(format!("{base}/stat")).ok()?;
            // Fields after the parenthesised name: state is the first, nice the 17th.
            let rest = &stat[stat.rfind(')')? + 2..];
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let state = match fields.first()?.chars().next()? {
                'R' => 0,
                'S' | 'D' | 'I' => 0x02,
                'T' | 't' => 0x10,
                _ => 0x08,
            };
            let nice = fields.get(16)?.parse().ok()?;
            Some(HostThread {
                name: name.trim_end().to_string(),
                nice,
                state,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_own_threads() {
        let (started, wait_started) = std::sync::mpsc::channel();
        let (stop, wait_stop) = std::sync::mpsc::channel::<()>();
        let h = std::thread::Builder::new()
            .name("probe_thread".into())
            .spawn(move || {
                // The name is applied by the new thread itself: report once running.
                started.send(()).unwrap();
                let _ = wait_stop.recv();
            })
            .unwrap();
        wait_started.recv().unwrap();
        let threads = host_threads();
        stop.send(()).unwrap();
        assert!(
            threads.iter().any(|t| t.name == "probe_thread"),
            "{threads:?}"
        );
        h.join().unwrap();
    }

    #[test]
    fn rtc_offset_survives_a_new_boot() {
        let p = Rc::new(Persist::default());
        let id = Identity {
            node_name: "n".into(),
            kernel_release: "r".into(),
            hardware_platform: "i".into(),
        };
        let b = Board::new(p.clone(), id.clone());
        assert_eq!(b.rtc_ms(), None, "an unset RTC reads as not set");
        b.set_rtc_ms(1_000_000);
        let b2 = Board::new(p, id);
        assert!((b2.rtc_ms().unwrap() - 1_000_000).abs() < 5_000);
        assert_eq!(b2.persist.boots.get(), 2);
    }
}
