//! Command-line interface.
//!
//! The doc comments of [`Args`] are the `--help` text clap prints, written for a terminal:
//! `[::1]` and `<state>` there are text, not rustdoc links or HTML.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

/// A host SMP device: the Rust MCUmgr server core on Linux.
///
/// smp-svr behaves like a Zephyr board running the smp_svr sample: it answers SMP (MCUmgr)
/// requests over UDP and over a serial console on a pseudo-terminal (SMP frames and a text
/// shell share the line, as on a Zephyr console), keeps its flash and settings in files under
/// --state, and really restarts when asked to reset: the transports answer again afterwards.
///
/// Talk to it with any MCUmgr client, for example:
///
///   mcumgrctl --udp 127.0.0.1:1337 os echo hello
///
///   smp-svr --pty /tmp/smp-tty &  mcumgrctl -s /tmp/smp-tty os echo hello
///
///   smpmgr --ip 127.0.0.1 os echo hello
#[derive(Debug, Parser)]
#[command(name = "smp-svr", version, verbatim_doc_comment)]
pub struct Args {
    /// A utility instead of the device.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// UDP address to serve SMP on (repeatable). Port 0 picks a free port; the bound
    /// address is printed on stdout.
    /// [default: 127.0.0.1:1337 and [::1]:1337]
    #[arg(long = "udp", value_name = "ADDR")]
    pub udp: Vec<SocketAddr>,

    /// Serve no UDP at all.
    #[arg(long, conflicts_with = "udp")]
    pub no_udp: bool,

    /// Open a pseudo-terminal for the serial console (SMP frames and the shell) and make
    /// LINK a symlink to its slave side. The slave path is printed on stdout.
    #[arg(long, value_name = "LINK")]
    pub pty: Option<PathBuf>,

    /// Serve the serial console on an existing tty device (set to raw mode, 115200 baud).
    #[arg(long, value_name = "DEV")]
    pub serial: Option<PathBuf>,

    /// Serve SMP over Bluetooth LE (Zephyr's SMP GATT service) with the controller at SPEC:
    /// unix:PATH or tcp:HOST:PORT (a socket, e.g. to a Bumble virtual controller),
    /// serial:DEV[,BAUD] (an HCI UART controller, default 1000000 baud) or hciN (a Linux
    /// adapter through the HCI user channel: needs CAP_NET_ADMIN and the adapter down).
    #[arg(long, value_name = "SPEC")]
    pub ble: Option<crate::ble_hci::Hci>,

    /// The name the Bluetooth LE device advertises.
    #[arg(long, value_name = "NAME", default_value = "smp-svr", requires = "ble")]
    pub ble_name: String,

