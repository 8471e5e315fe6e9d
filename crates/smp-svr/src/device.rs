//! The device: one SMP work queue that every transport feeds, and the boot loop that
//! rebuilds the device at every reset.
//!
//! As on Zephyr, all transports hand complete packets to one work-queue thread, so the core
//! is entered by one thread at a time and responses keep request order. The queue holds at
//! most `buf_count` packets; a packet arriving while it is full is dropped, as a board drops
//! a datagram when no net_buf is free.

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use smp::groups::basic::BasicGroup;
use smp::groups::enum_::EnumGroup;
use smp::groups::fs::{self as fs_grp, FsGroup};
use smp::groups::img::{self, ImgGroup};
use smp::groups::os::{self, OsGroup};
use smp::groups::settings::SettingsGroup;
use smp::groups::shell::ShellGroup;
use smp::groups::stat::StatGroup;
use smp::platform::{BootControl, Shell};
use smp::server::{Config, Meta, Params, Server};

use crate::board::{Board, Identity, Persist};
use crate::boot::{self, BootConfig, Install, Outcome};
use crate::console::Console;
use crate::flash::{Geometry, Partitions};
use crate::fs::HostFs;
use crate::os::HostOs;
use crate::settings::{FileSettings, SettingsStorage};
use crate::shell::HostShell;
use crate::stats::{HostStats, TransportStats};

/// Delay between the reset response and the reset (`CONFIG_MCUMGR_GRP_OS_RESET_MS`).
pub const RESET_DELAY: Duration = Duration::from_millis(250);

/// Maximum number of groups the registry holds.
pub const MAX_GROUPS: usize = 16;

/// Download chunk buffer of the FS group: the chunk is `min(buf_size - 50, this)`.
const FS_CHUNK: usize = 65_536;

/// How often the work queue wakes up without work, to close idle files.
const IDLE_POLL: Duration = Duration::from_millis(500);

/// Where a response goes.
#[derive(Clone)]
pub enum Reply {
    /// Back to a UDP peer.
    Udp {
        /// The socket the request came in on.
        sock: Arc<UdpSocket>,
        /// The request's source.
        peer: SocketAddr,
    },
    /// Back onto a serial console, framed.
    Console(Arc<Console>),
}

impl Reply {
    fn send(&self, packet: &[u8]) {
        match self {
            Reply::Udp { sock, peer } => {
                if let Err(e) = sock.send_to(packet, peer) {
                    log::warn!("udp send to {peer} failed: {e}");
                }
            }
            Reply::Console(c) => c.write_smp(packet),
        }
    }
}

/// Work for the SMP work queue.
pub enum Job {
    /// An SMP packet (or several back to back) from a transport.
    Smp {
        /// Transport number.
        transport: u8,
        /// The received bytes.
        data: Vec<u8>,
        /// Where the responses go.
        reply: Reply,
        /// The transport's counters.
        stats: TransportStats,
    },
    /// A line typed on a console's shell.
    Shell {
        /// The console it came from.
        console: Arc<Console>,
        /// The line, without its terminator.
        line: String,
    },
}

/// The sending side of the work queue, shared by every transport.
#[derive(Clone)]
pub struct Queue {
    tx: SyncSender<Job>,
}

impl Queue {
    /// Wraps the sender of a bounded channel.
    pub fn new(tx: SyncSender<Job>) -> Self {
        Queue { tx }
    }

    /// Queues a job, dropping it when every buffer is in use.
    pub fn submit(&self, job: Job) {
        match self.tx.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(job)) => {
                log::warn!("all SMP buffers busy: packet dropped");
                if let Job::Smp { stats, .. } = job {
                    stats.dropped();
                }
            }
            Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

/// Everything the device needs to boot.
pub struct DeviceConfig {
    /// Buffer size and count.
    pub params: Params,
    /// Accept SMP v1.
    pub support_v1: bool,
    /// OS group options.
    pub os: os::Config,
    /// Identity strings.
    pub identity: Identity,
    /// The emulated MCUboot: accepted keys, downgrade prevention.
    pub boot: BootConfig,
    /// Flash layout of the image slots.
    pub geometry: Geometry,
    /// Where the slot files live.
    pub flash_dir: PathBuf,
    /// Image to install on a blank primary slot (`None`: the built-in image).
    pub image: Option<PathBuf>,
    /// Image group options.
    pub img: img::Config,
    /// Consoles that print the boot banner and prompt.
    pub consoles: Vec<Arc<Console>>,
    /// The state directory (settings live here).
    pub state: PathBuf,
    /// The file-system root served as /lfs1.
    pub fs_root: PathBuf,
    /// Statistics shared with the transports.
    pub stats: HostStats,
    /// The RTC runs from the host clock at power-on (`--rtc host`); otherwise it is unset
    /// until a client sets it.
    pub rtc_from_host: bool,
    /// The roots settings handlers registered (`--settings-root`).
    pub settings_roots: Vec<String>,
    /// Told after every boot (banner printed, groups registered), and of a failure.
    pub events: std::sync::mpsc::Sender<Event>,
}

/// What the device thread tells the main thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A boot finished: every group answers. The boot number counts every boot of the state
    /// directory.
    Ready {
        /// Boot number (1 for the first boot of a fresh state directory).
        boot: u32,
    },
    /// The device stopped: it cannot boot, or its storage failed. The text says why and
    /// what to do.
    Failed(String),
    /// SIGINT or SIGTERM arrived (sent by the main thread's signal watcher).
    Signal(i32),
}

