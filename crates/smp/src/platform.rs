//! The seam between the core and a port: small synchronous traits, one per capability.
//!
//! Groups reach the platform only through these traits, so the Zephyr port, the host port
//! and tests plug in the same way. Signatures carry no platform types; flash goes through
//! `embedded-storage`'s `NorFlash`.

use crate::server::Error;

/// A reset request from `os reset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResetRequest {
    /// The client asked to reset even if the application would rather not.
    pub force: bool,
    /// Boot mode (0 = normal, 1 = stay in the bootloader), from newest trees' `boot_mode`.
    pub boot_mode: u8,
}

/// One thread, as `os taskstat` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskInfo<'a> {
    /// Thread name (the OS group truncates it to its configured length).
    pub name: &'a str,
    /// Priority (signed, as Zephyr's `SIGNED_PRIORITY` default reports it).
    pub prio: i32,
    /// Thread state bits.
    pub state: u32,
    /// Stack size and use in bytes, if the platform knows them.
    pub stack: Option<StackInfo>,
    /// Execution cycles, if the platform tracks them.
    pub runtime: Option<u64>,
}

/// Stack size and use of a thread, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackInfo {
    /// Stack size in bytes.
    pub size: u32,
    /// Bytes ever used.
    pub used: u32,
}

/// One heap, as `os mpstat` reports it (a block is one byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeapInfo {
    /// Total size in bytes.
    pub size: u64,
    /// Free bytes now.
    pub free: u64,
    /// Lowest free bytes ever seen.
    pub min_free: u64,
}

/// A calendar date and time, as an RTC holds it (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DateTime {
    /// Year (1900..=11899).
    pub year: u16,
    /// Month, 1..=12.
    pub month: u8,
    /// Day of month, 1..=31.
    pub day: u8,
    /// Hour, 0..=23.
    pub hour: u8,
    /// Minute, 0..=59.
    pub minute: u8,
    /// Second, 0..=59.
    pub second: u8,
    /// Milliseconds, 0..=999.
    pub millis: u16,
}

/// RTC failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtcError {
    /// The RTC has not been set since power-up.
    NotSet,
    /// The RTC failed.
    Failed,
}

/// Identity strings that `os info` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity<'a> {
    /// `n`: node name (network hostname, Bluetooth name, or `unknown`).
    pub node_name: &'a str,
    /// `r`: kernel release (build version), or `unknown`.
    pub kernel_release: &'a str,
    /// `v`: kernel version, e.g. `4.2.0`.
    pub kernel_version: &'a str,
    /// `b`: build date and time; `None` makes `b` an invalid format character.
    pub build_date_time: Option<&'a str>,
    /// `m`: machine (`CONFIG_ARCH`).
    pub machine: &'a str,
    /// `p`: processor.
    pub processor: &'a str,
    /// `i`: hardware platform (board target).
    pub hardware_platform: &'a str,
    /// `o`: operating system name (`Zephyr`).
    pub os_name: &'a str,
}

/// Bootloader facts for `os bootloader info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootloaderInfo {
    /// Bootloader name (`MCUboot`).
    pub name: &'static str,
    /// MCUboot mode (`enum mcuboot_mode`: -1 unknown, 0 single slot, 1 swap+scratch,
    /// 2 overwrite-only, 3 swap-move, 4 direct-XIP, 5 direct-XIP+revert, 6 RAM load, ...).
    pub mode: i32,
    /// Whether the bootloader refuses downgrades.
    pub no_downgrade: bool,
}

