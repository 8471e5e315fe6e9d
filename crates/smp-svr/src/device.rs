//! The device: the boot loop that rebuilds it at every reset, and one boot of it as the
//! [`Engine`] drives it.
//!
//! Every transport's packets reach the core on the engine's one thread, as on Zephyr
//! they reach it on the one SMP work queue: the core is entered by one request at a time
//! and responses keep request order.

use std::path::PathBuf;
use std::rc::Rc;
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
use smp::wire::{HeaderRepr, Op, HEADER_LEN};

use crate::board::{Board, Identity, Persist};
use crate::boot::{self, BootConfig, Install, Outcome};
use crate::engine::{log_packet, Device, Ended, Engine, Flow, Input, Outputs};
use crate::flash::{FlashTiming, Geometry, Partitions, PowerMeter};
use crate::fs::HostFs;
use crate::os::HostOs;
use crate::settings::{FileSettings, SettingsStorage};
use crate::shell::HostShell;
use crate::stats::HostStats;

/// Delay between the reset response and the reset (`CONFIG_MCUMGR_GRP_OS_RESET_MS`).
pub const RESET_DELAY: Duration = Duration::from_millis(250);

/// Maximum number of groups the registry holds.
pub const MAX_GROUPS: usize = 16;

/// Download chunk buffer of the FS group: the chunk is `min(buf_size - 50, this)`.
const FS_CHUNK: usize = 65_536;

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
    /// `--power-cut-after N`: die right after the N-th flash operation of this process.
    pub power_cut_after: Option<u64>,
    /// `--flash-timing`: how long each slot erase and write takes.
    pub flash_timing: FlashTiming,
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

/// Runs the device on `engine` until a signal stops it (returns the signal): boots, serves,
/// and boots again after every reset. `ready` is told each boot's number once every group
/// answers. A failure (the device cannot boot, its storage cannot be opened) is returned as
/// what happened and what to do.
///
/// `W` and `E` are the flash write and erase granularity.
pub fn run<const W: usize, const E: usize>(
    cfg: &mut DeviceConfig,
    engine: &mut Engine,
    ready: &mut dyn FnMut(u32),
) -> Result<i32, String> {
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
                Install::Flashed => {
                    log::info!(
                        "flashed {} into image 0's blank primary slot",
                        path.display()
                    );
                    if !boot::mark_factory_image(&parts, &cfg.boot, false)
                        .map_err(|e| e.to_string())?
                    {
                        log::warn!(
                            "{} has no trailer magic: MCUboot's direct-XIP-revert erases it \
                             at boot; sign it with `imgtool sign --pad --confirm`",
                            path.display()
                        );
                    }
                }
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
            boot::mark_factory_image(&parts, &cfg.boot, true).map_err(|e| e.to_string())?;
            log::info!("flashed the built-in unsigned image into image 0's blank primary slot");
        }
        None => {}
    }
    // From here on the device writes its own flash: every operation is counted, and with
    // --power-cut-after the power goes after the N-th (flash.rs, "Power cuts").
    let meter = PowerMeter::new(cfg.power_cut_after);
    parts.meter_into(meter.clone());
    // ... and takes as long as the configured part takes (flash.rs, "Timing").
    parts.time_into(cfg.flash_timing);
    loop {
        match boot_and_serve(cfg, &parts, &meter, &persist, engine, ready, &hint)? {
            Ended::Signal(sig) => {
                if let Some(n) = meter.cut_after() {
                    log::info!(
                        "no power cut (--power-cut-after {n}): {} flash operations",
                        meter.ops()
                    );
                }
                return Ok(sig);
            }
            Ended::Reset => {
                std::thread::sleep(RESET_DELAY);
                // The board goes down: whatever arrived meanwhile is lost.
                engine.discard_input();
                log::info!("resetting");
            }
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
/// until a reset or a signal.
fn boot_and_serve<const W: usize, const E: usize>(
    cfg: &mut DeviceConfig,
    parts: &Partitions<W, E>,
    meter: &PowerMeter,
    persist: &Rc<Persist>,
    engine: &mut Engine,
    ready: &mut dyn FnMut(u32),
    hint: &str,
) -> Result<Ended, String> {
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
    let boot_ctl = boot::boot_control_for(parts, &cfg.boot, &boots).map_err(|e| e.to_string())?;
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
    let mut settings_store = FileSettings::open(&cfg.state, &cfg.settings_roots)
        .map_err(|e| format!("cannot open settings in {}: {e}", cfg.state.display()))?;
    settings_store.meter_into(meter.clone());
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
    let mut basic = BasicGroup::new(SettingsStorage::new(&cfg.state, meter.clone()));
    // The console's shell: the same command table as the shell group's.
    let console_shell = HostShell::new(board.clone());

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
    let out = engine.outputs();
    for c in 0..out.consoles() {
        out.console_text(
            c,
            &format!(
                "*** Booting Zephyr OS build smp-svr v{} ***\r\n{}",
                env!("CARGO_PKG_VERSION"),
                crate::console::PROMPT
            ),
        );
    }

    ready(boot_no);
    let board_boot = board.booted_at();
    let mut booted = Booted {
        server,
        board,
        console_shell,
        stats: cfg.stats.clone(),
        tx: vec![0u8; cfg.params.buf_size as usize],
        progress: Progress::default(),
        boot: board_boot,
    };
    engine
        .serve(&mut booted)
        .map_err(|e| format!("event loop failed: {e}"))
}

/// One boot of the device, as the engine drives it.
struct Booted<'a> {
    server: Server<'a, MAX_GROUPS>,
    board: Rc<Board>,
    console_shell: HostShell,
    stats: HostStats,
    /// The response buffer, reused by every request.
    tx: Vec<u8>,
    progress: Progress,
    /// When `board.uptime_ms()` was 0 (turns the core's deadlines into instants).
    boot: Instant,
}

impl Booted<'_> {
    /// What the device does after each input: a requested reset ends the boot.
    fn flow(&self) -> Flow {
        if self.board.pending_reset().is_some() {
            Flow::Reset
        } else {
            Flow::Continue
        }
    }
}