    /// What the SMP characteristic requires of the link: open (as the sample), encrypt
    /// (CONFIG_MCUMGR_TRANSPORT_BT_PERM_RW_ENCRYPT) or authen (_RW_AUTHEN); writes from a
    /// link without it are refused.
    #[arg(
        long,
        value_enum,
        value_name = "LEVEL",
        default_value = "open",
        requires = "ble"
    )]
    pub ble_security: crate::ble::Security,

    /// Speak the raw serial protocol on --pty/--serial (CONFIG_MCUMGR_TRANSPORT_RAW_UART):
    /// bare SMP packets back to back, no Base64 framing and no shell (mcumgrctl --raw).
    #[arg(long)]
    pub raw: bool,

    /// Directory holding everything the device persists (flash, settings, file system).
    #[arg(
        long,
        value_name = "DIR",
        default_value = "./smp-svr-state",
        global = true
    )]
    pub state: PathBuf,

    /// Directory served as the device's file system, under the mount point /lfs1
    /// [default: <state>/fs].
    #[arg(long, value_name = "DIR")]
    pub fs_root: Option<PathBuf>,

    /// Also write smp-svr's own log to the file NAME in the file-system root, so that it can
    /// be downloaded as /lfs1/NAME (`mcumgrctl fs download /lfs1/NAME out.txt`).
    #[arg(long, value_name = "NAME")]
    pub log_file: Option<String>,

    /// Largest SMP packet, header included, a transport accepts or sends
    /// (CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE; reported by `os mcumgr params`).
    #[arg(long, value_name = "N", default_value_t = 2048,
          value_parser = clap::value_parser!(u32).range(64..=65535))]
    pub buf_size: u32,

    /// Number of SMP packet buffers (CONFIG_MCUMGR_TRANSPORT_NETBUF_COUNT), as `os mcumgr
    /// params` reports it: how many requests a pipelining client may keep in flight.
    /// Requests beyond it wait in the kernel's socket buffer, never dropped.
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub buf_count: u32,

    /// Node name reported by `os info` (`n`) [default: this machine's hostname].
    #[arg(long, value_name = "NAME")]
    pub node_name: Option<String>,

    /// Hardware platform reported by `os info` (`i`).
    #[arg(long, value_name = "BOARD", default_value = "native_sim/native")]
    pub board: String,

    /// Signed image to program into image 0's primary slot on the first boot (when that slot
    /// is blank), as `west flash` would. Without it a built-in, unsigned image is installed.
    /// Ignored (with a warning) when the slot already holds an image: to program it again,
    /// use `smp-svr flash`.
    #[arg(long, value_name = "FILE")]
    pub image: Option<PathBuf>,

    /// Public key (PEM from `imgtool getpub -e pem`, or DER) the emulated MCUboot accepts
    /// image signatures from (repeatable). Without keys only the image hash is checked.
    #[arg(long = "key", value_name = "PUB", global = true)]
    pub keys: Vec<PathBuf>,

    /// Size of each image slot in bytes (hex with 0x, or decimal).
    #[arg(long, value_name = "BYTES", default_value = "0x60000", value_parser = parse_size,
          global = true)]
    pub slot_size: u32,

    /// Number of updatable images (1..=3), each with a primary and a secondary slot.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u8).range(1..=3))]
    pub images: u8,

    /// Flash write granularity in bytes: 1, 2, 4, 8, 16 or 32.
    #[arg(long, value_name = "BYTES", default_value_t = 8)]
    pub write_size: usize,

    /// Flash erase granularity (sector size) in bytes: 1024, 2048, 4096, 8192, 65536 or
    /// 131072.
    #[arg(long, value_name = "BYTES", default_value_t = 4096)]
    pub erase_size: usize,

    /// MCUboot's BOOT_MAX_ALIGN: trailer alignment (8, 16 or 32).
    #[arg(long, value_name = "BYTES", default_value_t = 8)]
    pub max_align: u32,

    /// Direct upload (CONFIG_MCUMGR_GRP_IMG_DIRECT_UPLOAD): an upload's `image` is the
    /// absolute slot + 1, so every slot but the running one is reachable.
    #[arg(long)]
    pub direct_upload: bool,

    /// How the emulated MCUboot swaps an image at reset. `move` (the default): MCUboot's
    /// swap using move, sector by sector, with the swap status in the primary slot's
    /// trailer (the core's smp::mcuboot::swap::move_), reported as mode 3; --erase-size is
    /// MCUboot's sector, and an upload whose image is larger than move's app_max_size is
    /// refused (err 30). `offset`: MCUboot's swap using offset (smp::mcuboot::swap::offset,
    /// Zephyr's default mode), reported as mode 9: every secondary slot is one --erase-size
    /// sector larger than --slot-size (the layout MCUboot calls optimal), an upload is
    /// written one sector into it and listed from there, and the size limit is offset's
    /// app_max_size (err 30 beyond it). `scratch`: MCUboot's swap using scratch
    /// (smp::mcuboot::swap::scratch) through a scratch partition of one sector
    /// (`<state>/flash/scratch.bin`), status in the primary's or the scratch's trailer,
    /// mode 1. `overwrite`: MCUboot's overwrite-only (smp::mcuboot::swap::overwrite): the
    /// new image is copied over the old one, a test request acts as permanent, nothing can
    /// be reverted, mode 2. Scratch and overwrite, as move, refuse (err 30) an upload larger
    /// than MCUboot's limit for them. `journal`: the older whole-slot swap committed through
    /// a journal file, reported as swap using scratch (mode 1). A state directory is meant
    /// for one mode: another mode resizes the secondary slot files. `direct-xip` (mode 4)
    /// and `direct-xip-revert` (mode 5): nothing is copied; MCUboot boots the slot holding
    /// the higher valid version (with revert: only a slot whose trailer marks it for test
    /// or confirmed; an unconfirmed image is erased at the boot after its first), the
    /// image group uploads to the slot not running; one image only (--images 1), no
    /// --downgrade-prevention (MCUboot has none in these modes; they never pick a lower
    /// version while a higher one boots).
    #[arg(
        long,
        value_enum,
        value_name = "MODE",
        default_value = "move",
        global = true
    )]
    pub swap_mode: SwapMode,

    /// MCUboot downgrade prevention: a test or permanent swap to a lower version is refused
    /// at boot. Not with --swap-mode direct-xip or direct-xip-revert, which MCUboot builds
    /// without it (its Kconfig: MCUBOOT_DOWNGRADE_PREVENTION depends on !BOOT_DIRECT_XIP).
    #[arg(long)]
    pub downgrade_prevention: bool,

    /// Report date-time with milliseconds (CONFIG_MCUMGR_GRP_OS_DATETIME_MS).
    #[arg(long)]
    pub datetime_ms: bool,

    /// A settings handler's root (repeatable; default `app`): names under it (`app/x`) can be
    /// read and written; a name under any other root is "root key not found", as on a
    /// Zephyr build where no handler registered that root.
    #[arg(long = "settings-root", value_name = "NAME", default_value = "app")]
    pub settings_roots: Vec<String>,

    /// The RTC at power-on: `unset` answers date-time reads with OS error 4 (RTC not set)
    /// until a client sets it, as native_sim's RTC emulator does; `host` starts at the
    /// host's UTC clock.
    #[arg(long, value_enum, value_name = "MODE", default_value = "unset")]
    pub rtc: RtcMode,

    /// Refuse SMP v1 (original protocol) requests with rc 12.
    #[arg(long)]
    pub no_smp_v1: bool,

    /// Inject a fault on every transport's input, for testing client retry and resume
    /// (repeatable): `drop=P%` loses a request with probability P %, `duplicate=P%`
    /// processes it twice, `delay=MS` processes it MS ms after it arrived. Each injected
    /// fault is logged.
    #[arg(long = "fault", value_name = "SPEC")]
    pub faults: Vec<crate::fault::Fault>,

    /// Seed of the fault decisions: the same seed and the same requests give the same
    /// faults.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub fault_seed: u64,

    /// Erase and write times of a real part, so that flash operations take as long as on
    /// a board: `nrf52840` (89.7 ms per erased 4 KiB page, Zephyr's
    /// FLASH_PAGE_ERASE_MAX_TIME_US for the nRF52; 41 µs per 32-bit word written, the nRF
    /// Connect SDK's figure for the part) or `custom:ERASE_MS,WRITE_US_PER_WORD` (per
    /// erased --erase-size sector, per 32-bit word written). An upload's first chunk is answered after the erase of what
    /// the image will cover, as Zephyr's img_mgmt does; the emulated MCUboot's swaps are
    /// slowed too. The delay blocks the device's one SMP work loop: no transport is served
    /// meanwhile (requests wait in the socket buffer), as a board's SMP work queue blocks
    /// in its flash driver.
    #[arg(long, value_name = "PROFILE")]
    pub flash_timing: Option<crate::flash::FlashTiming>,

    /// Cut the power right after the N-th flash operation counted from process start (a
    /// write, one erased sector, in --swap-mode journal a commit or removal of the swap
    /// journal, a settings save or delete, a storage erase): the process prints `smp-svr: power cut
    /// after flash operation N` on stderr and kills itself (SIGKILL), leaving the state
    /// directory as the flash held it. A restart without the option boots through the
    /// emulated MCUboot. If N is never reached, a clean stop logs how many operations were
    /// made.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub power_cut_after: Option<u64>,
}

