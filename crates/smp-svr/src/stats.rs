//! Host statistics, served by the statistics group as Zephyr's `stats` groups.
//!
//! Groups, in this order (names and counters in Zephyr's snake_case style):
//!
//! - `smp_svr_stats`: `ticks`, seconds since boot (the smp_svr sample increments it once a
//!   second);
//! - one group per transport, named by the port when it registers it (e.g. `smp_udp0`,
//!   `smp_pty0`): `rx_pkts`, `rx_bytes`, `tx_pkts`, `tx_bytes`, `errors`, `dropped`;
//! - `smp_grp`: requests per SMP group, one counter per registered group named after the
//!   group (`os_mgmt`, `img_mgmt`, `fs_mgmt`, ...: Zephyr's handler names; other groups by
//!   their enumeration name, `grp_<id>` without one);
//! - `flash`: `bytes_written`, `erases`.
//!
//! Counters are atomics behind an [`Arc`]: each transport updates its own through a
//! [`TransportStats`] handle, and the statistics group reads them all.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use smp::platform::Stats;
use smp::server::{Error, GroupInfo};

/// Counters of one transport.
#[derive(Debug, Default)]
pub struct TransportCounters {
    /// Packets (datagrams or decoded frames) received.
    pub rx_pkts: AtomicU64,
    /// Bytes received.
    pub rx_bytes: AtomicU64,
    /// Packets sent.
    pub tx_pkts: AtomicU64,
    /// Bytes sent.
    pub tx_bytes: AtomicU64,
    /// Receive or send errors (undecodable frames, failed sends).
    pub errors: AtomicU64,
    /// Packets dropped (no free buffer, oversize).
    pub dropped: AtomicU64,
}

/// A transport's handle on its counters.
#[derive(Debug, Clone)]
pub struct TransportStats(Arc<TransportCounters>);

impl TransportStats {
    /// Counts a received packet of `bytes` bytes.
    pub fn rx(&self, bytes: usize) {
        self.0.rx_pkts.fetch_add(1, Relaxed);
        self.0.rx_bytes.fetch_add(bytes as u64, Relaxed);
    }

    /// Counts a sent packet of `bytes` bytes.
    pub fn tx(&self, bytes: usize) {
        self.0.tx_pkts.fetch_add(1, Relaxed);
        self.0.tx_bytes.fetch_add(bytes as u64, Relaxed);
    }

    /// Counts an error.
    pub fn error(&self) {
        self.0.errors.fetch_add(1, Relaxed);
    }

    /// Counts a dropped packet.
    pub fn dropped(&self) {
        self.0.dropped.fetch_add(1, Relaxed);
    }

    /// The counters.
    #[cfg(test)]
    pub fn counters(&self) -> &TransportCounters {
        &self.0
    }
}

#[derive(Debug)]
struct Inner {
    boot: Mutex<Instant>,
    transports: Mutex<Vec<(String, Arc<TransportCounters>)>>,
    groups: Mutex<Vec<(String, u64)>>,
    /// The ids of `groups`, in order: a registry with the same ids needs no new names.
    group_ids: Mutex<Vec<u16>>,
    flash_bytes_written: AtomicU64,
    flash_erases: AtomicU64,
}

/// The host's statistics; cheap to clone (all clones share the counters).
#[derive(Debug, Clone)]
pub struct HostStats(Arc<Inner>);

impl Default for HostStats {
    fn default() -> Self {
        Self::new()
    }
}

/// The group names this module serves besides the transports'.
pub const SMP_SVR_STATS: &str = "smp_svr_stats";
/// Requests per SMP group.
pub const SMP_GRP: &str = "smp_grp";
/// Flash counters.
pub const FLASH: &str = "flash";

impl HostStats {
    /// New statistics; `ticks` counts from now.
    pub fn new() -> Self {
        HostStats(Arc::new(Inner {
            boot: Mutex::new(Instant::now()),
            transports: Mutex::new(Vec::new()),
            groups: Mutex::new(Vec::new()),
            group_ids: Mutex::new(Vec::new()),
            flash_bytes_written: AtomicU64::new(0),
            flash_erases: AtomicU64::new(0),
        }))
    }

