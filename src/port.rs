//! The Rust side of the port: safe wrappers over `include/smp_port.h` (bindings in
//! `port_sys`) and the `smp` core's platform traits implemented on top of them.
//!
//! Every C call goes through this module; the rest of `rustapp` has no `unsafe` FFI. Status
//! codes become [`Result`] in one place, [`check`].
//!
//! What is here:
//! - [`ZephyrOs`]: [`smp::platform::Os`] (reset, threads, heaps, RTC, identity, MCUboot
//!   facts);
//! - [`ZephyrShell`]: [`smp::platform::Shell`] over the dummy shell backend, and
//!   [`shell_exec`] for the console front end;
//! - [`FlashArea`]: `embedded-storage`'s [`NorFlash`] over a flash_map partition, for the
//!   image and basic groups;
//! - [`fs::ZephyrFs`], [`stats::ZephyrStats`], [`settings::ZephyrSettings`],
//!   [`ZephyrStorage`]: the platforms of the fs, stat, settings and Zephyr basic groups;
//! - [`boot::ZephyrBoot`]: the image group's boot control over MCUboot's `boot_*` calls
//!   (its flash areas are [`FlashArea`]s).

use core::fmt;

use embedded_storage::nor_flash::{
    check_erase, check_read, check_write, ErrorType, NorFlash, NorFlashError, NorFlashErrorKind,
    ReadNorFlash,
};
use smp::platform::{
    BootloaderInfo, DateTime, EraseError, HeapInfo, Identity, Os, ResetRequest, RtcError, Shell,
    StackInfo, StorageErase, TaskInfo,
};
use smp::server::Error;
use smp::wire::Rc;

use crate::port_sys as sys;

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
fn check32(rc: i32) -> Result<u32, PortError> {
    check(rc.into()).map(|v| v as u32)
}