/// Operating-system services for the OS group.
pub trait Os {
    /// Schedules a reset to happen after the response has been sent. A refusal is returned
    /// as the error to answer with.
    fn reset(&mut self, req: ResetRequest) -> Result<(), Error>;
    /// Calls `f` for each thread, in kernel iteration order, until it fails.
    fn tasks(&mut self, f: &mut dyn FnMut(&TaskInfo<'_>) -> Result<(), Error>)
        -> Result<(), Error>;
    /// Calls `f` for each heap. Return `Err(Rc::NotSup)` if the platform has no heap
    /// statistics.
    fn heaps(&mut self, f: &mut dyn FnMut(&HeapInfo) -> Result<(), Error>) -> Result<(), Error>;
    /// Reads the RTC.
    fn rtc_get(&mut self) -> Result<DateTime, RtcError>;
    /// Sets the RTC.
    fn rtc_set(&mut self, t: &DateTime) -> Result<(), RtcError>;
    /// Identity strings for `os info`.
    fn identity(&self) -> Identity<'_>;
    /// Bootloader facts; `None` if the image runs without MCUboot.
    fn bootloader(&self) -> Option<BootloaderInfo>;
}

/// The command shell shared by the serial console and the shell group: one command table,
/// two front ends.
pub trait Shell {
    /// Runs one command line, writing its output to `out`; returns the command's exit code
    /// (0 = success, negative errno-style values for failures, as Zephyr's shell does).
    fn exec(&mut self, line: &str, out: &mut dyn core::fmt::Write) -> i32;
}

/// File-system failures, errno-like. The FS group maps each to the FS group error code that
/// Zephyr's `fs_mgmt.c` derives from the same errno for the same operation (so `NoEnt` is
/// "file not found" for a download but "mount point not found" for an upload).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsError {
    /// `-EINVAL`: the name is not acceptable (bad characters, too long, outside the file
    /// system, escaping a sandbox).
    Inval,
    /// `-ENOENT`: no such file, or no file system mounted at the name's mount point.
    NoEnt,
    /// `-EROFS`: the file system is read-only.
    RoFs,
    /// `-ENOTSUP`: the operation is not supported.
    NotSup,
    /// Any other failure (I/O error, no space, ...).
    Io,
}

impl core::fmt::Display for FsError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            FsError::Inval => "invalid name",
            FsError::NoEnt => "no such file or mount point",
            FsError::RoFs => "read-only file system",
            FsError::NotSup => "not supported",
            FsError::Io => "I/O error",
        })
    }
}

impl core::error::Error for FsError {}

/// What [`Fs::stat`] reports about a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FsStat {
    /// Size in bytes (files only).
    pub len: u64,
    /// The name is a directory.
    pub is_dir: bool,
}

/// How [`Fs::open_upload`] starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadStart {
    /// A new transfer: an empty session; `total` is the announced length (0 = unknown).
    New {
        /// The announced total length.
        total: u64,
    },
    /// An append: the session starts with the file's current content.
    Resume,
}

/// What [`Fs::open_upload`] reports about the session it opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Staged {
    /// Bytes the session starts with (0 for [`UploadStart::New`], the file's size for
    /// [`UploadStart::Resume`]).
    pub len: u64,
    /// The total length recorded for this upload (0 = unknown). The group does not rely
    /// on it.
    pub total: u64,
}

/// The file system the FS group serves, names as the client sends them (e.g.
/// `/lfs1/log.txt`).
///
/// # Uploads: a write session published at close
///
/// The group models Zephyr's upload over LittleFS, where a file opened for writing shows
/// its new content to other readers only when it is closed (synced), and a power cut loses
/// what was written since. [`Fs::open_upload`] opens such a session for the target name;
/// [`Fs::stat`], [`Fs::open_read`] and downloads keep seeing the file as last published.
/// [`Fs::close`] with `commit = true` publishes the session's content as the file's,
/// atomically (write, sync, rename on a host or over littlefs); `commit = false` drops the
/// session (the group does that only for one that wrote nothing, so the file is not
/// touched). The group commits whenever a context that wrote data closes: transfer
/// complete, command 4, idle timeout, another transfer, offset mismatch, write error. It
/// also commits an empty session at once when the target does not exist, which makes a new
/// file visible at the first chunk, as `FS_O_CREATE` does.
///
/// [`UploadStart::New`] starts an empty session (the content replaces the file at the
/// commit, as Zephyr's truncate at offset 0); [`UploadStart::Resume`] starts one holding the
/// file's current content (an upload context that starts at an offset > 0 appends).
///
/// Implementations must refuse names that reach outside the served tree with
/// [`FsError::Inval`], names outside any mount point with [`FsError::NoEnt`], and an upload
/// to a directory with an error other than those (LittleFS: `-EISDIR`). The group applies
/// Zephyr's VFS name rule (a leading `/`, more than one byte) before calling.
pub trait Fs {
    /// An open file (read handle or upload session).
    type File;
    /// Size and kind of the visible file `path`.
    fn stat(&mut self, path: &str) -> Result<FsStat, FsError>;
    /// Opens the visible file `path` for reading.
    fn open_read(&mut self, path: &str) -> Result<Self::File, FsError>;
    /// Opens an upload session for `path` (see the trait docs); it need not create the
    /// file itself.
    fn open_upload(
        &mut self,
        path: &str,
        start: UploadStart,
    ) -> Result<(Self::File, Staged), FsError>;
    /// Reads from `off` into `buf`; returns the bytes read (0 at or past the end).
    fn read(&mut self, file: &mut Self::File, off: u64, buf: &mut [u8]) -> Result<usize, FsError>;
    /// Writes `data` at `off` of an upload session.
    fn write(&mut self, file: &mut Self::File, off: u64, data: &[u8]) -> Result<(), FsError>;
    /// Closes `file`. For an upload session, `commit = true` publishes its content as the
    /// file's; `commit = false` drops it. Ignored for read handles.
    fn close(&mut self, file: Self::File, commit: bool) -> Result<(), FsError>;
}