    /// Restarts `ticks` (call at every simulated boot; RAM counters of a board restart too,
    /// but the host keeps transport counters across resets, as its transports live on).
    pub fn boot(&self) {
        *self.0.boot.lock().unwrap() = Instant::now();
    }

    /// Registers a transport's statistics group `name` (e.g. `smp_udp0`).
    pub fn add_transport(&self, name: &str) -> TransportStats {
        let c = Arc::new(TransportCounters::default());
        self.0
            .transports
            .lock()
            .unwrap()
            .push((name.to_owned(), c.clone()));
        TransportStats(c)
    }

    /// Records the registry's per-group request counts (call after each processed buffer,
    /// with `Server::groups()`).
    pub fn record_groups(&self, groups: &[GroupInfo]) {
        let mut g = self.0.groups.lock().unwrap();
        let mut ids = self.0.group_ids.lock().unwrap();
        // The same registry as last time (every request but the first of a boot): only the
        // counts change, and nothing is allocated.
        if ids.len() == groups.len() && ids.iter().zip(groups).all(|(&id, i)| id == i.id) {
            for (slot, i) in g.iter_mut().zip(groups) {
                slot.1 = u64::from(i.requests);
            }
            return;
        }
        ids.clear();
        ids.extend(groups.iter().map(|i| i.id));
        g.clear();
        g.extend(
            groups
                .iter()
                .map(|i| (group_counter_name(i), u64::from(i.requests))),
        );
    }

    /// Counts `n` bytes written to flash.
    pub fn flash_write(&self, n: usize) {
        self.0.flash_bytes_written.fetch_add(n as u64, Relaxed);
    }

    /// Counts one flash erase.
    pub fn flash_erase(&self) {
        self.0.flash_erases.fetch_add(1, Relaxed);
    }

    /// Seconds since boot.
    pub fn ticks(&self) -> u64 {
        self.0.boot.lock().unwrap().elapsed().as_secs()
    }
}

/// Zephyr's handler name for its groups (`os_mgmt`, `fs_mgmt`, ...: fs and shell have no
/// enumeration name); another group's enumeration name with `_` for spaces; `grp_<id>`
/// for a group with neither.
fn group_counter_name(g: &GroupInfo) -> String {
    if let Some((_, handler)) = smp::groups::ZEPHYR_ORDER.iter().find(|(id, _)| *id == g.id) {
        (*handler).to_owned()
    } else if g.name.is_empty() {
        format!("grp_{}", g.id)
    } else {
        g.name.replace(' ', "_")
    }
}

impl Stats for HostStats {
    fn groups(&mut self, f: &mut dyn FnMut(&str) -> Result<(), Error>) -> Result<(), Error> {
        f(SMP_SVR_STATS)?;
        let names: Vec<String> = self
            .0
            .transports
            .lock()
            .unwrap()
            .iter()
            .map(|(n, _)| n.clone())
            .collect();
        for n in &names {
            f(n)?;
        }
        f(SMP_GRP)?;
        f(FLASH)
    }