/// The longest prefix of `bytes` that is valid UTF-8.
fn utf8_prefix(bytes: &[u8]) -> &str {
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

/// Reads one identity string from the port.
fn identity_str(which: u32, fallback: &'static str) -> &'static str {
    let mut len = 0usize;
    // SAFETY: `len` is a valid out pointer for the duration of the call.
    let ptr = unsafe { sys::smp_port_identity(which, &mut len) };
    if ptr.is_null() {
        return fallback;
    }
    // SAFETY: the header promises `ptr` points at `len` bytes of static storage that stay
    // valid and unchanged for the program's lifetime.
    let bytes: &'static [u8] = unsafe { core::slice::from_raw_parts(ptr, len) };
    core::str::from_utf8(bytes).unwrap_or(fallback)
}

/// The OS services of Zephyr, for the OS group.
#[derive(Debug, Default)]
pub struct ZephyrOs {
    _private: (),
}

impl ZephyrOs {
    /// A new handle (the services themselves are global).
    pub fn new() -> Self {
        ZephyrOs { _private: () }
    }
}

/// Longest thread name read from the port.
const THREAD_NAME_MAX: usize = 32;

impl Os for ZephyrOs {
    fn reset(&mut self, req: ResetRequest) -> Result<(), Error> {
        // SAFETY: plain integer argument.
        let rc = unsafe { sys::smp_port_reset_schedule(req.boot_mode.into()) };
        check32(rc).map(|_| ()).map_err(|e| match e {
            PortError::NotSup | PortError::Inval => Rc::NotSup.into(),
            _ => Rc::Unknown.into(),
        })
    }

    fn tasks(
        &mut self,
        f: &mut dyn FnMut(&TaskInfo<'_>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        for index in 0u32.. {
            let mut name = [0u8; THREAD_NAME_MAX];
            let mut name_len = 0usize;
            let (mut prio, mut state, mut size, mut used, mut runtime, mut flags) =
                (0i32, 0u32, 0u32, 0u32, 0u64, 0u32);
            // SAFETY: `name` is valid for `name.len()` bytes and every out pointer is a
            // valid, exclusive local for the duration of the call.
            let rc = unsafe {
                sys::smp_port_thread_get(
                    index,
                    name.as_mut_ptr(),
                    name.len(),
                    &mut name_len,
                    &mut prio,
                    &mut state,
                    &mut size,
                    &mut used,
                    &mut runtime,
                    &mut flags,
                )
            };
            match check32(rc) {
                Ok(_) => {}
                Err(PortError::NoEnt) => break,
                Err(_) => return Err(Rc::Unknown.into()),
            }
            let name = utf8_prefix(&name[..name_len.min(THREAD_NAME_MAX)]);
            f(&TaskInfo {
                name,
                prio,
                state,
                stack: (flags & sys::SMP_PORT_THREAD_HAS_STACK != 0)
                    .then_some(StackInfo { size, used }),
                runtime: (flags & sys::SMP_PORT_THREAD_HAS_RUNTIME != 0).then_some(runtime),
            })?;
        }
        Ok(())
    }

    fn heaps(&mut self, f: &mut dyn FnMut(&HeapInfo) -> Result<(), Error>) -> Result<(), Error> {
        for index in 0u32.. {
            let (mut size, mut free, mut min_free) = (0u64, 0u64, 0u64);
            // SAFETY: the out pointers are valid, exclusive locals for the call.
            let rc = unsafe { sys::smp_port_heap_get(index, &mut size, &mut free, &mut min_free) };
            match check32(rc) {
                Ok(_) => f(&HeapInfo {
                    size,
                    free,
                    min_free,
                })?,
                Err(PortError::NoEnt) => break,
                Err(PortError::NotSup) => return Err(Rc::NotSup.into()),
                Err(_) => {
                    return Err(smp::groups::os::Err::HeapStatsFetchFailed.into());
                }
            }
        }
        Ok(())
    }

    fn rtc_get(&mut self) -> Result<DateTime, RtcError> {
        let mut v = [0u16; sys::SMP_PORT_DATETIME_FIELDS as usize];
        // SAFETY: `v` holds the SMP_PORT_DATETIME_FIELDS values the call writes.
        let rc = unsafe { sys::smp_port_rtc_get(v.as_mut_ptr()) };
        match check32(rc) {
            Ok(_) => Ok(DateTime {
                year: v[0],
                month: v[1] as u8,
                day: v[2] as u8,
                hour: v[3] as u8,
                minute: v[4] as u8,
                second: v[5] as u8,
                millis: v[6],
            }),
            Err(PortError::NoData) => Err(RtcError::NotSet),
            Err(_) => Err(RtcError::Failed),
        }
    }

    fn rtc_set(&mut self, t: &DateTime) -> Result<(), RtcError> {
        let v: [u16; sys::SMP_PORT_DATETIME_FIELDS as usize] = [
            t.year,
            t.month.into(),
            t.day.into(),
            t.hour.into(),
            t.minute.into(),
            t.second.into(),
            t.millis,
        ];
        // SAFETY: `v` holds the SMP_PORT_DATETIME_FIELDS values the call reads.
        let rc = unsafe { sys::smp_port_rtc_set(v.as_ptr()) };
        check32(rc).map(|_| ()).map_err(|_| RtcError::Failed)
    }

    fn identity(&self) -> Identity<'_> {
        let build = identity_str(sys::SMP_PORT_ID_BUILD_DATE_TIME, "");
        Identity {
            node_name: identity_str(sys::SMP_PORT_ID_NODE_NAME, "unknown"),
            kernel_release: identity_str(sys::SMP_PORT_ID_KERNEL_RELEASE, "unknown"),
            kernel_version: identity_str(sys::SMP_PORT_ID_KERNEL_VERSION, "unknown"),
            build_date_time: (!build.is_empty()).then_some(build),
            machine: identity_str(sys::SMP_PORT_ID_MACHINE, "unknown"),
            processor: identity_str(sys::SMP_PORT_ID_PROCESSOR, "unknown"),
            hardware_platform: identity_str(sys::SMP_PORT_ID_HARDWARE_PLATFORM, "unknown"),
            os_name: identity_str(sys::SMP_PORT_ID_OS_NAME, "Zephyr"),
        }
    }

    fn bootloader(&self) -> Option<BootloaderInfo> {
        let (mut mode, mut no_downgrade) = (0i32, 0u32);
        // SAFETY: the out pointers are valid, exclusive locals for the call.
        let rc = unsafe { sys::smp_port_bootloader_info(&mut mode, &mut no_downgrade) };
        check32(rc).ok().map(|_| BootloaderInfo {
            name: "MCUboot",
            mode,
            no_downgrade: no_downgrade != 0,
        })
    }
}

/// Runs one shell command line on Zephyr's dummy shell backend, writing its output into
/// `out`. Returns the output length and the command's return value.
pub fn shell_exec(line: &str, out: &mut [u8]) -> Result<(usize, i32), PortError> {
    let (mut out_len, mut ret) = (0usize, 0i32);
    // SAFETY: `line` and `out` are valid for their lengths; the out pointers are valid,
    // exclusive locals; the C side copies at most `out.len()` bytes.
    let rc = unsafe {
        sys::smp_port_shell_exec(
            line.as_ptr(),
            line.len(),
            out.as_mut_ptr(),
            out.len(),
            &mut out_len,
            &mut ret,
        )
    };
    check32(rc)?;
    Ok((out_len.min(out.len()), ret))
}

/// Zephyr's shell, for the shell group and the console.
#[derive(Debug, Default)]
pub struct ZephyrShell {
    _private: (),
}

impl ZephyrShell {
    /// A new handle (the shell itself is global).
    pub fn new() -> Self {
        ZephyrShell { _private: () }
    }
}

/// Longest shell output passed through [`ZephyrShell`].
const SHELL_OUT_MAX: usize = 256;

impl Shell for ZephyrShell {
    fn exec(&mut self, line: &str, out: &mut dyn fmt::Write) -> i32 {
        let mut buf = [0u8; SHELL_OUT_MAX];
        match shell_exec(line, &mut buf) {
            Ok((n, ret)) => {
                // Output that does not fit the caller is cut, as Zephyr's shell group does.
                let _ = out.write_str(utf8_prefix(&buf[..n]));
                ret
            }
            // -ENOEXEC, as Zephyr's shell reports a command it cannot run.
            Err(_) => -8,
        }
    }
}

/// Logical flash areas (`SMP_PORT_AREA_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// Slot `n` (0..=5): image `n / 2`, primary (even) or secondary (odd).
    Slot(u8),
    /// `storage_partition`.
    Storage,
}