/// A statistics source: named groups of named counters, as Zephyr's `stats` subsystem.
///
/// The smp_svr sample registers `smp_svr_stats` with a `ticks` counter; ports should keep
/// that group and may add their own. Names are at most 31 bytes.
pub trait Stats {
    /// Calls `f` with each group name, in registration order.
    fn groups(&mut self, f: &mut dyn FnMut(&str) -> Result<(), Error>) -> Result<(), Error>;
    /// Calls `f(name, value)` for each counter of `group`, in declaration order. Returns
    /// `Ok(false)` if there is no such group.
    fn counters(
        &mut self,
        group: &str,
        f: &mut dyn FnMut(&str, u64) -> Result<(), Error>,
    ) -> Result<bool, Error>;
}

/// Settings-store failures, errno-like, as a Zephyr settings handler returns them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingsError {
    /// `-EINVAL`: no handler is registered for the name's root (subtree).
    NoRoot,
    /// `-ENOENT`: the handler does not know the key.
    NotFound,
    /// `-ENOTSUP`: the operation is not supported for this key.
    NotSup,
    /// Any other failure.
    Other,
}

impl core::fmt::Display for SettingsError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            SettingsError::NoRoot => "no handler for the root key",
            SettingsError::NotFound => "key not found",
            SettingsError::NotSup => "not supported",
            SettingsError::Other => "settings failure",
        })
    }
}

impl core::error::Error for SettingsError {}

/// A settings store (Zephyr's `settings_runtime_*`, `settings_delete`, `settings_commit`,
/// `settings_load`, `settings_save`). Names are `/`-separated, values opaque bytes.
pub trait Settings {
    /// Reads `name` into `buf`; returns the value's length (the group sends at most
    /// `buf.len()` bytes of it).
    fn get(&mut self, name: &str, buf: &mut [u8]) -> Result<usize, SettingsError>;
    /// Sets `name` to `val` in the running configuration.
    fn set(&mut self, name: &str, val: &[u8]) -> Result<(), SettingsError>;
    /// Deletes the persisted value of `name`, as Zephyr's `settings_delete` (a save of no
    /// value, which no handler sees): the running value a handler holds stays, and a key
    /// that was never saved is not an error.
    fn delete(&mut self, name: &str) -> Result<(), SettingsError>;
    /// Applies the running configuration (`settings_commit`).
    fn commit(&mut self) -> Result<(), SettingsError>;
    /// Reloads from persistent storage (`settings_load`).
    fn load(&mut self) -> Result<(), SettingsError>;
    /// Persists the running configuration, or only the subtree `name`.
    fn save(&mut self, subtree: Option<&str>) -> Result<(), SettingsError>;
}

/// Storage-erase failures of the Zephyr basic group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EraseError {
    /// The storage area could not be opened (group error 2).
    Open,
    /// The flash device could not be queried (group error 3).
    ConfigQuery,
    /// The erase failed (group error 4).
    Erase,
}