/// The emulated MCUboot's swap (`--swap-mode`; the command line defaults to `Move`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum SwapMode {
    /// Whole-slot swap through a journal file (`crate::boot`'s own emulation). The
    /// `Default` of this type and of `crate::boot::BootConfig`, which the journal's unit
    /// tests build on.
    #[default]
    Journal,
    /// MCUboot's swap using move, sector by sector.
    Move,
    /// MCUboot's swap using offset, sector by sector; secondary slots one sector larger.
    Offset,
    /// MCUboot's swap using scratch, sector by sector through a scratch partition.
    Scratch,
    /// MCUboot's overwrite-only upgrade: no swap, no revert.
    Overwrite,
    /// MCUboot's direct-XIP: no swap, the higher valid version boots from its own slot.
    DirectXip,
    /// MCUboot's direct-XIP with revert: as direct-XIP, for images marked for test or
    /// confirmed; an unconfirmed one is erased at the boot after its first.
    DirectXipRevert,
}

/// How the emulated RTC starts (`--rtc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RtcMode {
    /// Runs from the host's UTC clock from the start.
    Host,
    /// Not set until a client sets it (Zephyr's native_sim RTC emulator: `-ENODATA`).
    Unset,
}

/// Utilities.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print a signed image's version, size, hash (the value `image state` shows once it is
    /// uploaded) and signature type; with --key, verify the signature. Exits non-zero when
    /// MCUboot would refuse the image (hash mismatch, truncated, not signed by a --key).
    ImageInfo {
        /// The signed image (imgtool output).
        file: PathBuf,
    },
    /// Program a signed image into image 0's primary slot of --state, as `west flash`
    /// programs a board: the slot (trailer included) is erased first, the secondary slot is
    /// left alone. The image is checked first (with --key, its signature too). Then start
    /// the device on the same --state.
    Flash {
        /// The signed image (imgtool output).
        file: PathBuf,
    },
}

fn parse_size(s: &str) -> Result<u32, String> {
    let r = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => s.parse(),
    };
    r.map_err(|e| format!("{s:?}: {e}"))
}