/// Flash errors, in `embedded-storage`'s terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlashError {
    /// Offset or length not aligned to the write or erase size.
    NotAligned,
    /// Outside the partition.
    OutOfBounds,
    /// The flash driver failed.
    Port(PortError),
}

impl NorFlashError for FlashError {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            FlashError::NotAligned => NorFlashErrorKind::NotAligned,
            FlashError::OutOfBounds => NorFlashErrorKind::OutOfBounds,
            FlashError::Port(_) => NorFlashErrorKind::Other,
        }
    }
}

impl From<NorFlashErrorKind> for FlashError {
    fn from(k: NorFlashErrorKind) -> Self {
        match k {
            NorFlashErrorKind::NotAligned => FlashError::NotAligned,
            NorFlashErrorKind::OutOfBounds => FlashError::OutOfBounds,
            _ => FlashError::Port(PortError::Io),
        }
    }
}

/// Why a partition cannot be used as a [`FlashArea`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenError {
    /// The port reported an error (no such partition, ...).
    Port(PortError),
    /// The partition's write block size does not divide `WRITE` (raise
    /// `CONFIG_SMP_RS_FLASH_WRITE_BLOCK`).
    WriteSize(u32),
    /// The partition's erase unit does not divide `ERASE` (set
    /// `CONFIG_SMP_RS_FLASH_ERASE_UNIT` to the page size).
    EraseSize(u32),
    /// The partition size is not a multiple of `ERASE`.
    Size(u64),
}

/// A flash_map partition as `embedded-storage` NOR flash.
///
/// `NorFlash` wants the write and erase granularity as constants, while Zephyr knows them
/// at run time: `WRITE` and `ERASE` are the build's promise (Kconfig), and [`FlashArea::open`]
/// checks the partition keeps it (its real sizes divide them).
#[derive(Debug)]
pub struct FlashArea<const WRITE: usize, const ERASE: usize> {
    id: u8,
    size: u32,
    erased: u8,
}

