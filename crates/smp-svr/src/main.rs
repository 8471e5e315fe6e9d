//! `smp-svr`: the host SMP device. See `--help`.

mod ble;
mod ble_hci;
mod ble_reasm;
mod board;
mod boot;
mod civil;
mod cli;
mod console;
mod device;
mod engine;
mod fault;
mod flash;
mod fs;
mod os;
mod settings;
mod shell;
mod stats;
mod udp;

use std::fs::File;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use nix::fcntl::{Flock, FlockArg};
use smp::server::Params;

use crate::board::Identity;
use crate::device::DeviceConfig;
use crate::engine::Engine;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    let mut logger =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    logger.format_timestamp_millis();
    if let Some(name) = &args.log_file {
        match open_log_file(&args, name) {
            Ok(file) => {
                logger.target(env_logger::Target::Pipe(Box::new(Tee(file))));
            }
            Err(e) => {
                eprintln!("smp-svr: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    logger.init();
    // A fatal error is printed once, here, as what happened and what to do.
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("smp-svr: {e}");
            ExitCode::FAILURE
        }
    }
}

use device::run as run_device;

/// Compiles to nothing: lets `with_geometry!` tell whether a (write, erase) pair is supported.
fn check_geometry<const W: usize, const E: usize>() {}

/// The file-system root: `--fs-root`, or `<state>/fs`.
pub fn fs_root(args: &cli::Args) -> PathBuf {
    args.fs_root
        .clone()
        .unwrap_or_else(|| fs::default_root(&args.state))
}

/// Opens `--log-file NAME` for appending inside the file-system root. NAME must be a plain
/// file name: the log may not be written anywhere else.
fn open_log_file(args: &cli::Args, name: &str) -> Result<std::fs::File, String> {
    let plain = !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains('/')
        && !name.contains('\0');
    if !plain {
        return Err(format!("--log-file {name:?}: must be a plain file name"));
    }
    let root = fs_root(args);
    std::fs::create_dir_all(&root)
        .map_err(|e| format!("cannot create fs root {}: {e}", root.display()))?;
    let path = root.join(name);
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| format!("cannot open log file {}: {e}", path.display()))
}

/// Writes log records to stderr and to a file.
struct Tee(std::fs::File);

impl Write for Tee {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        std::io::stderr().write_all(buf)?;
        self.0.write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()?;
        self.0.flush()
    }
}

/// Prints one machine-readable line on stdout (tests and scripts parse these).
pub(crate) fn announce(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "smp-svr: {line}");
    let _ = out.flush();
}

/// Checks the flash-layout options.
fn check_layout(args: &cli::Args) -> Result<(), String> {
    let (w, e) = (args.write_size, args.erase_size);
    if with_geometry!(w, e, check_geometry()).is_none() {
        return Err(format!(
            "unsupported flash geometry: --write-size {w} (1, 2, 4, 8, 16 or 32) with \
             --erase-size {e} (1024, 2048, 4096, 8192, 65536 or 131072)"
        ));
    }
    if ![8, 16, 32].contains(&args.max_align) || (args.max_align as usize) < w {
        return Err(format!(
            "--max-align {} must be 8, 16 or 32 and at least --write-size",
            args.max_align
        ));
    }
    if args.slot_size == 0 || !(args.slot_size as usize).is_multiple_of(e) {
        return Err(format!(
            "--slot-size {:#x} must be a non-zero multiple of --erase-size {e}",
            args.slot_size
        ));
    }
    Ok(())
}

