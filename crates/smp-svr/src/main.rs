//! `smp-svr`: the host SMP device. See `--help`.

mod board;
mod boot;
mod civil;
mod cli;
mod console;
mod device;
mod flash;
mod fs;
mod os;
mod settings;
mod shell;
mod stats;
mod udp;

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use signal_hook::consts::{SIGINT, SIGTERM};
use smp::server::Params;

use crate::board::Identity;
use crate::console::Console;
use crate::device::{DeviceConfig, Queue};

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
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("{e}");
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
fn announce(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "smp-svr: {line}");
    let _ = out.flush();
}

fn run(args: cli::Args) -> Result<(), String> {
    if let Some(cli::Command::ImageInfo { file }) = &args.command {
        let info = boot::image_info(file).map_err(|e| e.to_string())?;
        print!("{info}");
        return Ok(());
    }
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
    let mut boot_cfg = boot::BootConfig {
        keys: Vec::new(),
        downgrade_prevention: args.downgrade_prevention,
    };
    for k in &args.keys {
        boot_cfg.add_key_file(k).map_err(|e| e.to_string())?;
    }
    if !boot_cfg.keys.is_empty() && args.image.is_none() {
        log::warn!("--key without --image: the built-in image is unsigned and will not boot on a blank state");
    }
    // Before anything can announce readiness: a signal must always mean a clean stop.
    let mut signals =
        signal_hook::iterator::Signals::new([SIGINT, SIGTERM]).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&args.state)
        .map_err(|e| format!("cannot create state dir {}: {e}", args.state.display()))?;
    log::info!(
        "smp-svr {} starting: state {}, buf_size {}, buf_count {}",
        env!("CARGO_PKG_VERSION"),
        args.state.display(),
        args.buf_size,
        args.buf_count
    );
    let stats = stats::HostStats::new();
    let (tx, rx) = std::sync::mpsc::sync_channel(args.buf_count as usize);
    let queue = Queue::new(tx);
    let buf_size = args.buf_size as usize;
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
                let ts = stats.add_transport(&format!("smp_udp{next_transport}"));
                udp::spawn(sock, next_transport, buf_size, queue.clone(), ts);
                next_transport += 1;
            }
            Err(e) if !explicit && addr.is_ipv6() => {
                log::warn!("udp {addr} unavailable ({e}); serving IPv4 only");
            }
            Err(e) => return Err(format!("cannot bind udp {addr}: {e}")),
        }
    }

    // Serial consoles.
    let mut consoles = Vec::new();
    let mut _ptys = Vec::new();
    let mut links: Vec<PathBuf> = Vec::new();
    if let Some(link) = &args.pty {
        let pty = console::open_pty(link)
            .map_err(|e| format!("cannot open pty for {}: {e}", link.display()))?;
        let out = pty.master.try_clone().map_err(|e| e.to_string())?;
        let input = pty.master.try_clone().map_err(|e| e.to_string())?;
        let c = Arc::new(Console::new("pty", out, args.raw));
        log::info!(
            "console t{next_transport} on pty {} (link {})",
            pty.slave_path.display(),
            link.display()
        );
        announce(&format!("pty {}", pty.slave_path.display()));
        let ts = stats.add_transport(&format!("smp_uart{next_transport}"));
        console::spawn_reader(
            c.clone(),
            input,
            next_transport,
            buf_size,
            queue.clone(),
            ts,
        );
        next_transport += 1;
        consoles.push(c);
        links.push(link.clone());
        _ptys.push(pty);
    }
    if let Some(dev) = &args.serial {
        let f = console::open_serial(dev)
            .map_err(|e| format!("cannot open serial {}: {e}", dev.display()))?;
        let out = f.try_clone().map_err(|e| e.to_string())?;
        let c = Arc::new(Console::new(dev.display().to_string(), out, args.raw));
        log::info!("console t{next_transport} on serial {}", dev.display());
        announce(&format!("serial {}", dev.display()));
        let ts = stats.add_transport(&format!("smp_uart{next_transport}"));
        console::spawn_reader(c.clone(), f, next_transport, buf_size, queue.clone(), ts);
        consoles.push(c);
    }
    if next_transport == 0 && consoles.is_empty() {
        return Err("no transport: give --udp, --pty or --serial".into());
    }

    let node_name = args.node_name.clone().unwrap_or_else(|| {
        nix::unistd::gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
            .unwrap_or_else(|| "unknown".into())
    });
    let (booted_tx, booted_rx) = std::sync::mpsc::channel();
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
        geometry: flash::Geometry {
            slot_size: args.slot_size,
            images: args.images,
            layout: smp::mcuboot::trailer::Layout {
                max_align: args.max_align,
                ..Default::default()
            },
        },
        flash_dir: args.state.join("flash"),
        image: args.image.clone(),
        img: smp::groups::img::Config {
            images: args.images,
            layout: smp::mcuboot::trailer::Layout {
                max_align: args.max_align,
                ..Default::default()
            },
            direct_upload: args.direct_upload,
            ..Default::default()
        },
        consoles,
        state: args.state.clone(),
        fs_root: fs_root(&args),
        stats,
        booted: Some(booted_tx),
        rtc_from_host: args.rtc == cli::RtcMode::Host,
        settings_roots: args.settings_roots.clone(),
    };
    std::thread::Builder::new()
        .name("smp_work".into())
        .spawn(move || {
            let result = with_geometry!(w, e, run_device(cfg, rx)).expect("geometry checked");
            if let Err(e) = result {
                log::error!("{e}");
                eprintln!("smp-svr: {e}");
                std::process::exit(1);
            }
        })
        .map_err(|e| e.to_string())?;
    drop(queue);
    // "ready" means booted: the banner is out and every group answers.
    booted_rx
        .recv()
        .map_err(|_| "the device failed to boot".to_string())?;
    announce("ready");

    if let Some(sig) = signals.forever().next() {
        log::info!("signal {sig}: stopping");
    }
    for link in links {
        let _ = std::fs::remove_file(link);
    }
    Ok(())
}