impl<const WRITE: usize, const ERASE: usize> FlashArea<WRITE, ERASE> {
    /// Opens a logical area.
    pub fn open(area: Area) -> Result<Self, OpenError> {
        let logical = match area {
            Area::Slot(n) => u32::from(n),
            Area::Storage => sys::SMP_PORT_AREA_STORAGE,
        };
        let port = OpenError::Port;
        // SAFETY: plain integer arguments and results, here and below.
        let id = check32(unsafe { sys::smp_port_flash_area_id(logical) }).map_err(port)?;
        let id = u8::try_from(id).map_err(|_| OpenError::Port(PortError::Inval))?;
        // SAFETY: as above.
        let size = check(unsafe { sys::smp_port_flash_size(id) }).map_err(port)?;
        // SAFETY: as above.
        let align = check32(unsafe { sys::smp_port_flash_write_align(id) }).map_err(port)?;
        // SAFETY: as above.
        let unit = check32(unsafe { sys::smp_port_flash_erase_unit(id) }).map_err(port)?;
        // SAFETY: as above.
        let erased = check32(unsafe { sys::smp_port_flash_erased_value(id) }).map_err(port)?;
        if align == 0 || WRITE % align as usize != 0 {
            return Err(OpenError::WriteSize(align));
        }
        if unit == 0 || ERASE % unit as usize != 0 {
            return Err(OpenError::EraseSize(unit));
        }
        if size % ERASE as u64 != 0 || size > u64::from(u32::MAX) {
            return Err(OpenError::Size(size));
        }
        Ok(FlashArea {
            id,
            size: size as u32,
            erased: erased as u8,
        })
    }

    /// The flash_map partition id.
    pub fn id(&self) -> u8 {
        self.id
    }

    /// The value of an erased byte.
    pub fn erased_value(&self) -> u8 {
        self.erased
    }
}

impl<const WRITE: usize, const ERASE: usize> ErrorType for FlashArea<WRITE, ERASE> {
    type Error = FlashError;
}

impl<const WRITE: usize, const ERASE: usize> ReadNorFlash for FlashArea<WRITE, ERASE> {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), FlashError> {
        check_read(self, offset, bytes.len())?;
        // SAFETY: `bytes` is valid for writes of `bytes.len()` bytes during the call.
        let rc =
            unsafe { sys::smp_port_flash_read(self.id, offset, bytes.as_mut_ptr(), bytes.len()) };
        check32(rc).map(|_| ()).map_err(FlashError::Port)
    }

    fn capacity(&self) -> usize {
        self.size as usize
    }
}

impl<const WRITE: usize, const ERASE: usize> NorFlash for FlashArea<WRITE, ERASE> {
    const WRITE_SIZE: usize = WRITE;
    const ERASE_SIZE: usize = ERASE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), FlashError> {
        check_erase(self, from, to)?;
        // SAFETY: plain integer arguments.
        let rc = unsafe { sys::smp_port_flash_erase(self.id, from, to - from) };
        check32(rc).map(|_| ()).map_err(FlashError::Port)
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), FlashError> {
        check_write(self, offset, bytes.len())?;
        // SAFETY: `bytes` is valid for reads of `bytes.len()` bytes during the call.
        let rc = unsafe { sys::smp_port_flash_write(self.id, offset, bytes.as_ptr(), bytes.len()) };
        check32(rc).map(|_| ()).map_err(FlashError::Port)
    }
}

/// MCUboot control through `zephyr/dfu/mcuboot.h`, as the image group's
/// [`BootControl`](smp::platform::BootControl).
pub mod boot {
    use smp::platform::{BootControl, BootError, BootloaderInfo, Os, SwapType};

    use super::{check32, sys, PortError, ZephyrOs};

    fn boot_err(e: PortError) -> BootError {
        match e {
            PortError::NoEnt => BootError::NoImage,
            PortError::Inval => BootError::BadImage,
            _ => BootError::Flash,
        }
    }

    /// MCUboot as the running application sees it.
    #[derive(Debug, Default)]
    pub struct ZephyrBoot {
        _private: (),
    }

    impl ZephyrBoot {
        /// A new handle (MCUboot's state lives in the slot trailers).
        pub fn new() -> Self {
            ZephyrBoot { _private: () }
        }
    }

    impl BootControl for ZephyrBoot {
        fn swap_type(&mut self, image: u8) -> Result<SwapType, BootError> {
            // SAFETY: plain integer argument and result.
            let v =
                check32(unsafe { sys::smp_port_boot_swap_type(image.into()) }).map_err(boot_err)?;
            Ok(SwapType::from_u8(u8::try_from(v).unwrap_or(0xff)))
        }

        fn request_upgrade(&mut self, image: u8, permanent: bool) -> Result<(), BootError> {
            // SAFETY: plain integer arguments and result.
            let rc = unsafe { sys::smp_port_boot_request_upgrade(image.into(), permanent.into()) };
            check32(rc).map(|_| ()).map_err(boot_err)
        }

