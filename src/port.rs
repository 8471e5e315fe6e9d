//! The Rust side of the port: safe wrappers over `include/smp_port.h` (bindings in
//! `port_sys`) and the `smp` core's platform traits implemented on top of them.
//!
//! Every C call goes through this module; the rest of `rustapp` has no `unsafe` FFI. Status
//! codes become [`Result`] in one place, [`check`].
//!
//! It is split by subsystem, as the host port (`crates/smp-svr`) is, and each submodule is
//! compiled only with the group that calls it (the `cfg` flags `build.rs` derives from the
//! `CONFIG_SMP_RS_GRP_*` symbols). Its C counterpart, `src/smp_port_<subsystem>.c`, is built
//! by `CMakeLists.txt` under the same condition, so no configuration references a port
//! function that is not compiled in (`ci/port-symbols.sh` checks it):
//!
//! | module | platform | built with | C file |
//! |---|---|---|---|
//! | here | uptime, logging, start-up; panic | always | `smp_queue.c`; the panic ends in zephyr-lang-rust's `rust_panic_wrap()` (its `main.c`) |
//! | `os` | `ZephyrOs`: [`smp::platform::Os`] | OS group | `smp_port_os.c` |
//! | `boot` | `bootloader_info`; `ZephyrBoot`: [`smp::platform::BootControl`] | OS or image group (`ZephyrBoot`: image) | `smp_port_boot.c` |
//! | `flash` | `FlashArea`: `embedded-storage` NOR flash; `ZephyrStorage`: [`smp::platform::StorageErase`] | image or Zephyr basic group | `smp_port_flash.c` |
//! | `fs` | `ZephyrFs`: [`smp::platform::Fs`] | FS group | `smp_port_fs.c` |
//! | `stats` | `ZephyrStats`: [`smp::platform::Stats`] | statistics group | `smp_port_stats.c` |
//! | `settings` | `ZephyrSettings`: [`smp::platform::Settings`] | settings group | `smp_port_settings.c` |
//! | `shell` | `ZephyrShell`: [`smp::platform::Shell`]; `shell_exec` for the console | shell group or console shell | `smp_port_shell.c` |

use core::fmt;

use crate::port_sys as sys;

#[cfg(any(smp_grp_os, smp_grp_img))]
pub mod boot;
#[cfg(any(smp_grp_img, smp_grp_zbasic))]
pub mod flash;
#[cfg(smp_grp_fs)]
pub mod fs;
#[cfg(smp_grp_os)]
pub mod os;
#[cfg(smp_grp_settings)]
pub mod settings;
#[cfg(any(smp_grp_shell, smp_console_shell))]
pub mod shell;
#[cfg(smp_grp_stat)]
pub mod stats;

/// A failure reported by the C side of the port (`SMP_PORT_E*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortError {
    /// `SMP_PORT_EIO`, or a code this build does not know.
    Io,
    /// `SMP_PORT_ENOENT`.
    NoEnt,
    /// `SMP_PORT_ENOTSUP`.
    NotSup,
    /// `SMP_PORT_ENODATA`.
    NoData,
    /// `SMP_PORT_EINVAL`.
    Inval,
    /// `SMP_PORT_ENOSPC`.
    NoSpc,
    /// `SMP_PORT_EBUSY`.
    Busy,
    /// `SMP_PORT_ENAMETOOLONG`.
    NameTooLong,
    /// `SMP_PORT_EISDIR`.
    IsDir,
    /// `SMP_PORT_EROFS`.
    RoFs,
}

impl fmt::Display for PortError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            PortError::Io => "I/O error",
            PortError::NoEnt => "not found",
            PortError::NotSup => "not supported",
            PortError::NoData => "no data",
            PortError::Inval => "invalid argument",
            PortError::NoSpc => "no space",
            PortError::Busy => "busy",
            PortError::NameTooLong => "name too long",
            PortError::IsDir => "is a directory",
            PortError::RoFs => "read-only file system",
        };
        f.write_str(s)
    }
}

impl core::error::Error for PortError {}

/// The one place where a port status code becomes a `Result`: non-negative values are
/// success (returned), negative values are `SMP_PORT_E*` codes.
pub fn check(rc: i64) -> Result<u64, PortError> {
    if rc >= 0 {
        return Ok(rc as u64);
    }
    Err(match i32::try_from(rc).unwrap_or(sys::SMP_PORT_EIO) {
        sys::SMP_PORT_ENOENT => PortError::NoEnt,
        sys::SMP_PORT_ENOTSUP => PortError::NotSup,
        sys::SMP_PORT_ENODATA => PortError::NoData,
        sys::SMP_PORT_EINVAL => PortError::Inval,
        sys::SMP_PORT_ENOSPC => PortError::NoSpc,
        sys::SMP_PORT_EBUSY => PortError::Busy,
        sys::SMP_PORT_ENAMETOOLONG => PortError::NameTooLong,
        sys::SMP_PORT_EISDIR => PortError::IsDir,
        sys::SMP_PORT_EROFS => PortError::RoFs,
        _ => PortError::Io,
    })
}

/// [`check`] for the `int32_t` results of most port functions.
pub fn check32(rc: i32) -> Result<u32, PortError> {
    check(rc.into()).map(|v| v as u32)
}

/// The longest prefix of `bytes` that is valid UTF-8 (names the C side copied out).
pub fn utf8_prefix(bytes: &[u8]) -> &str {
    match core::str::from_utf8(bytes) {
        Ok(s) => s,
        // `valid_up_to` is a char boundary, so the second conversion cannot fail.
        Err(e) => core::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or(""),
    }
}

/// Monotonic milliseconds since boot.
pub fn uptime_ms() -> u64 {
    // SAFETY: takes no arguments and only reads the kernel clock.
    unsafe { sys::smp_port_uptime_ms() }
}

/// Sends one log line to Zephyr's logger. `msg` must end with a NUL byte, which is not
/// counted in the length passed on.
pub(crate) fn log_line(level: u32, msg_with_nul: &[u8]) {
    let Some((&0, text)) = msg_with_nul.split_last() else {
        return;
    };
    // SAFETY: `text` is valid for `text.len()` bytes and followed by the NUL byte the
    // header promises; the C side only reads it during the call.
    unsafe { sys::smp_port_log(level, text.as_ptr(), text.len()) };
}

/// Panics the kernel through zephyr-lang-rust's `rust_panic_wrap()` (`k_panic()`).
#[cfg(target_os = "none")]
pub(crate) fn panic_wrap() {
    // SAFETY: provided by zephyr-lang-rust's main.c; takes no arguments; it does not
    // return, and if it did the caller spins.
    unsafe { sys::rust_panic_wrap() };
}

/// Starts the SMP work queue thread and the transports.
pub(crate) fn start() {
    // SAFETY: takes no arguments; the C side calls back into Rust only from the work
    // queue thread it starts.
    unsafe { sys::smp_port_start() };
}