    fn counters(
        &mut self,
        group: &str,
        f: &mut dyn FnMut(&str, u64) -> Result<(), Error>,
    ) -> Result<bool, Error> {
        match group {
            SMP_SVR_STATS => f("ticks", self.ticks())?,
            SMP_GRP => {
                let groups = self.0.groups.lock().unwrap().clone();
                for (n, v) in &groups {
                    f(n, *v)?;
                }
            }
            FLASH => {
                f("bytes_written", self.0.flash_bytes_written.load(Relaxed))?;
                f("erases", self.0.flash_erases.load(Relaxed))?;
            }
            _ => {
                let c = self
                    .0
                    .transports
                    .lock()
                    .unwrap()
                    .iter()
                    .find(|(n, _)| n == group)
                    .map(|(_, c)| c.clone());
                let Some(c) = c else {
                    return Ok(false);
                };
                f("rx_pkts", c.rx_pkts.load(Relaxed))?;
                f("rx_bytes", c.rx_bytes.load(Relaxed))?;
                f("tx_pkts", c.tx_pkts.load(Relaxed))?;
                f("tx_bytes", c.tx_bytes.load(Relaxed))?;
                f("errors", c.errors.load(Relaxed))?;
                f("dropped", c.dropped.load(Relaxed))?;
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(s: &mut HostStats, group: &str) -> Option<Vec<(String, u64)>> {
        let mut out = Vec::new();
        let found = s
            .counters(group, &mut |n, v| {
                out.push((n.to_owned(), v));
                Ok(())
            })
            .unwrap();
        found.then_some(out)
    }

    #[test]
    fn groups_and_counters() {
        let mut s = HostStats::new();
        let udp = s.add_transport("smp_udp0");
        let _pty = s.add_transport("smp_pty0");
        udp.rx(10);
        udp.rx(5);
        udp.tx(7);
        udp.error();
        udp.dropped();
        s.flash_write(4096);
        s.flash_erase();
        s.record_groups(&[
            GroupInfo {
                id: 0,
                name: "os mgmt",
                handlers: 9,
                requests: 3,
            },
            GroupInfo {
                id: 8,
                name: "",
                handlers: 5,
                requests: 2,
            },
            GroupInfo {
                id: 64,
                name: "",
                handlers: 1,
                requests: 1,
            },
        ]);
        let mut names = Vec::new();
        s.groups(&mut |n| {
            names.push(n.to_owned());
            Ok(())
        })
        .unwrap();
        assert_eq!(
            names,
            ["smp_svr_stats", "smp_udp0", "smp_pty0", "smp_grp", "flash"]
        );
        assert_eq!(collect(&mut s, "smp_svr_stats").unwrap()[0].0, "ticks");
        let u = collect(&mut s, "smp_udp0").unwrap();
        let want: Vec<(String, u64)> = [
            ("rx_pkts", 2),
            ("rx_bytes", 15),
            ("tx_pkts", 1),
            ("tx_bytes", 7),
            ("errors", 1),
            ("dropped", 1),
        ]
        .iter()
        .map(|(n, v)| ((*n).to_owned(), *v))
        .collect();
        assert_eq!(u, want);
        assert_eq!(
            collect(&mut s, "smp_grp").unwrap(),
            [
                ("os_mgmt".to_owned(), 3),
                ("fs_mgmt".to_owned(), 2),
                ("grp_64".to_owned(), 1)
            ]
        );
        assert_eq!(
            collect(&mut s, "flash").unwrap(),
            [("bytes_written".to_owned(), 4096), ("erases".to_owned(), 1)]
        );
        assert_eq!(collect(&mut s, "nope"), None);
    }

    #[test]
    fn serves_the_statistics_group() {
        use smp::groups::stat::StatGroup;
        use smp::server::{Config, Meta, Server};
        let mut g = StatGroup::new(HostStats::new(), Default::default());
        let mut server: Server<'_, 1> = Server::new(Config::default());
        server.register(&mut g).unwrap();
        let mut tx = [0u8; 256];
        let mut out = Vec::new();
        // {"name":"smp_svr_stats"} -> {"name":"smp_svr_stats","fields":{"ticks":0}}
        let mut req = vec![0x08, 0, 0, 0x15, 0, 2, 1, 0, 0xbf, 0x64];
        req.extend_from_slice(b"name");
        req.push(0x6d);
        req.extend_from_slice(b"smp_svr_stats");
        req.push(0xff);
        server.process(Meta::default(), &req, &mut tx, |r| out.extend_from_slice(r));
        let mut want = vec![0x09, 0, 0, 0x25, 0, 2, 1, 0, 0xbf, 0x64];
        want.extend_from_slice(b"name");
        want.push(0x6d);
        want.extend_from_slice(b"smp_svr_stats");
        want.push(0x66);
        want.extend_from_slice(b"fields");
        want.extend_from_slice(&[0xbf, 0x65]);
        want.extend_from_slice(b"ticks");
        want.extend_from_slice(&[0x00, 0xff, 0xff]);
        assert_eq!(out, want);
    }
}