        fn confirm(&mut self, image: u8) -> Result<(), BootError> {
            // SAFETY: plain integer argument and result.
            let rc = unsafe { sys::smp_port_boot_confirm(image.into()) };
            check32(rc).map(|_| ()).map_err(|e| match e {
                PortError::Inval => BootError::BadVector,
                e => boot_err(e),
            })
        }

        fn is_confirmed(&mut self, image: u8) -> Result<bool, BootError> {
            // SAFETY: plain integer argument and result.
            let rc = unsafe { sys::smp_port_boot_is_confirmed(image.into()) };
            check32(rc).map(|v| v != 0).map_err(boot_err)
        }

        fn info(&self) -> BootloaderInfo {
            ZephyrOs::new().bootloader().unwrap_or(BootloaderInfo {
                name: "MCUboot",
                mode: -1,
                no_downgrade: false,
            })
        }
    }
}

/// The file system through `zephyr/fs/fs.h`, as the FS group's
/// [`Fs`](smp::platform::Fs) platform.
pub mod fs {
    use smp::groups::fs::PATH_CAP;
    use smp::platform::{Fs, FsError, FsStat, Staged, UploadStart};

    use super::{check, check32, sys, PortError};

    /// Suffix of the staging file of an upload (invisible to clients).
    pub const STAGING_SUFFIX: &str = ".~smp";
    /// Suffix of the file recording an upload's announced total length.
    pub const TOTAL_SUFFIX: &str = ".~smpn";

    type PathBuf = heapless::String<{ PATH_CAP + 8 }>;

    fn fs_err(e: PortError) -> FsError {
        match e {
            PortError::NoEnt => FsError::NoEnt,
            PortError::Inval | PortError::NameTooLong | PortError::IsDir => FsError::Inval,
            PortError::RoFs => FsError::RoFs,
            PortError::NotSup => FsError::NotSup,
            _ => FsError::Io,
        }
    }

    fn with_suffix(path: &str, suffix: &str) -> Result<PathBuf, FsError> {
        let mut p = PathBuf::new();
        p.push_str(path).map_err(|_| FsError::Inval)?;
        p.push_str(suffix).map_err(|_| FsError::Inval)?;
        Ok(p)
    }

    fn open(path: &str, flags: u32) -> Result<u32, PortError> {
        // SAFETY: `path` is valid for `path.len()` bytes during the call.
        check32(unsafe { sys::smp_port_fs_open(path.as_ptr(), path.len(), flags) })
    }

    fn read(handle: u32, off: u64, buf: &mut [u8]) -> Result<usize, PortError> {
        // SAFETY: `buf` is valid for writes of `buf.len()` bytes during the call.
        let n =
            check32(unsafe { sys::smp_port_fs_read(handle, off, buf.as_mut_ptr(), buf.len()) })?;
        Ok((n as usize).min(buf.len()))
    }

    fn write(handle: u32, off: u64, data: &[u8]) -> Result<(), PortError> {
        // SAFETY: `data` is valid for reads of `data.len()` bytes during the call.
        check32(unsafe { sys::smp_port_fs_write(handle, off, data.as_ptr(), data.len()) })
            .map(|_| ())
    }

    fn close(handle: u32) -> Result<(), PortError> {
        // SAFETY: plain integer argument.
        check32(unsafe { sys::smp_port_fs_close(handle) }).map(|_| ())
    }

    fn size(path: &str) -> Result<u64, PortError> {
        // SAFETY: `path` is valid for `path.len()` bytes during the call.
        check(unsafe { sys::smp_port_fs_stat(path.as_ptr(), path.len()) })
    }

    fn unlink(path: &str) -> Result<(), PortError> {
        // SAFETY: `path` is valid for `path.len()` bytes during the call.
        check32(unsafe { sys::smp_port_fs_unlink(path.as_ptr(), path.len()) }).map(|_| ())
    }

    fn rename(from: &str, to: &str) -> Result<(), PortError> {
        // SAFETY: both paths are valid for their lengths during the call.
        check32(unsafe {
            sys::smp_port_fs_rename(from.as_ptr(), from.len(), to.as_ptr(), to.len())
        })
        .map(|_| ())
    }