impl Device for Booted<'_> {
    fn input(&mut self, out: &mut Outputs, input: Input<'_>) -> Flow {
        match input {
            Input::Smp {
                transport,
                data,
                peer,
            } => {
                let meta = Meta {
                    transport,
                    now_ms: self.board.uptime_ms(),
                };
                self.progress.request(data);
                let progress = &mut self.progress;
                let result = self.server.process(meta, data, &mut self.tx, |rsp| {
                    progress.response(rsp);
                    log_packet("->", transport, rsp);
                    out.send(peer, rsp);
                });
                if result.aborted {
                    out.error(peer);
                }
                self.stats.record_groups(self.server.groups());
            }
            Input::Line { console, line } => {
                let mut text = String::new();
                let rc = self.console_shell.exec(&line, &mut text);
                log::debug!("shell `{line}` -> {rc}");
                // A reboot prints no prompt: the next one follows the boot banner.
                if self.board.pending_reset().is_none() {
                    text.push_str(crate::console::PROMPT);
                }
                out.console_text(console, &text);
            }
        }
        self.flow()
    }

    fn deadline(&self) -> Option<Instant> {
        let ms = self.server.next_deadline()?;
        Some(self.boot + Duration::from_millis(ms))
    }

    fn timer(&mut self, _out: &mut Outputs) -> Flow {
        self.server.poll(self.board.uptime_ms());
        self.flow()
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
fn transfer(p: &[u8], op: Op) -> Option<(&'static str, &[u8])> {
    let h = HeaderRepr::from_bytes(p).ok()?;
    if h.op != op {
        return None;
    }
    let what = match (h.group, h.id) {
        (1, 1) => "image upload",
        (8, 0) => "file upload",
        _ => return None,
    };
    Some((what, p.get(HEADER_LEN..h.packet_len())?))
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
        let Some((what, body)) = transfer(p, Op::Write) else {
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
        let Some((w, body)) = transfer(p, Op::WriteRsp) else {
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

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