/// The file in the state directory that counts boots.
const BOOTS_FILE: &str = "boots";

/// The number of boots recorded in `state` (0 for a fresh state directory).
pub fn read_boots(state: &std::path::Path) -> u32 {
    std::fs::read_to_string(state.join(BOOTS_FILE))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

/// Records the boot count in `state`, replacing the file atomically.
fn write_boots(state: &std::path::Path, n: u32) -> std::io::Result<()> {
    let tmp = state.join(format!("{BOOTS_FILE}.tmp"));
    std::fs::write(&tmp, format!("{n}\n"))?;
    std::fs::rename(&tmp, state.join(BOOTS_FILE))
}

/// Runs the device until the queue closes: boots, serves, and boots again after every reset.
/// A failure (the device cannot boot, its storage cannot be opened) is sent as
/// [`Event::Failed`].
///
/// `W` and `E` are the flash write and erase granularity.
pub fn run<const W: usize, const E: usize>(mut cfg: DeviceConfig, rx: Receiver<Job>) {
    let events = cfg.events.clone();
    if let Err(e) = run_inner::<W, E>(&mut cfg, &rx) {
        let _ = events.send(Event::Failed(e));
    }
}

fn run_inner<const W: usize, const E: usize>(
    cfg: &mut DeviceConfig,
    rx: &Receiver<Job>,
) -> Result<(), String> {
    let persist = Rc::new(Persist::default());
    persist.rtc_valid.set(cfg.rtc_from_host);
    persist.boots.set(read_boots(&cfg.state));
    let mut parts = Partitions::<W, E>::open(&cfg.flash_dir, cfg.geometry)
        .map_err(|e| format!("cannot open flash in {}: {e}", cfg.flash_dir.display()))?;
    parts.count_into(cfg.stats.clone());
    // Like `west flash` on a fresh board: program image 0 if its primary slot is blank.
    let mut hint = flash_hint(cfg, None);
    match &cfg.image {
        Some(path) => {
            match boot::install_if_blank(&parts, 0, path, &cfg.boot)
                .map_err(|e| format!("cannot install {}: {e}", path.display()))?
            {
                Install::Flashed => log::info!(
                    "flashed {} into image 0's blank primary slot",
                    path.display()
                ),
                Install::Present => log::info!(
                    "image 0's primary slot already holds {} (flashed at an earlier start)",
                    path.display()
                ),
                Install::Other => {
                    hint = flash_hint(cfg, Some(path));
                    log::warn!(
                        "--image {} ignored: image 0's primary slot in {} already holds \
                         another image (--image only programs a blank slot). To program \
                         it: `smp-svr flash --state {} {}`, or start with a new --state \
                         directory",
                        path.display(),
                        cfg.state.display(),
                        cfg.state.display(),
                        path.display()
                    );
                }
            }
        }
        None if boot::primary_is_blank(&parts, 0).map_err(|e| e.to_string())? => {
            boot::flash_image(&parts, 0, &boot::builtin_image()).map_err(|e| e.to_string())?;
            log::info!("flashed the built-in unsigned image into image 0's blank primary slot");
        }
        None => {}
    }
    loop {
        if !boot_and_serve(cfg, &parts, &persist, rx, &hint)? {
            return Ok(());
        }
    }
}

/// What to do when image 0 cannot boot: program a bootable image.
fn flash_hint(cfg: &DeviceConfig, ignored: Option<&std::path::Path>) -> String {
    let keys = if cfg.boot.keys.is_empty() {
        ""
    } else {
        " --key PUB.pem"
    };
    match ignored {
        Some(p) => format!(
            "--image {} was not programmed: the slot already held another image. To \
             program it, run `smp-svr flash --state {}{keys} {}` (as `west flash` \
             would), or start with a new --state directory",
            p.display(),
            cfg.state.display(),
            p.display()
        ),
        None => format!(
            "to program a bootable image, run `smp-svr flash --state {}{keys} FILE` (as \
             `west flash` would), or start with a new --state directory",
            cfg.state.display()
        ),
    }
}

/// One boot of the device: builds every group over the host platforms and serves requests
/// until a reset (returns `Ok(true)`) or until the queue closes (`Ok(false)`).
fn boot_and_serve<const W: usize, const E: usize>(
    cfg: &mut DeviceConfig,
    parts: &Partitions<W, E>,
    persist: &Rc<Persist>,
    rx: &Receiver<Job>,
    hint: &str,
) -> Result<bool, String> {
    // The bootloader runs first: swaps, reverts, rejections.
    let boots = boot::reset(parts, &cfg.boot).map_err(|e| format!("MCUboot: {e}"))?;
    let mut identity = cfg.identity.clone();
    for b in &boots {
        if let Some(r) = &b.rejected {
            let erased = if *r == boot::Rejection::NoSpace {
                ""
            } else {
                " and erased"
            };
            log::warn!(
                "MCUboot: image {}: secondary image rejected{erased}: {r}",
                b.image
            );
        }
        match b.outcome {
            Outcome::Boot { version, hash } => {
                log::info!(
                    "MCUboot: image {}: swap {:?}; booting version {version}, hash {}",
                    b.image,
                    b.swap,
                    hex(&hash)
                );
                if b.image == 0 {
                    identity.kernel_release = version.to_string();
                }
            }
            Outcome::NoImage if b.image == 0 => {
                return Err(format!(
                    "MCUboot: no image in image 0's primary slot: nothing to boot; {hint}"
                ))
            }
            Outcome::Invalid(e) if b.image == 0 => {
                return Err(format!(
                    "MCUboot: image 0's primary image is invalid ({e}): nothing to boot; {hint}"
                ))
            }
            _ => log::warn!("MCUboot: image {}: nothing bootable", b.image),
        }
    }
    let boot_ctl = boot::boot_control(parts, &cfg.boot).map_err(|e| e.to_string())?;
    let bootloader = boot_ctl.info();
    let slots = parts.slots().map_err(|e| e.to_string())?;

    let board = Rc::new(Board::new(persist.clone(), identity));
    cfg.stats.boot();
    let boot_no = persist.boots.get();
    if let Err(e) = write_boots(&cfg.state, boot_no) {
        log::warn!(
            "cannot record the boot count in {}: {e}",
            cfg.state.display()
        );
    }
    log::info!("boot #{boot_no}");

    let mut os = OsGroup::new(HostOs::new(board.clone(), bootloader), cfg.os);
    let mut img = ImgGroup::new(slots, boot_ctl, cfg.img);
    let mut stat = StatGroup::new(cfg.stats.clone(), Default::default());
    let settings_store = FileSettings::open(&cfg.state, &cfg.settings_roots)
        .map_err(|e| format!("cannot open settings in {}: {e}", cfg.state.display()))?;
    let mut settings: SettingsGroup<_> = SettingsGroup::new(settings_store, Default::default());
    let host_fs = HostFs::new(&cfg.fs_root)
        .map_err(|e| format!("cannot open fs root {}: {e}", cfg.fs_root.display()))?;
    let fs_config = fs_grp::Config {
        // Files larger than 64 KiB: Zephyr's 4 GB offset mode.
        large_files: true,
        ..Default::default()
    };
    let mut fs: FsGroup<HostFs, FS_CHUNK> = FsGroup::new(host_fs, fs_config);
    let mut shell_grp: ShellGroup<HostShell> =
        ShellGroup::new(HostShell::new(board.clone()), Default::default());
    let mut enum_grp = EnumGroup::new();
    let mut basic = BasicGroup::new(SettingsStorage::new(&cfg.state));
    // The console's shell: the same command table as the shell group's.
    let mut console_shell = HostShell::new(board.clone());

    let mut server: Server<'_, MAX_GROUPS> = Server::new(Config {
        params: cfg.params,
        support_v1: cfg.support_v1,
    });
    // Registration order is what the enumeration group reports: Zephyr's, by handler name.
    let mut groups: [&mut dyn smp::server::Group; 8] = [
        &mut os,
        &mut img,
        &mut stat,
        &mut settings,
        &mut fs,
        &mut shell_grp,
        &mut enum_grp,
        &mut basic,
    ];
    groups.sort_by_key(|g| smp::groups::zephyr_rank(g.id()));
    for g in groups {
        server
            .register(g)
            .map_err(|_| "group registry full: raise MAX_GROUPS".to_string())?;
    }
    for c in &cfg.consoles {
        c.write_text(&format!(
            "*** Booting Zephyr OS build smp-svr v{} ***\r\n{}",
            env!("CARGO_PKG_VERSION"),
            crate::console::PROMPT
        ));
    }

    let _ = cfg.events.send(Event::Ready { boot: boot_no });
    let mut tx = vec![0u8; cfg.params.buf_size as usize];
    let mut progress = Progress::default();
    loop {
        let job = match rx.recv_timeout(IDLE_POLL) {
            Ok(job) => job,
            Err(RecvTimeoutError::Timeout) => {
                server.poll(board.uptime_ms());
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => return Ok(false),
        };
        match job {
            Job::Smp {
                transport,
                data,
                reply,
                stats,
            } => {
                let meta = Meta {
                    transport,
                    now_ms: board.uptime_ms(),
                };
                progress.request(&data);
                let out = server.process(meta, &data, &mut tx, |rsp| {
                    progress.response(rsp);
                    log_packet("->", transport, rsp);
                    stats.tx(rsp.len());
                    reply.send(rsp);
                });
                if out.aborted {
                    stats.error();
                }
                cfg.stats.record_groups(server.groups());
            }
            Job::Shell { console, line } => {
                let mut out = String::new();
                let rc = console_shell.exec(&line, &mut out);
                log::debug!("shell `{line}` -> {rc}");
                // A reboot prints no prompt: the next one follows the boot banner.
                if board.pending_reset().is_none() {
                    out.push_str(crate::console::PROMPT);
                }
                console.write_text(&out);
            }
        }
        if board.pending_reset().is_some() {
            std::thread::sleep(RESET_DELAY);
            // The board goes down: whatever arrived meanwhile is lost.
            while rx.try_recv().is_ok() {}
            log::info!("resetting");
            return Ok(true);
        }
    }
}