    /// Writes a whole small file.
    fn write_file(path: &str, data: &[u8]) -> Result<(), PortError> {
        let h = open(
            path,
            sys::SMP_PORT_FS_WRITE | sys::SMP_PORT_FS_CREATE | sys::SMP_PORT_FS_TRUNC,
        )?;
        let r = write(h, 0, data);
        let c = close(h);
        r.and(c)
    }

    /// The total recorded for the upload to `path` (0 = unknown or none).
    fn recorded_total(path: &str) -> u64 {
        let Ok(name) = with_suffix(path, TOTAL_SUFFIX) else {
            return 0;
        };
        let Ok(h) = open(&name, sys::SMP_PORT_FS_READ) else {
            return 0;
        };
        let mut b = [0u8; 8];
        let n = read(h, 0, &mut b).unwrap_or(0);
        let _ = close(h);
        if n == b.len() {
            u64::from_le_bytes(b)
        } else {
            0
        }
    }

    /// An open file of [`ZephyrFs`].
    #[derive(Debug)]
    pub struct File {
        handle: u32,
        /// For an upload's staging file: the target it replaces on commit.
        target: Option<PathBuf>,
    }

    /// Zephyr's file system (mounted by the application, e.g. LittleFS at `/lfs1`).
    ///
    /// Uploads are staged in `<name>.~smp`, their announced total in `<name>.~smpn`; a
    /// commit renames the staging file over the target, which LittleFS does atomically.
    /// Names ending in either suffix are refused, so clients never see staging files.
    #[derive(Debug, Default)]
    pub struct ZephyrFs {
        _private: (),
    }

    impl ZephyrFs {
        /// A new handle (the file system itself is global).
        pub fn new() -> Self {
            ZephyrFs { _private: () }
        }

        fn check_name(path: &str) -> Result<(), FsError> {
            if path.ends_with(STAGING_SUFFIX) || path.ends_with(TOTAL_SUFFIX) {
                return Err(FsError::Inval);
            }
            Ok(())
        }
    }

    impl Fs for ZephyrFs {
        type File = File;

        fn stat(&mut self, path: &str) -> Result<FsStat, FsError> {
            Self::check_name(path)?;
            match size(path) {
                Ok(len) => Ok(FsStat { len, is_dir: false }),
                Err(PortError::IsDir) => Ok(FsStat {
                    len: 0,
                    is_dir: true,
                }),
                Err(e) => Err(fs_err(e)),
            }
        }

        fn open_read(&mut self, path: &str) -> Result<File, FsError> {
            Self::check_name(path)?;
            let handle = open(path, sys::SMP_PORT_FS_READ).map_err(fs_err)?;
            Ok(File {
                handle,
                target: None,
            })
        }

        fn open_upload(
            &mut self,
            path: &str,
            start: UploadStart,
        ) -> Result<(File, Staged), FsError> {
            Self::check_name(path)?;
            let staging = with_suffix(path, STAGING_SUFFIX)?;
            let total_name = with_suffix(path, TOTAL_SUFFIX)?;
            let mut target = PathBuf::new();
            target.push_str(path).map_err(|_| FsError::Inval)?;
            let rw = sys::SMP_PORT_FS_READ | sys::SMP_PORT_FS_WRITE | sys::SMP_PORT_FS_CREATE;
            let staged = match start {
                UploadStart::New { total } => {
                    write_file(&total_name, &total.to_le_bytes()).map_err(fs_err)?;
                    let handle = open(&staging, rw | sys::SMP_PORT_FS_TRUNC).map_err(fs_err)?;
                    return Ok((
                        File {
                            handle,
                            target: Some(target),
                        },
                        Staged { len: 0, total },
                    ));
                }
                UploadStart::Resume => match size(&staging) {
                    Ok(len) => Staged {
                        len,
                        total: recorded_total(path),
                    },
                    Err(PortError::NoEnt) => {
                        // No unfinished upload: start from a copy of the visible file.
                        let _ = unlink(&total_name);
                        let handle = open(&staging, rw | sys::SMP_PORT_FS_TRUNC).map_err(fs_err)?;
                        let copied = copy_into(path, handle);
                        let closed = close(handle);
                        let len = copied.and_then(|n| closed.map(|_| n)).map_err(fs_err)?;
                        Staged { len, total: 0 }
                    }
                    Err(e) => return Err(fs_err(e)),
                },
            };
            let handle = open(&staging, rw).map_err(fs_err)?;
            Ok((
                File {
                    handle,
                    target: Some(target),
                },
                staged,
            ))
        }