/// The storage partition the Zephyr basic group erases (`storage_partition`).
pub trait StorageErase {
    /// Erases the whole storage area.
    fn erase_storage(&mut self) -> Result<(), EraseError>;
}

/// MCUboot swap types (`BOOT_SWAP_TYPE_*`), the boot-time decision for one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum SwapType {
    /// Boot the primary slot as is.
    None = 1,
    /// Swap once to the secondary image; revert unless it confirms itself.
    Test = 2,
    /// Swap to the secondary image for good.
    Perm = 3,
    /// The running image was a test and is not confirmed: revert at the next boot.
    Revert = 4,
    /// A swap failed.
    Fail = 5,
    /// Unrecoverable state.
    Panic = 0xff,
}

impl SwapType {
    /// From the number MCUboot uses; unknown values read as `None`.
    pub fn from_u8(v: u8) -> SwapType {
        match v {
            2 => SwapType::Test,
            3 => SwapType::Perm,
            4 => SwapType::Revert,
            5 => SwapType::Fail,
            0xff => SwapType::Panic,
            _ => SwapType::None,
        }
    }
}

/// Boot-control failures, as MCUboot's `boot_*` functions report them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootError {
    /// Flash could not be opened, read or written (`BOOT_EFLASH`).
    Flash,
    /// The slot's trailer magic is corrupt, on a request for another slot
    /// (`BOOT_EBADIMAGE`).
    BadImage,
    /// The slot's trailer magic is corrupt, on a confirm of the running slot
    /// (`BOOT_EBADVECT`).
    BadVector,
    /// No such image.
    NoImage,
}

/// The bootloader as the application sees it (Zephyr's `boot_*` API over MCUboot's
/// trailers). `image` numbers the updatable images from 0; each has a primary and a
/// secondary slot.
pub trait BootControl {
    /// The swap the bootloader would do at the next reset (`mcuboot_swap_type_multi`).
    fn swap_type(&mut self, image: u8) -> Result<SwapType, BootError>;
    /// Marks the secondary slot of `image` for a test (`permanent == false`) or permanent
    /// swap (`boot_request_upgrade_multi`).
    fn request_upgrade(&mut self, image: u8, permanent: bool) -> Result<(), BootError>;
    /// Confirms the image running from the primary slot of `image`
    /// (`boot_write_img_confirmed_multi`).
    fn confirm(&mut self, image: u8) -> Result<(), BootError>;
    /// Whether the primary slot of `image` is confirmed (`boot_is_img_confirmed`).
    fn is_confirmed(&mut self, image: u8) -> Result<bool, BootError>;
    /// The slot (0 or 1) of `image` that runs: 0 in the swap modes.
    fn active_slot(&self, _image: u8) -> u8 {
        0
    }
    /// Bootloader facts (name, mode, downgrade prevention).
    fn info(&self) -> BootloaderInfo;
}

/// A flash area shared between owners (an image group and a trailer-based boot control,
/// say) through a `RefCell`; each operation borrows it for its duration.
#[derive(Debug)]
pub struct SharedFlash<'a, F>(pub &'a core::cell::RefCell<F>);

impl<F> Clone for SharedFlash<'_, F> {
    fn clone(&self) -> Self {
        SharedFlash(self.0)
    }
}

impl<F: embedded_storage::nor_flash::ErrorType> embedded_storage::nor_flash::ErrorType
    for SharedFlash<'_, F>
{
    type Error = F::Error;
}

impl<F: embedded_storage::nor_flash::ReadNorFlash> embedded_storage::nor_flash::ReadNorFlash
    for SharedFlash<'_, F>
{
    const READ_SIZE: usize = F::READ_SIZE;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        self.0.borrow_mut().read(offset, bytes)
    }

    fn capacity(&self) -> usize {
        self.0.borrow().capacity()
    }
}

impl<F: embedded_storage::nor_flash::NorFlash> embedded_storage::nor_flash::NorFlash
    for SharedFlash<'_, F>
{
    const WRITE_SIZE: usize = F::WRITE_SIZE;
    const ERASE_SIZE: usize = F::ERASE_SIZE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        self.0.borrow_mut().erase(from, to)
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        self.0.borrow_mut().write(offset, bytes)
    }
}