/// Upload progress, logged at info level every 10 % with the rate, for the transfers that
/// take long: image upload (group 1, command 1) and file upload (group 8, command 0). The
/// request's `len` (in its first chunk) is the total; the response's `off` is how much the
/// device holds.
#[derive(Default)]
struct Progress {
    /// The transfer under way: what, total bytes, start, next percentage to log.
    current: Option<(&'static str, u64, Instant, u64)>,
}

/// The transfer a write request or response belongs to, and its CBOR payload.
fn transfer(p: &[u8], op: u8) -> Option<(&'static str, &[u8])> {
    if p.len() < 8 || p[0] & 7 != op {
        return None;
    }
    let what = match (u16::from_be_bytes([p[4], p[5]]), p[7]) {
        (1, 1) => "image upload",
        (8, 0) => "file upload",
        _ => return None,
    };
    let len = u16::from_be_bytes([p[2], p[3]]) as usize;
    Some((what, p.get(8..8 + len)?))
}

/// The unsigned integer at `key` in a CBOR map, if there is one.
fn cbor_uint(payload: &[u8], key: &str) -> Option<u64> {
    let mut v = None;
    smp::cbor::for_each_entry(payload, |k, d| {
        if k == key {
            v = Some(d.u64()?);
            return Ok(true);
        }
        Ok(false)
    })
    .ok()?;
    v
}

impl Progress {
    /// Looks at a request: the first chunk of an upload (`off` 0) starts a transfer.
    fn request(&mut self, p: &[u8]) {
        let Some((what, body)) = transfer(p, 2) else {
            return;
        };
        if cbor_uint(body, "off") == Some(0) {
            if let Some(total) = cbor_uint(body, "len").filter(|&n| n > 0) {
                log::info!("{what}: {total} bytes");
                self.current = Some((what, total, Instant::now(), 10));
            }
        }
    }