/// The emulated MCUboot's configuration: the --key files, downgrade prevention and the
/// swap mode.
fn boot_config(args: &cli::Args) -> Result<boot::BootConfig, String> {
    if boot::direct_xip(args.swap_mode) != smp::groups::img::DirectXip::Off {
        // MCUboot's Kconfig (mcu-tools/mcuboot boot/zephyr/Kconfig @2d4bacc3):
        // MCUBOOT_DOWNGRADE_PREVENTION `depends on !BOOT_DIRECT_XIP`; Zephyr's
        // img_mgmt_active_slot: "Multi image does not support DirectXIP currently".
        if args.downgrade_prevention {
            return Err(
                "--downgrade-prevention does not exist in MCUboot's direct-XIP modes \
                        (MCUBOOT_DOWNGRADE_PREVENTION depends on !BOOT_DIRECT_XIP): they boot \
                        the higher version anyway"
                    .into(),
            );
        }
        if args.images != 1 {
            return Err(
                "--swap-mode direct-xip and direct-xip-revert take one image \
                        (--images 1): Zephyr's img_mgmt has no multi-image direct-XIP"
                    .into(),
            );
        }
    }
    let mut cfg = boot::BootConfig {
        keys: Vec::new(),
        downgrade_prevention: args.downgrade_prevention,
        swap_mode: args.swap_mode,
    };
    for k in &args.keys {
        cfg.add_key_file(k).map_err(|e| e.to_string())?;
    }
    Ok(cfg)
}

fn geometry(args: &cli::Args) -> flash::Geometry {
    flash::Geometry {
        slot_size: args.slot_size,
        // Swap using offset: the secondary one sector larger (see --swap-mode).
        secondary_extra: if args.swap_mode == cli::SwapMode::Offset {
            args.erase_size as u32
        } else {
            0
        },
        images: args.images,
        layout: smp::mcuboot::trailer::Layout {
            max_align: args.max_align,
            ..Default::default()
        },
    }
}

/// The state directory, created and locked for this process (the lock lasts as long as
/// the returned file is open).
fn lock_state(state: &Path) -> Result<Flock<File>, String> {
    std::fs::create_dir_all(state).map_err(|e| {
        format!(
            "cannot create state dir {}: {}",
            state.display(),
            boot::plain_io(&e)
        )
    })?;
    let path = state.join("lock");
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {}", path.display(), boot::plain_io(&e)))?;
    match Flock::lock(f, FlockArg::LockExclusiveNonblock) {
        Ok(mut lock) => {
            let _ = lock.set_len(0);
            let _ = writeln!(lock, "{}", std::process::id());
            Ok(lock)
        }
        Err((f, nix::errno::Errno::EWOULDBLOCK)) => {
            let mut pid = String::new();
            let _ = (&f).read_to_string(&mut pid);
            Err(format!(
                "state directory {} is in use by another smp-svr (pid {}): stop that one, \
                 or give this one another --state DIR",
                state.display(),
                pid.trim()
            ))
        }
        Err((_, e)) => Err(format!("cannot lock {}: {e}", path.display())),
    }
}

/// `smp-svr image-info FILE`: prints the summary; fails when MCUboot would refuse it.
fn image_info(args: &cli::Args, file: &Path) -> Result<(), String> {
    let cfg = boot_config(args)?;
    let info = boot::image_info(file, &cfg).map_err(|e| e.to_string())?;
    print!("{info}");
    match info.problem() {
        Some(p) => Err(format!("{}: {p}", file.display())),
        None => Ok(()),
    }
}

/// `smp-svr flash FILE`: programs image 0's primary slot of the state directory.
fn flash_state<const W: usize, const E: usize>(
    args: &cli::Args,
    file: &Path,
    cfg: &boot::BootConfig,
) -> Result<boot::ImageSummary, String> {
    let dir = args.state.join("flash");
    let parts = flash::Partitions::<W, E>::open(&dir, geometry(args))
        .map_err(|e| format!("cannot open flash in {}: {e}", dir.display()))?;
    boot::flash_file(&parts, 0, file, cfg)
        .map_err(|e| format!("cannot flash {}: {e}", file.display()))
}

fn flash(args: &cli::Args, file: &Path) -> Result<(), String> {
    check_layout(args)?;
    let cfg = boot_config(args)?;
    let _lock = lock_state(&args.state)?;
    let (w, e) = (args.write_size, args.erase_size);
    let info = with_geometry!(w, e, flash_state(args, file, &cfg)).expect("geometry checked")?;
    println!(
        "flashed {} (version {}) into image 0's primary slot in {}",
        file.display(),
        info.version,
        args.state.display()
    );
    Ok(())
}

/// Removes the --pty symlinks when the process ends, however it ends.
struct Links(Vec<PathBuf>);