        fn read(&mut self, file: &mut File, off: u64, buf: &mut [u8]) -> Result<usize, FsError> {
            read(file.handle, off, buf).map_err(fs_err)
        }

        fn write(&mut self, file: &mut File, off: u64, data: &[u8]) -> Result<(), FsError> {
            if file.target.is_none() {
                return Err(FsError::NotSup);
            }
            write(file.handle, off, data).map_err(fs_err)
        }

        fn close(&mut self, file: File, commit: bool) -> Result<(), FsError> {
            let closed = close(file.handle).map_err(fs_err);
            let (Some(target), true) = (file.target, commit) else {
                return closed;
            };
            closed?;
            let staging = with_suffix(&target, STAGING_SUFFIX)?;
            rename(&staging, &target).map_err(fs_err)?;
            let _ = unlink(&with_suffix(&target, TOTAL_SUFFIX)?);
            Ok(())
        }
    }

    /// Copies the visible file `path` (if any) into the open file `handle`; returns the
    /// bytes copied.
    fn copy_into(path: &str, handle: u32) -> Result<u64, PortError> {
        let src = match open(path, sys::SMP_PORT_FS_READ) {
            Ok(h) => h,
            Err(PortError::NoEnt) => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut buf = [0u8; 128];
        let mut off = 0u64;
        let r = loop {
            match read(src, off, &mut buf) {
                Ok(0) => break Ok(off),
                Ok(n) => {
                    if let Err(e) = write(handle, off, &buf[..n]) {
                        break Err(e);
                    }
                    off += n as u64;
                }
                Err(e) => break Err(e),
            }
        };
        let _ = close(src);
        r
    }
}

/// Zephyr's statistics (`zephyr/stats/stats.h`), as the stat group's
/// [`Stats`](smp::platform::Stats) platform.
pub mod stats {
    use smp::platform::Stats;
    use smp::server::Error;
    use smp::wire::Rc;

    use super::{check32, sys, utf8_prefix, PortError};

    /// Longest group or counter name read from the port.
    const NAME_MAX: usize = 32;

    /// Zephyr's registered statistics groups.
    #[derive(Debug, Default)]
    pub struct ZephyrStats {
        _private: (),
    }

    impl ZephyrStats {
        /// A new handle (the statistics themselves are global).
        pub fn new() -> Self {
            ZephyrStats { _private: () }
        }
    }

    fn group_name(index: u32, buf: &mut [u8; NAME_MAX]) -> Result<Option<&str>, Error> {
        // SAFETY: `buf` is valid for writes of `buf.len()` bytes during the call.
        let rc = unsafe { sys::smp_port_stats_group(index, buf.as_mut_ptr(), buf.len()) };
        match check32(rc) {
            Ok(n) => Ok(Some(utf8_prefix(&buf[..(n as usize).min(NAME_MAX)]))),
            Err(PortError::NoEnt) => Ok(None),
            Err(_) => Err(Rc::Unknown.into()),
        }
    }

    impl Stats for ZephyrStats {
        fn groups(&mut self, f: &mut dyn FnMut(&str) -> Result<(), Error>) -> Result<(), Error> {
            let mut buf = [0u8; NAME_MAX];
            for index in 0u32.. {
                match group_name(index, &mut buf)? {
                    Some(name) => f(name)?,
                    None => break,
                }
            }
            Ok(())
        }

        fn counters(
            &mut self,
            group: &str,
            f: &mut dyn FnMut(&str, u64) -> Result<(), Error>,
        ) -> Result<bool, Error> {
            let mut found = false;
            let mut buf = [0u8; NAME_MAX];
            for index in 0u32.. {
                match group_name(index, &mut buf)? {
                    Some(name) if name == group => {
                        found = true;
                        break;
                    }
                    Some(_) => {}
                    None => break,
                }
            }
            if !found {
                return Ok(false);
            }
            for index in 0u32.. {
                let mut name = [0u8; NAME_MAX];
                let mut value = 0u64;
                // SAFETY: `group` and `name` are valid for their lengths and `value` is a
                // valid out pointer during the call.
                let rc = unsafe {
                    sys::smp_port_stats_entry(
                        group.as_ptr(),
                        group.len(),
                        index,
                        name.as_mut_ptr(),
                        name.len(),
                        &mut value,
                    )
                };
                match check32(rc) {
                    Ok(n) => f(utf8_prefix(&name[..(n as usize).min(NAME_MAX)]), value)?,
                    Err(PortError::NoEnt) => break,
                    Err(_) => return Err(Rc::Unknown.into()),
                }
            }
            Ok(true)
        }
    }
}

/// Zephyr's settings subsystem, as the settings group's
/// [`Settings`](smp::platform::Settings) platform.
pub mod settings {
    use smp::platform::{Settings, SettingsError};