    /// Looks at a response: logs each 10 % step the accepted offset passes.
    fn response(&mut self, p: &[u8]) {
        let Some((what, total, start, next)) = self.current else {
            return;
        };
        let Some((w, body)) = transfer(p, 3) else {
            return;
        };
        let Some(off) = cbor_uint(body, "off").filter(|_| w == what) else {
            return;
        };
        let secs = start.elapsed().as_secs_f64();
        let rate = off as f64 / secs.max(1e-6) / 1024.0;
        if off >= total {
            log::info!("{what}: done, {total} bytes in {secs:.2} s ({rate:.0} KiB/s)");
            self.current = None;
        } else if off * 100 / total >= next {
            let pct = off * 100 / total;
            log::info!("{what}: {pct} % ({off} of {total} bytes, {rate:.0} KiB/s)");
            self.current = Some((what, total, start, (pct / 10 + 1) * 10));
        }
    }
}

/// Logs one SMP packet's header at debug level.
pub fn log_packet(dir: &str, transport: u8, p: &[u8]) {
    if log::log_enabled!(log::Level::Debug) && p.len() >= 8 {
        log::debug!(
            "t{transport} {dir} op {} ver {} group {} cmd {} seq {} len {}",
            p[0] & 7,
            (p[0] >> 3) & 3,
            u16::from_be_bytes([p[4], p[5]]),
            p[7],
            p[6],
            u16::from_be_bytes([p[2], p[3]])
        );
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
