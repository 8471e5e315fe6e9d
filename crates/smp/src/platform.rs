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