    use super::{check32, sys, PortError};

    fn settings_err(e: PortError) -> SettingsError {
        match e {
            PortError::Inval => SettingsError::NoRoot,
            PortError::NoEnt => SettingsError::NotFound,
            PortError::NotSup => SettingsError::NotSup,
            _ => SettingsError::Other,
        }
    }

    /// Zephyr's runtime settings (`settings_runtime_*`, `settings_save`, ...).
    #[derive(Debug, Default)]
    pub struct ZephyrSettings {
        _private: (),
    }

    impl ZephyrSettings {
        /// A new handle (the settings themselves are global).
        pub fn new() -> Self {
            ZephyrSettings { _private: () }
        }
    }

    impl Settings for ZephyrSettings {
        fn get(&mut self, name: &str, buf: &mut [u8]) -> Result<usize, SettingsError> {
            // SAFETY: `name` and `buf` are valid for their lengths during the call.
            let rc = unsafe {
                sys::smp_port_settings_get(name.as_ptr(), name.len(), buf.as_mut_ptr(), buf.len())
            };
            check32(rc).map(|n| n as usize).map_err(settings_err)
        }

        fn set(&mut self, name: &str, val: &[u8]) -> Result<(), SettingsError> {
            // SAFETY: `name` and `val` are valid for their lengths during the call.
            let rc = unsafe {
                sys::smp_port_settings_set(name.as_ptr(), name.len(), val.as_ptr(), val.len())
            };
            check32(rc).map(|_| ()).map_err(settings_err)
        }

        fn delete(&mut self, name: &str) -> Result<(), SettingsError> {
            // SAFETY: `name` is valid for `name.len()` bytes during the call.
            let rc = unsafe { sys::smp_port_settings_delete(name.as_ptr(), name.len()) };
            check32(rc).map(|_| ()).map_err(settings_err)
        }

        fn commit(&mut self) -> Result<(), SettingsError> {
            // SAFETY: no arguments.
            check32(unsafe { sys::smp_port_settings_commit() })
                .map(|_| ())
                .map_err(settings_err)
        }

        fn load(&mut self) -> Result<(), SettingsError> {
            // SAFETY: no arguments.
            check32(unsafe { sys::smp_port_settings_load() })
                .map(|_| ())
                .map_err(settings_err)
        }

        fn save(&mut self, subtree: Option<&str>) -> Result<(), SettingsError> {
            let s = subtree.unwrap_or("");
            // SAFETY: `s` is valid for `s.len()` bytes during the call.
            let rc = unsafe { sys::smp_port_settings_save(s.as_ptr(), s.len()) };
            check32(rc).map(|_| ()).map_err(settings_err)
        }
    }
}

/// `storage_partition`, as the Zephyr basic group's [`StorageErase`] platform.
#[derive(Debug, Default)]
pub struct ZephyrStorage {
    _private: (),
}

impl ZephyrStorage {
    /// A new handle.
    pub fn new() -> Self {
        ZephyrStorage { _private: () }
    }
}

impl StorageErase for ZephyrStorage {
    fn erase_storage(&mut self) -> Result<(), EraseError> {
        // SAFETY: plain integer arguments and results, here and below.
        let id = check32(unsafe { sys::smp_port_flash_area_id(sys::SMP_PORT_AREA_STORAGE) })
            .map_err(|_| EraseError::Open)?;
        let id = u8::try_from(id).map_err(|_| EraseError::Open)?;
        // SAFETY: as above.
        let size =
            check(unsafe { sys::smp_port_flash_size(id) }).map_err(|_| EraseError::ConfigQuery)?;
        let size = u32::try_from(size).map_err(|_| EraseError::ConfigQuery)?;
        // SAFETY: as above.
        check32(unsafe { sys::smp_port_flash_erase(id, 0, size) })
            .map(|_| ())
            .map_err(|_| EraseError::Erase)
    }
}