impl Drop for Links {
    fn drop(&mut self) {
        for link in &self.0 {
            let _ = std::fs::remove_file(link);
        }
    }
}

fn run(args: cli::Args) -> Result<(), String> {
    match &args.command {
        Some(cli::Command::ImageInfo { file }) => return image_info(&args, file),
        Some(cli::Command::Flash { file }) => return flash(&args, file),
        None => {}
    }
    check_layout(&args)?;
    let (w, e) = (args.write_size, args.erase_size);
    let boot_cfg = boot_config(&args)?;
    if let Some(image) = &args.image {
        // A missing file is named now, before any transport starts.
        boot::read_named(image, "image").map_err(|e| e.to_string())?;
    }
    if !boot_cfg.keys.is_empty() && args.image.is_none() {
        log::warn!("--key without --image: the built-in image is unsigned and will not boot on a blank state");
    }
    // Before anything can announce readiness: a signal must always mean a clean stop.
    let mut engine = Engine::new(args.buf_size as usize)
        .map_err(|e| format!("cannot start the event loop: {e}"))?;
    let _lock = lock_state(&args.state)?;
    if !args.faults.is_empty() {
        let list: Vec<String> = args.faults.iter().map(|f| f.to_string()).collect();
        log::warn!(
            "injecting faults on every transport's input: {} (seed {})",
            list.join(", "),
            args.fault_seed
        );
    }
    engine.set_faults(fault::Faults::new(&args.faults, args.fault_seed));
    if let Some(t) = &args.flash_timing {
        log::info!("flash timing: {t}");
    }
    log::info!(
        "smp-svr {} starting: state {}, buf_size {}, buf_count {}",
        env!("CARGO_PKG_VERSION"),
        args.state.display(),
        args.buf_size,
        args.buf_count
    );
    let stats = stats::HostStats::new();
    let mut next_transport = 0u8;

    // UDP.
    let explicit = !args.udp.is_empty();
    let addrs: Vec<SocketAddr> = if args.no_udp {
        Vec::new()
    } else if explicit {
        args.udp.clone()
    } else {
        vec![
            "127.0.0.1:1337".parse().unwrap(),
            "[::1]:1337".parse().unwrap(),
        ]
    };
    for addr in addrs {
        match udp::bind(addr) {
            Ok(sock) => {
                let local = sock.local_addr().map_err(|e| e.to_string())?;
                log::info!("udp transport t{next_transport} on {local}");
                announce(&format!("udp {local}"));
                let stats = stats.add_transport(&format!("smp_udp{next_transport}"));
                engine
                    .add_udp(udp::UdpPort {
                        sock,
                        transport: next_transport,
                        stats,
                    })
                    .map_err(|e| format!("cannot serve udp {local}: {e}"))?;
                next_transport += 1;
            }
            Err(e) if !explicit && addr.is_ipv6() => {
                log::warn!("udp {addr} unavailable ({e}); serving IPv4 only");
            }
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                return Err(format!(
                    "cannot bind udp {addr}: address in use (another smp-svr?): stop \
                     whatever uses it, or give --udp ADDR (port 0 picks a free one)"
                ))
            }
            Err(e) => return Err(format!("cannot bind udp {addr}: {e}")),
        }
    }

    // Serial consoles.
    let mut consoles = 0;
    let mut _ptys = Vec::new();
    let mut links = Links(Vec::new());
    if let Some(link) = &args.pty {
        let pty = console::open_pty(link)
            .map_err(|e| format!("cannot open pty for {}: {e}", link.display()))?;
        let line = pty.master.try_clone().map_err(|e| e.to_string())?;
        log::info!(
            "console t{next_transport} on pty {} (link {})",
            pty.slave_path.display(),
            link.display()
        );
        announce(&format!("pty {}", pty.slave_path.display()));
        let ts = stats.add_transport(&format!("smp_uart{next_transport}"));
        engine
            .add_console("pty".into(), line, args.raw, next_transport, ts)
            .map_err(|e| format!("cannot serve the pty: {e}"))?;
        next_transport += 1;
        consoles += 1;
        links.0.push(link.clone());
        _ptys.push(pty);
    }
    if let Some(dev) = &args.serial {
        let f = console::open_serial(dev)
            .map_err(|e| format!("cannot open serial {}: {e}", dev.display()))?;
        log::info!("console t{next_transport} on serial {}", dev.display());
        announce(&format!("serial {}", dev.display()));
        let ts = stats.add_transport(&format!("smp_uart{next_transport}"));
        engine
            .add_console(dev.display().to_string(), f, args.raw, next_transport, ts)
            .map_err(|e| format!("cannot serve serial {}: {e}", dev.display()))?;
        consoles += 1;
    }
    // Bluetooth LE.
    let mut ble = false;
    if let Some(spec) = &args.ble {
        // After the UDP ports and the consoles (--serial takes a number without counting).
        let transport = next_transport + u8::from(args.serial.is_some());
        let hci = ble_hci::open(spec)?;
        log::info!("ble transport t{transport} with the controller at {spec}");
        let ts = stats.add_transport(&format!("smp_bt{transport}"));
        let cfg = ble::Config {
            hci,
            spec: spec.to_string(),
            name: args.ble_name.clone(),
            security: args.ble_security,
            buf_size: args.buf_size as usize,
            address: ble::address(&args.state, &args.ble_name),
        };
        engine
            .add_ble(|waker| ble::start(cfg, waker, transport, ts))
            .map_err(|e| format!("cannot start Bluetooth LE: {e}"))?;
        ble = true;
    }
    if next_transport == 0 && consoles == 0 && !ble {
        return Err("no transport: give --udp, --pty, --serial or --ble".into());
    }

    let node_name = args.node_name.clone().unwrap_or_else(|| {
        nix::unistd::gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
            .unwrap_or_else(|| "unknown".into())
    });
    let cfg = DeviceConfig {
        params: Params {
            buf_size: args.buf_size,
            buf_count: args.buf_count,
        },
        support_v1: !args.no_smp_v1,
        os: smp::groups::os::Config {
            datetime_ms: args.datetime_ms,
            ..Default::default()
        },
        identity: Identity {
            node_name,
            kernel_release: format!("smp-svr-v{}", env!("CARGO_PKG_VERSION")),
            hardware_platform: args.board.clone(),
        },
        boot: boot_cfg,
        geometry: geometry(&args),
        flash_dir: args.state.join("flash"),
        image: args.image.clone(),
        img: smp::groups::img::Config {
            images: args.images,
            layout: smp::mcuboot::trailer::Layout {
                max_align: args.max_align,
                ..Default::default()
            },
            direct_upload: args.direct_upload,
            direct_xip: boot::direct_xip(args.swap_mode),
            max_image_size: boot::max_image_size(
                args.swap_mode,
                &geometry(&args),
                args.write_size as u32,
                args.erase_size as u32,
            ),
            // Swap using offset: the secondary image starts one sector (erase size) in.
            secondary_offset: if args.swap_mode == cli::SwapMode::Offset {
                args.erase_size as u32
            } else {
                0
            },
            ..Default::default()
        },
        state: args.state.clone(),
        fs_root: fs_root(&args),
        stats,
        rtc_from_host: args.rtc == cli::RtcMode::Host,
        settings_roots: args.settings_roots.clone(),
        power_cut_after: args.power_cut_after,
        flash_timing: args.flash_timing.unwrap_or_default(),
    };
    // "ready" means booted: the banner is out and every group answers. It is printed after
    // every boot, with the boot number, so that a script can wait for it after a reset.
    // The engine runs on a thread of its own, named as Zephyr's SMP work queue is named
    // in this device's task list; the main thread only waits for it.
    let device = std::thread::Builder::new()
        .name("smp_work".into())
        .spawn(move || {
            let mut cfg = cfg;
            let mut ready = |boot: u32| announce(&format!("ready (boot #{boot})"));
            with_geometry!(w, e, run_device(&mut cfg, &mut engine, &mut ready))
                .expect("geometry checked")
        })
        .map_err(|e| format!("cannot start the device thread: {e}"))?;
    let sig = device
        .join()
        .map_err(|_| "the device thread panicked".to_string())??;
    log::info!("signal {sig}: stopping");
    drop(links);
    Ok(())
}
