//! File-backed flash: one file per slot partition under the device's state directory,
//! mapped into memory.
//!
//! Each slot is a [`FileFlash`], an `embedded-storage` [`NorFlash`] whose write and erase
//! granularity are the const parameters `W` and `E` (the image group and the trailer code
//! round to them at compile time). It enforces what real NOR flash does: aligned writes and
//! erases, and no write over bytes that are not erased.
//!
//! Files: `<state>/flash/slot<N>.bin`, N = 0 .. 2 × images (image `i` owns slots `2i`,
//! `2i+1`), and in `--swap-mode scratch` the scratch partition `<state>/flash/scratch.bin`
//! ([`Partitions::scratch`]). [`with_geometry!`](crate::with_geometry) turns runtime
//! `W`/`E` values into the const parameters.
//!
//! # Memory-mapped, one mapping per slot
//!
//! [`Partitions::open`] maps every slot file once (`mmap`, `MAP_SHARED`, read and write)
//! and every handle that [`Partitions::slot`] hands out (the image group's, the boot
//! control's, the boot emulator's) shares that one mapping through an `Rc<RefCell<_>>`.
//! A read is a `memcpy` out of the mapping, a write an erased-check and a `memcpy` into it,
//! an erase a fill: no system call per access. Sharing one mapping (rather than mapping
//! the file once per handle, which the page cache would also keep coherent) makes the
//! handles agree by construction, keeps every access inside Rust's borrow rules (the
//! `RefCell` borrow lasts for one copy), keeps the handles on one thread (`Rc` is not
//! `Send`, so two threads can never copy into one slot at once) and costs one `mmap` per
//! slot per process instead of one per handle. One [`Partitions`] per state directory is
//! meant to exist in a process (a second one would map the files again; the page cache
//! keeps the two coherent, but the borrow rules no longer cover both).
//!
//! # Crashes and power loss
//!
//! Stores into a `MAP_SHARED` mapping are in the kernel's page cache the moment they are
//! made, so a process killed with SIGKILL loses nothing that it wrote: the next process
//! maps the same pages. A kill can land in the middle of one write's copy and leave a
//! prefix of it written, as a power cut during programming does on NOR flash (a `pwrite`
//! cut short by SIGKILL could too). Nothing is synced (no `msync`, as
//! there was no `fsync` when every access was a `pwrite`): on a loss of power of the host
//! itself, what reaches the disk is what the kernel had written back, in no particular
//! order.
//!
//! # What must not happen to a slot file
//!
//! The mappings assume that while a device runs its slot files are modified only through
//! these mappings, by this process. The state directory's lock (`<state>/lock`, taken by
//! `smp-svr` for as long as it runs) keeps other `smp-svr` processes off them. Another
//! program that writes or truncates a slot file meanwhile is undefined behaviour here:
//! bytes change under a borrow, and after a truncation an access past the new end takes
//! SIGBUS. Replacing a file (a rename over it) is harmless but unseen: the device keeps
//! the old file's pages until it restarts.
//!
//! # Power cuts (`--power-cut-after N`)
//!
//! Every flash operation of the device goes through one [`PowerMeter`], which counts them
//! from process start and, with `--power-cut-after N`, kills the process (SIGKILL to
//! itself: no destructor, no flush, no exit handler) right after the N-th, with one line on
//! stderr, `smp-svr: power cut after flash operation N`. The state directory is then what
//! the flash held at that instant. One operation is:
//!
//! - a [`FileFlash`] write (one non-empty `NorFlash::write` call, whatever its length: the image
//!   group's chunk, a trailer field, the boot emulator's slot rewrite), counted once it has
//!   been stored;
//! - one erased sector: an erase of several sectors erases and counts them one at a time
//!   (a flash driver erases page by page), so a cut can leave a range half-erased;
//! - in the boot emulator ([`crate::boot`]), the commit and the removal of a swap journal,
//!   which stands for MCUboot's swap status area;
//! - a settings save or delete (one atomic replacement of `<state>/settings`) and a
//!   storage erase (`crate::settings`), as the settings partition is flash on a board.
//!
//! Not counted, because they are not the device writing its flash: programming `--image`
//! into a blank slot at the first start and `smp-svr flash` (both `west flash`'s job), the
//! boot count `<state>/boots` (a host-side aid behind `ready (boot #N)`, no board keeps
//! it) and files under `/lfs1`. Refused operations (misaligned, out of bounds, writing
//! over programmed bytes) touch nothing and count nothing.
//!
//! # Timing (`--flash-timing`)
//!
//! A board's flash is slow: an erase takes tens of milliseconds per page, a write tens of
//! microseconds per word, and the CPU (on a Nordic part, halted while the NVMC works)
//! does nothing else meanwhile. With a [`FlashTiming`], every [`FileFlash`] erase sleeps
//! [`FlashTiming::erase`] per sector before it fills that sector, and every write sleeps
//! [`FlashTiming::write_word`] per started 32-bit word before it stores the bytes. The
//! sleep is on the calling thread, which is the device's one SMP work loop (`smp_work`,
//! [`crate::engine`]): while it sleeps, no transport is served, as on a Zephyr board whose
//! SMP work queue is busy in the flash driver; requests that arrive meanwhile wait in the
//! kernel's socket buffer. The image group erases what an upload will cover at its first
//! chunk, as Zephyr's `img_mgmt` does without `CONFIG_IMG_ERASE_PROGRESSIVELY` (its upload
//! handler calls `img_mgmt_erase_image_data(0, req.size)` when `req.off == 0`:
//! zephyrproject-rtos/zephyr `subsys/mgmt/mcumgr/grp/img_mgmt/src/img_mgmt.c`
//! @3ff50de0d64f8cde7bd3c9879e0eee68c2ef400a), so that chunk's answer comes after the
//! whole erase. The emulated MCUboot's swaps at reset go
//! through the same handles and are slowed too; the settings file and `/lfs1` are not.

use crate::stats::HostStats;
use std::cell::{Cell, RefCell};
use std::fs::OpenOptions;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::str::FromStr;
use std::time::Duration;

use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};
use memmap2::MmapMut;
use smp::mcuboot::trailer::Layout;

/// Most images a host device has (Zephyr's `UPDATABLE_IMAGE_NUMBER` is 1..=3).
pub const MAX_IMAGES: usize = 3;
/// Slot handles per device: always `2 * MAX_IMAGES`; slots of unconfigured images are
/// absent (zero capacity).
pub const SLOTS: usize = 2 * MAX_IMAGES;

/// Flash geometry of the host device, besides `W` and `E`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Size of every primary slot in bytes (a multiple of the erase size), and of every
    /// secondary slot but for `secondary_extra`.
    pub slot_size: u32,
    /// Bytes every secondary slot has beyond `slot_size` (a multiple of the erase size): one
    /// sector in `--swap-mode offset`, the layout MCUboot's swap using offset calls optimal
    /// (`boot_slots_compatible`, mcu-tools/mcuboot `boot/bootutil/src/swap_offset.c`
    /// @2d4bacc3), 0 otherwise.
    pub secondary_extra: u32,
    /// Number of images (1..=3).
    pub images: u8,
    /// Trailer layout: `BOOT_MAX_ALIGN` and erased value.
    pub layout: Layout,
}

impl Default for Geometry {
    fn default() -> Self {
        Geometry {
            slot_size: 0x60000,
            secondary_extra: 0,
            images: 1,
            layout: Layout::default(),
        }
    }
}

impl Geometry {
    /// The size of slot `n` (absolute: secondaries are the odd ones).
    pub fn slot_len(&self, n: usize) -> u32 {
        if n % 2 == 1 {
            self.slot_size.saturating_add(self.secondary_extra)
        } else {
            self.slot_size
        }
    }
}

/// Failures of a [`FileFlash`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFlashError {
    /// The slot could not be reached: the mapping is borrowed by an access in progress
    /// (a write on a slot from inside [`FileFlash::with_bytes`] of the same slot).
    Io,
    /// Offset or length not a multiple of the write or erase size.
    NotAligned,
    /// Outside the slot.
    OutOfBounds,
    /// Writing over bytes that are not erased.
    NotErased,
}

impl NorFlashError for FileFlashError {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            FileFlashError::NotAligned => NorFlashErrorKind::NotAligned,
            FileFlashError::OutOfBounds => NorFlashErrorKind::OutOfBounds,
            _ => NorFlashErrorKind::Other,
        }
    }
}

/// Counts the device's flash operations and cuts its power after the N-th (see the
/// [module documentation](self), "Power cuts"). Clones share one count.
#[derive(Debug, Clone, Default)]
pub struct PowerMeter(Rc<Meter>);

#[derive(Debug, Default)]
struct Meter {
    ops: Cell<u64>,
    cut_after: Option<u64>,
}

impl PowerMeter {
    /// A meter that cuts the power right after operation `cut_after` (never if `None`).
    pub fn new(cut_after: Option<u64>) -> Self {
        PowerMeter(Rc::new(Meter {
            ops: Cell::new(0),
            cut_after,
        }))
    }

    /// The operations counted so far.
    pub fn ops(&self) -> u64 {
        self.0.ops.get()
    }

    /// The operation after which the power is cut, if any.
    pub fn cut_after(&self) -> Option<u64> {
        self.0.cut_after
    }

    /// Counts one completed flash operation; cuts the power if it is the N-th.
    pub fn op(&self) {
        let n = self.0.ops.get() + 1;
        self.0.ops.set(n);
        if self.0.cut_after == Some(n) {
            power_cut(n);
        }
    }
}

/// The power goes: one line on stderr, then SIGKILL to the whole process.
#[cfg(not(test))]
fn power_cut(n: u64) -> ! {
    use std::io::Write;
    // Standard error is unbuffered: the line is out before the signal.
    let _ = writeln!(
        std::io::stderr().lock(),
        "smp-svr: power cut after flash operation {n}"
    );
    // SAFETY: kill(2) with this process's own id and SIGKILL has no memory-safety
    // preconditions; SIGKILL cannot be caught, so the process ends here without running
    // any more code of its own (no destructors, no flush, no atexit handler).
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
    // Not reached; if the signal could not be sent, still die without unwinding.
    std::process::abort()
}

/// Unit tests cannot lose their process: the cut unwinds with a [`PowerCut`] payload
/// instead (without the panic hook's message), to be caught where the test restarts the
/// device.
#[cfg(test)]
fn power_cut(n: u64) -> ! {
    std::panic::resume_unwind(Box::new(PowerCut(n)))
}

/// The panic payload of a power cut in unit tests: the operation it followed.
#[cfg(test)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowerCut(pub u64);

/// Erase and write times of a part (`--flash-timing`, see the [module
/// documentation](self), "Timing"). The default is no delay at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FlashTiming {
    /// Time to erase one sector (one `--erase-size`).
    pub erase: Duration,
    /// Time to program one 32-bit word.
    pub write_word: Duration,
}

/// nRF52840. The page erase is Zephyr's nRF52 SoC header (zephyrproject-rtos/zephyr
/// `soc/nordic/nrf52/soc.h` @a27ef2b31dd6e18bcd58ef735275199ca4b26e05):
/// `FLASH_PAGE_ERASE_MAX_TIME_US 89700UL`, the longest erase of one 4 KiB page (the default
/// `--erase-size`). The word write is Nordic's own figure for the part in the nRF Connect
/// SDK (nrfconnect/sdk-nrf `subsys/emds/Kconfig` @053ddeba4258049003cf57ad062552fd28517792):
/// `EMDS_FLASH_TIME_WRITE_ONE_WORD_US` is `default 41 if SOC_NRF52840`, "Max time to write
/// one word into non-volatile storage (in microseconds). The word size is 4 bytes", checked
/// against the chip's datasheet (t_WRITE).
pub const NRF52840: FlashTiming = FlashTiming {
    erase: Duration::from_micros(89_700),
    write_word: Duration::from_micros(41),
};

impl FlashTiming {
    /// Whether this timing slows nothing.
    pub fn is_zero(&self) -> bool {
        self.erase.is_zero() && self.write_word.is_zero()
    }

    /// Sleeps for the erase of one sector.
    fn erase_delay(&self) {
        if !self.erase.is_zero() {
            std::thread::sleep(self.erase);
        }
    }

    /// Sleeps for a write of `len` bytes: one word time per started 32-bit word.
    fn write_delay(&self, len: usize) {
        if !self.write_word.is_zero() && len > 0 {
            let words = u32::try_from(len.div_ceil(4)).unwrap_or(u32::MAX);
            std::thread::sleep(self.write_word.saturating_mul(words));
        }
    }
}

impl FromStr for FlashTiming {
    type Err = String;

    /// `nrf52840`, or `custom:ERASE_MS,WRITE_US_PER_WORD` (whole numbers).
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "nrf52840" => return Ok(NRF52840),
            "k64f" => {
                return Err(
                    "--flash-timing k64f: no upstream source stating the K64F's \
                    sector erase and phrase program times (datasheet t_ersscr, t_pgm8) was \
                    found, so there is no k64f profile; give the times from your part's \
                    datasheet as custom:ERASE_MS,WRITE_US_PER_WORD"
                        .into(),
                )
            }
            _ => {}
        }
        let bad = || {
            format!(
                "--flash-timing {s:?}: expected nrf52840 or custom:ERASE_MS,WRITE_US_PER_WORD \
                 (milliseconds per erased sector, microseconds per 32-bit word written)"
            )
        };
        let (erase, write) = s
            .strip_prefix("custom:")
            .and_then(|v| v.split_once(','))
            .ok_or_else(bad)?;
        let erase: u64 = erase.trim().parse().map_err(|_| bad())?;
        let write: u64 = write.trim().parse().map_err(|_| bad())?;
        Ok(FlashTiming {
            erase: Duration::from_millis(erase),
            write_word: Duration::from_micros(write),
        })
    }
}

impl std::fmt::Display for FlashTiming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} µs per erased sector, {} µs per 32-bit word written",
            self.erase.as_micros(),
            self.write_word.as_micros()
        )
    }
}

/// A slot file's mapping, shared by every handle on that slot.
type SlotMap = Rc<RefCell<MmapMut>>;

/// One slot partition kept in a file (see the [module documentation](self)).
#[derive(Debug)]
pub struct FileFlash<const W: usize = 8, const E: usize = 4096> {
    map: Option<SlotMap>,
    size: u32,
    erased: u8,
    stats: Option<HostStats>,
    meter: PowerMeter,
    timing: FlashTiming,
}

/// Opens (creating it erased if missing) the slot file `path`, makes it `size` bytes long
/// (growing it with erased bytes or cutting it) and maps it.
fn map_slot(path: &Path, size: u32, erased: u8) -> io::Result<SlotMap> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    let len = file.metadata()?.len();
    if len < u64::from(size) {
        let fill = vec![erased; (u64::from(size) - len) as usize];
        file.write_all_at(&fill, len)?;
    } else if len > u64::from(size) {
        file.set_len(size.into())?;
    }
    // SAFETY: `MmapMut::map_mut` is unsafe because the mapped bytes can change, or vanish,
    // behind the program's back. The invariant that excludes it: while this process runs,
    // the slot file is `size` bytes long (just made so) and is modified only through this
    // mapping, by this process. Within the process, `Partitions` maps each slot file once
    // and every handle shares that map, each access borrowing it through the `RefCell` for
    // one copy, so no two references to the bytes overlap. Other smp-svr processes are kept
    // off the slot files by the state directory's lock (main.rs `lock_state`, held for the
    // whole run). Another program that writes or truncates a slot file meanwhile breaks the
    // invariant: a write changes bytes under a borrow, a truncation makes accesses past the
    // new end fault (SIGBUS); both are undefined behaviour, which is why the module
    // documentation makes leaving the files alone a rule of the state directory.
    let map = unsafe { MmapMut::map_mut(&file)? };
    Ok(Rc::new(RefCell::new(map)))
}

impl<const W: usize, const E: usize> FileFlash<W, E> {
    fn check_geometry(size: u32) -> io::Result<()> {
        if E.checked_rem(W) != Some(0) || (size as usize).checked_rem(E) != Some(0) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("slot size {size:#x} must be a multiple of the erase size {E}, itself a multiple of the write size {W}"),
            ));
        }
        Ok(())
    }

    /// A slot that does not exist (capacity 0; every access fails).
    pub fn absent() -> Self {
        FileFlash {
            map: None,
            size: 0,
            erased: 0xff,
            stats: None,
            meter: PowerMeter::default(),
            timing: FlashTiming::default(),
        }
    }

    /// A copy of the whole slot's bytes (see [`FileFlash::with_bytes`] for no copy).
    #[cfg(test)]
    pub fn read_all(&self) -> io::Result<Vec<u8>> {
        self.with_bytes(<[u8]>::to_vec)
    }

    /// Calls `f` with the whole slot's bytes, in place (empty for an absent slot). A write
    /// or erase on the same slot from inside `f` fails with [`FileFlashError::Io`].
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> io::Result<R> {
        match &self.map {
            None => Ok(f(&[])),
            Some(m) => {
                let m = m
                    .try_borrow()
                    .map_err(|_| io::Error::other("slot mapping in use"))?;
                Ok(f(&m))
            }
        }
    }

    /// The erased value.
    pub fn erased(&self) -> u8 {
        self.erased
    }

    /// Checks the access `off .. off + len` and returns the slot's mapping and the range.
    fn check(
        &self,
        off: u32,
        len: usize,
        align: usize,
    ) -> Result<(&SlotMap, std::ops::Range<usize>), FileFlashError> {
        let map = self.map.as_ref().ok_or(FileFlashError::OutOfBounds)?;
        if (off as usize).checked_rem(align) != Some(0) || len.checked_rem(align) != Some(0) {
            return Err(FileFlashError::NotAligned);
        }
        match (off as usize).checked_add(len) {
            Some(end) if end <= self.size as usize => Ok((map, off as usize..end)),
            _ => Err(FileFlashError::OutOfBounds),
        }
    }
}

impl<const W: usize, const E: usize> ErrorType for FileFlash<W, E> {
    type Error = FileFlashError;
}

impl<const W: usize, const E: usize> ReadNorFlash for FileFlash<W, E> {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), FileFlashError> {
        let (map, range) = self.check(offset, bytes.len(), 1)?;
        let m = map.try_borrow().map_err(|_| FileFlashError::Io)?;
        bytes.copy_from_slice(&m[range]);
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.size as usize
    }
}

impl<const W: usize, const E: usize> NorFlash for FileFlash<W, E> {
    const WRITE_SIZE: usize = W;
    const ERASE_SIZE: usize = E;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), FileFlashError> {
        let len = to.checked_sub(from).ok_or(FileFlashError::OutOfBounds)? as usize;
        let (map, range) = self.check(from, len, E)?;
        map.try_borrow_mut().map_err(|_| FileFlashError::Io)?;
        if let Some(s) = &self.stats {
            s.flash_erase();
        }
        // Sector by sector, each one counted: a power cut can stop the range part-way.
        for start in range.step_by(E) {
            self.timing.erase_delay();
            map.try_borrow_mut().map_err(|_| FileFlashError::Io)?[start..start + E]
                .fill(self.erased);
            self.meter.op();
        }
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), FileFlashError> {
        let (map, range) = self.check(offset, bytes.len(), W)?;
        let mut m = map.try_borrow_mut().map_err(|_| FileFlashError::Io)?;
        let dst = &mut m[range];
        // OR of every byte's difference from the erased value: no early exit, so the
        // compiler vectorises it.
        if dst.iter().fold(0u8, |acc, &b| acc | (b ^ self.erased)) != 0 {
            return Err(FileFlashError::NotErased);
        }
        self.timing.write_delay(bytes.len());
        dst.copy_from_slice(bytes);
        drop(m);
        if let Some(s) = &self.stats {
            s.flash_write(bytes.len());
        }
        if !bytes.is_empty() {
            self.meter.op();
        }
        Ok(())
    }
}

/// The slot files of one device, each mapped once; the handles share the mappings.
#[derive(Debug, Clone)]
pub struct Partitions<const W: usize = 8, const E: usize = 4096> {
    dir: PathBuf,
    geometry: Geometry,
    stats: Option<HostStats>,
    meter: PowerMeter,
    timing: FlashTiming,
    /// One mapping per configured slot (`2 * images` of them).
    maps: Vec<SlotMap>,
    /// The scratch partition (`scratch.bin`, `--swap-mode scratch`), mapped on first use.
    scratch: RefCell<Option<SlotMap>>,
}

impl<const W: usize, const E: usize> Partitions<W, E> {
    /// Creates the state directory and every slot file that is missing (erased), and maps
    /// every slot file.
    pub fn open(dir: &Path, geometry: Geometry) -> io::Result<Self> {
        if !(1..=MAX_IMAGES as u8).contains(&geometry.images) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "images must be 1..=3",
            ));
        }
        if ![8, 16, 32].contains(&geometry.layout.max_align)
            || W > geometry.layout.max_align as usize
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "max align must be 8, 16 or 32, and at least the write size",
            ));
        }
        FileFlash::<W, E>::check_geometry(geometry.slot_size)?;
        FileFlash::<W, E>::check_geometry(geometry.slot_len(1))?;
        std::fs::create_dir_all(dir)?;
        let maps = (0..2 * geometry.images as usize)
            .map(|n| {
                map_slot(
                    &dir.join(slot_name(n)),
                    geometry.slot_len(n),
                    geometry.layout.erased,
                )
            })
            .collect::<io::Result<_>>()?;
        Ok(Partitions {
            dir: dir.to_owned(),
            geometry,
            stats: None,
            meter: PowerMeter::default(),
            timing: FlashTiming::default(),
            maps,
            scratch: RefCell::new(None),
        })
    }

    /// Counts every later write and erase through handles of these slots in `stats`
    /// (the `flash` statistics group).
    pub fn count_into(&mut self, stats: HostStats) {
        self.stats = Some(stats);
    }

    /// Counts every later operation through handles of these slots (and the boot
    /// emulator's journal) in `meter`, which may cut the power.
    pub fn meter_into(&mut self, meter: PowerMeter) {
        self.meter = meter;
    }

    /// Slows every later erase and write through handles of these slots by `timing`.
    pub fn time_into(&mut self, timing: FlashTiming) {
        self.timing = timing;
    }

    /// The meter the flash operations are counted in.
    pub fn meter(&self) -> &PowerMeter {
        &self.meter
    }

    /// The geometry.
    pub fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    /// The file of slot `n`.
    #[cfg(test)]
    pub fn path(&self, n: usize) -> PathBuf {
        self.dir.join(slot_name(n))
    }

    /// The journal of a swap of `image` in progress (see [`crate::boot::reset`]).
    pub fn journal_path(&self, image: u8) -> PathBuf {
        self.dir.join(format!("swap{image}.journal"))
    }

    /// A new handle on slot `n` (absolute: image `n / 2`, slot `n % 2`), sharing the
    /// slot's mapping with every other handle on it.
    pub fn slot(&self, n: usize) -> io::Result<FileFlash<W, E>> {
        let Some(map) = self.maps.get(n) else {
            return Ok(FileFlash::absent());
        };
        Ok(FileFlash {
            map: Some(map.clone()),
            size: self.geometry.slot_len(n),
            erased: self.geometry.layout.erased,
            stats: self.stats.clone(),
            meter: self.meter.clone(),
            timing: self.timing,
        })
    }

    /// A handle on the scratch partition of MCUboot's swap using scratch, `size` bytes
    /// (a multiple of the erase size): `<state>/flash/scratch.bin`, created erased and
    /// mapped on the first call, shared by later handles, its writes and erases counted
    /// as the slots' are. The size of a file made by an earlier run is adjusted to `size`.
    pub fn scratch(&self, size: u32) -> io::Result<FileFlash<W, E>> {
        FileFlash::<W, E>::check_geometry(size)?;
        let mut cur = self.scratch.borrow_mut();
        let map = match &*cur {
            Some(m) => m.clone(),
            None => {
                let m = map_slot(
                    &self.dir.join("scratch.bin"),
                    size,
                    self.geometry.layout.erased,
                )?;
                *cur = Some(m.clone());
                m
            }
        };
        Ok(FileFlash {
            map: Some(map),
            size,
            erased: self.geometry.layout.erased,
            stats: self.stats.clone(),
            meter: self.meter.clone(),
            timing: self.timing,
        })
    }

    /// Handles on every slot, `SLOTS` of them (absent beyond the configured images), in the
    /// order the image group and [`crate::boot::HostBoot`] take them.
    pub fn slots(&self) -> io::Result<[FileFlash<W, E>; SLOTS]> {
        let mut v = Vec::with_capacity(SLOTS);
        for n in 0..SLOTS {
            v.push(self.slot(n)?);
        }
        v.try_into().map_err(|_| io::Error::other("slot count"))
    }
}

fn slot_name(n: usize) -> String {
    format!("slot{n}.bin")
}

/// Calls the generic item `$f::<W, E>($args...)` with const parameters picked from the
/// runtime values `$w` (1, 2, 4, 8, 16 or 32) and `$e` (1024, 2048, 4096, 8192, 65536 or
/// 131072); evaluates to `Some(result)`, or `None` for an unsupported pair.
#[macro_export]
macro_rules! with_geometry {
    ($w:expr, $e:expr, $f:ident ( $($args:expr),* )) => {{
        $crate::with_geometry!(@w $w, $e, $f, ($($args),*), [1, 2, 4, 8, 16, 32])
    }};
    (@w $w:expr, $e:expr, $f:ident, $args:tt, [$($wv:literal),*]) => {{
        match $w {
            $( $wv => $crate::with_geometry!(@e $wv, $e, $f, $args, [1024, 2048, 4096, 8192, 65536, 131072]), )*
            _ => None,
        }
    }};
    (@e $wv:literal, $e:expr, $f:ident, $args:tt, [$($ev:literal),*]) => {{
        match $e {
            $( $ev => Some($f::<$wv, $ev> $args), )*
            _ => None,
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geom() -> Geometry {
        Geometry {
            slot_size: 0x4000,
            secondary_extra: 0,
            images: 2,
            layout: Layout::default(),
        }
    }

    #[test]
    fn files_are_created_erased_and_persist() {
        let dir = tempfile::tempdir().unwrap();
        let p = Partitions::<8, 1024>::open(dir.path(), geom()).unwrap();
        for n in 0..4 {
            let data = std::fs::read(p.path(n)).unwrap();
            assert_eq!(data.len(), 0x4000);
            assert!(data.iter().all(|&b| b == 0xff));
        }
        assert!(!p.path(4).exists());
        let mut s = p.slot(1).unwrap();
        s.write(16, &[1, 2, 3, 4, 5, 6, 7, 8]).unwrap();
        // Another handle sees it.
        let mut t = p.slot(1).unwrap();
        let mut b = [0u8; 8];
        t.read(16, &mut b).unwrap();
        assert_eq!(b, [1, 2, 3, 4, 5, 6, 7, 8]);
        // Reopening keeps the contents.
        let p2 = Partitions::<8, 1024>::open(dir.path(), geom()).unwrap();
        assert_eq!(&p2.slot(1).unwrap().read_all().unwrap()[16..24], &b);
        assert_eq!(p2.slots().unwrap()[5].capacity(), 0);
    }

    #[test]
    fn secondary_slots_can_be_larger() {
        let dir = tempfile::tempdir().unwrap();
        let g = Geometry {
            secondary_extra: 1024,
            ..geom()
        };
        let p = Partitions::<8, 1024>::open(dir.path(), g).unwrap();
        let sizes: Vec<_> = (0..4).map(|n| p.slot(n).unwrap().capacity()).collect();
        assert_eq!(sizes, [0x4000, 0x4400, 0x4000, 0x4400]);
        assert_eq!(std::fs::read(p.path(3)).unwrap().len(), 0x4400);
        let mut s = p.slot(1).unwrap();
        s.write(0x43f8, &[7; 8]).unwrap();
        assert_eq!(s.write(0x4400, &[7; 8]), Err(FileFlashError::OutOfBounds));
        // Reopened as equal slots, the secondary files are cut back to the slot size.
        drop((s, p));
        let p = Partitions::<8, 1024>::open(dir.path(), geom()).unwrap();
        assert_eq!(p.slot(1).unwrap().capacity(), 0x4000);
        // Not a multiple of the erase size: refused.
        let g = Geometry {
            secondary_extra: 512,
            ..geom()
        };
        assert!(Partitions::<8, 1024>::open(dir.path(), g).is_err());
    }

    #[test]
    fn granularity_and_write_once() {
        let dir = tempfile::tempdir().unwrap();
        let p = Partitions::<8, 1024>::open(dir.path(), geom()).unwrap();
        let mut s = p.slot(0).unwrap();
        assert_eq!(s.write(4, &[0; 8]), Err(FileFlashError::NotAligned));
        assert_eq!(s.write(0, &[0; 4]), Err(FileFlashError::NotAligned));
        assert_eq!(s.write(0x4000, &[0; 8]), Err(FileFlashError::OutOfBounds));
        s.write(0, &[0; 8]).unwrap();
        assert_eq!(s.write(0, &[0; 8]), Err(FileFlashError::NotErased));
        assert_eq!(s.erase(0, 512), Err(FileFlashError::NotAligned));
        s.erase(0, 1024).unwrap();
        s.write(0, &[0; 8]).unwrap();
        let mut absent = FileFlash::<8, 1024>::absent();
        assert!(absent.read(0, &mut [0u8; 1]).is_err());
    }

    #[test]
    fn write_over_non_erased_bytes_is_refused_byte_by_byte() {
        let dir = tempfile::tempdir().unwrap();
        let p = Partitions::<8, 1024>::open(dir.path(), geom()).unwrap();
        let mut s = p.slot(0).unwrap();
        // One programmed byte anywhere in the 8 refuses the write, and changes nothing.
        for k in 0..8u32 {
            s.erase(0, 1024).unwrap();
            // Writing erased values over erased bytes is allowed, and leaves them erased.
            s.write(16, &[0xff; 8]).unwrap();
            s.write(16, &[0xff; 8]).unwrap();
            let mut one = [0xffu8; 8];
            one[k as usize] = 0x7f;
            s.write(32, &one).unwrap();
            assert_eq!(s.write(32, &[0x55; 8]), Err(FileFlashError::NotErased));
            let mut back = [0u8; 8];
            s.read(32, &mut back).unwrap();
            assert_eq!(back, one, "refused write changed byte(s), k = {k}");
        }
        // The neighbouring words are still writable.
        s.write(24, &[1; 8]).unwrap();
        s.write(40, &[2; 8]).unwrap();
        let bytes = s.read_all().unwrap();
        assert_eq!(&bytes[24..32], &[1; 8]);
        assert_eq!(&bytes[40..48], &[2; 8]);
    }

    #[test]
    fn erase_fills_exactly_the_sectors_with_the_erased_value() {
        let dir = tempfile::tempdir().unwrap();
        let g = Geometry {
            layout: Layout {
                erased: 0x00,
                ..Layout::default()
            },
            ..geom()
        };
        let p = Partitions::<8, 1024>::open(dir.path(), g).unwrap();
        let mut s = p.slot(2).unwrap();
        assert_eq!(s.erased(), 0);
        // A fresh file is erased with this layout's value.
        assert!(s.read_all().unwrap().iter().all(|&b| b == 0));
        let data: Vec<u8> = (0..0x4000u32).map(|i| (i % 251) as u8 | 1).collect();
        s.write(0, &data).unwrap();
        s.erase(1024, 3072).unwrap();
        let bytes = s.read_all().unwrap();
        assert_eq!(&bytes[..1024], &data[..1024]);
        assert!(bytes[1024..3072].iter().all(|&b| b == 0));
        assert_eq!(&bytes[3072..], &data[3072..]);
        // The fill is in the file itself.
        assert_eq!(std::fs::read(p.path(2)).unwrap(), bytes);
        assert_eq!(s.erase(1024, 1000), Err(FileFlashError::OutOfBounds));
        assert_eq!(s.erase(0, 0x4400), Err(FileFlashError::OutOfBounds));
    }

    #[test]
    fn handles_on_one_slot_see_each_others_writes_and_erases() {
        let dir = tempfile::tempdir().unwrap();
        let p = Partitions::<8, 1024>::open(dir.path(), geom()).unwrap();
        let [mut a, mut b, ..] = [p.slot(3).unwrap(), p.slot(3).unwrap(), p.slot(2).unwrap()];
        let mut other = p.slot(2).unwrap();
        a.write(0x100, b"ABCDEFGH").unwrap();
        let mut got = [0u8; 8];
        b.read(0x100, &mut got).unwrap();
        assert_eq!(&got, b"ABCDEFGH");
        // b cannot write over what a wrote, until b erases it; then a sees the erase.
        assert_eq!(b.write(0x100, b"12345678"), Err(FileFlashError::NotErased));
        b.erase(0, 1024).unwrap();
        a.read(0x100, &mut got).unwrap();
        assert_eq!(got, [0xff; 8]);
        b.write(0x100, b"12345678").unwrap();
        assert_eq!(&a.read_all().unwrap()[0x100..0x108], b"12345678");
        // A clone of the Partitions hands out handles on the same mappings.
        let q = p.clone();
        assert_eq!(
            &q.slot(3).unwrap().read_all().unwrap()[0x100..0x108],
            b"12345678"
        );
        // Slot 2 is another file.
        assert!(other.read_all().unwrap().iter().all(|&b| b == 0xff));
        other.write(0x100, b"slot two").unwrap();
        assert_eq!(&a.read_all().unwrap()[0x100..0x108], b"12345678");
        // Written through the mapping: already in the file, no flush needed.
        assert_eq!(
            &std::fs::read(p.path(3)).unwrap()[0x100..0x108],
            b"12345678"
        );
        assert_eq!(
            &std::fs::read(p.path(2)).unwrap()[0x100..0x108],
            b"slot two"
        );
    }

    #[test]
    fn a_write_inside_with_bytes_of_the_same_slot_fails_instead_of_aliasing() {
        let dir = tempfile::tempdir().unwrap();
        let p = Partitions::<8, 1024>::open(dir.path(), geom()).unwrap();
        let mut w = p.slot(0).unwrap();
        let mut w1 = p.slot(1).unwrap();
        let r = p.slot(0).unwrap();
        let (same, other) = r
            .with_bytes(|b| {
                assert_eq!(b.len(), 0x4000);
                (w.write(0, &[0; 8]), w1.write(0, &[0; 8]))
            })
            .unwrap();
        assert_eq!(same, Err(FileFlashError::Io));
        assert_eq!(other, Ok(()));
        w.write(0, &[0; 8]).unwrap();
    }

    #[test]
    fn flash_statistics_count_writes_and_erases() {
        use smp::platform::Stats;
        let dir = tempfile::tempdir().unwrap();
        let mut p = Partitions::<8, 1024>::open(dir.path(), geom()).unwrap();
        let stats = HostStats::default();
        p.count_into(stats.clone());
        let mut s = p.slot(0).unwrap();
        s.write(0, &[0; 16]).unwrap();
        assert_eq!(s.write(0, &[0; 8]), Err(FileFlashError::NotErased));
        s.erase(0, 2048).unwrap();
        assert!(s.erase(0, 100).is_err());
        let mut t = p.slot(1).unwrap();
        t.write(8, &[0; 8]).unwrap();
        // Refused and failed operations count nothing.
        let mut got = Vec::new();
        let mut st = stats.clone();
        assert!(st
            .counters(crate::stats::FLASH, &mut |n, v| {
                got.push((n.to_owned(), v));
                Ok(())
            })
            .unwrap());
        assert_eq!(
            got,
            [("bytes_written".to_owned(), 24), ("erases".to_owned(), 1)]
        );
    }

    /// Runs `f`, which must be cut by the meter; returns the operation it was cut after.
    fn cut(f: impl FnOnce()) -> u64 {
        let e = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_err();
        e.downcast_ref::<PowerCut>().expect("a power cut").0
    }

    #[test]
    fn the_meter_counts_writes_and_erased_sectors_and_nothing_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = Partitions::<8, 1024>::open(dir.path(), geom()).unwrap();
        // Handles made before the meter is installed count in the old one.
        let mut before = p.slot(0).unwrap();
        let meter = PowerMeter::new(None);
        p.meter_into(meter.clone());
        let mut s = p.slot(0).unwrap();
        let mut t = p.slot(3).unwrap();
        s.write(0, &[0; 64]).unwrap(); // 1
        t.write(8, &[0; 8]).unwrap(); // 2
        s.erase(1024, 4096).unwrap(); // 3 sectors: 5
        assert_eq!(meter.ops(), 5);
        assert_eq!(s.write(0, &[1; 8]), Err(FileFlashError::NotErased));
        assert_eq!(s.write(4, &[1; 8]), Err(FileFlashError::NotAligned));
        assert_eq!(s.erase(0, 100), Err(FileFlashError::NotAligned));
        assert_eq!(s.erase(0, 0x8000), Err(FileFlashError::OutOfBounds));
        before.write(2048, &[0; 8]).unwrap();
        assert_eq!(p.meter().ops(), 5);
        assert_eq!(meter.cut_after(), None);
    }

    #[test]
    fn a_power_cut_stops_an_erase_after_the_sector_it_counted() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = Partitions::<8, 1024>::open(dir.path(), geom()).unwrap();
        let mut s = p.slot(1).unwrap();
        s.write(0, &[0x11; 0x4000]).unwrap();
        p.meter_into(PowerMeter::new(Some(2)));
        let mut s = p.slot(1).unwrap();
        s.write(0x3ff8, &[]).unwrap(); // writes nothing, counts nothing
        assert_eq!(cut(|| s.erase(0, 0x4000).map(drop).unwrap()), 2);
        let bytes = std::fs::read(p.path(1)).unwrap();
        // Sectors 0 and 1 erased, 2 and 3 untouched: the erase stopped with the power.
        assert!(bytes[..2048].iter().all(|&b| b == 0xff));
        assert!(bytes[2048..].iter().all(|&b| b == 0x11));
        assert_eq!(p.meter().ops(), 2);
        // A cut write is stored before the power goes.
        let dir2 = tempfile::tempdir().unwrap();
        let mut q = Partitions::<8, 1024>::open(dir2.path(), geom()).unwrap();
        q.meter_into(PowerMeter::new(Some(1)));
        let mut w = q.slot(0).unwrap();
        assert_eq!(cut(|| w.write(16, b"survives").unwrap()), 1);
        assert_eq!(&std::fs::read(q.path(0)).unwrap()[16..24], b"survives");
    }

    #[test]
    fn flash_timing_profiles_parse() {
        assert_eq!("nrf52840".parse::<FlashTiming>(), Ok(NRF52840));
        assert_eq!(NRF52840.erase, Duration::from_micros(89_700));
        assert_eq!(NRF52840.write_word, Duration::from_micros(41));
        assert_eq!(
            "custom:250,41".parse::<FlashTiming>(),
            Ok(FlashTiming {
                erase: Duration::from_millis(250),
                write_word: Duration::from_micros(41),
            })
        );
        assert!("custom:0,0".parse::<FlashTiming>().unwrap().is_zero());
        let k64f = "k64f".parse::<FlashTiming>().unwrap_err();
        assert!(k64f.contains("no upstream source"), "{k64f}");
        for bad in [
            "",
            "nrf",
            "custom:",
            "custom:5",
            "custom:5,",
            "custom:-1,2",
            "5,6",
        ] {
            let e = bad.parse::<FlashTiming>().unwrap_err();
            assert!(e.contains("expected nrf52840 or custom:"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn flash_timing_slows_each_erased_sector_and_each_written_word() {
        use std::time::Instant;
        let dir = tempfile::tempdir().unwrap();
        let mut p = Partitions::<8, 1024>::open(dir.path(), geom()).unwrap();
        let mut untimed = p.slot(0).unwrap();
        p.time_into("custom:15,500".parse().unwrap());
        let mut s = p.slot(0).unwrap();
        // Three sectors: at least three erase times (lower bounds only: a busy host is
        // slower, never faster).
        let t = Instant::now();
        s.erase(0, 3072).unwrap();
        assert!(
            t.elapsed() >= Duration::from_millis(45),
            "{:?}",
            t.elapsed()
        );
        // 40 bytes are 10 words.
        let t = Instant::now();
        s.write(0, &[0; 40]).unwrap();
        assert!(t.elapsed() >= Duration::from_millis(5), "{:?}", t.elapsed());
        // Timing changes nothing of what is refused.
        assert_eq!(s.write(0, &[0; 8]), Err(FileFlashError::NotErased));
        // Handles made before the timing was set stay fast, and the data is the same.
        untimed.write(1024, &[1; 8]).unwrap();
        assert_eq!(&s.read_all().unwrap()[1024..1032], &[1; 8]);
    }

    #[test]
    fn the_nrf52840_profile_slows_writes_by_the_word() {
        use std::time::Instant;
        let dir = tempfile::tempdir().unwrap();
        let mut p = Partitions::<8, 1024>::open(dir.path(), geom()).unwrap();
        p.time_into(NRF52840);
        let mut s = p.slot(0).unwrap();
        // One 1 KiB sector: 256 words at 41 µs, 10.5 ms at least.
        let t = Instant::now();
        s.write(2048, &[0x5a; 1024]).unwrap();
        assert!(
            t.elapsed() >= Duration::from_micros(256 * 41),
            "{:?}",
            t.elapsed()
        );
        assert_eq!(&s.read_all().unwrap()[2048..3072], &[0x5a; 1024]);
    }

    #[test]
    fn bad_geometry_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let g = Geometry {
            slot_size: 1000,
            ..geom()
        };
        assert!(Partitions::<8, 1024>::open(dir.path(), g).is_err());
        let g = Geometry {
            images: 4,
            ..geom()
        };
        assert!(Partitions::<8, 1024>::open(dir.path(), g).is_err());
        assert!(Partitions::<16, 1024>::open(dir.path(), geom()).is_err());
    }

    fn cap<const W: usize, const E: usize>(n: u32) -> (usize, usize, u32) {
        (W, E, n)
    }

    #[test]
    fn geometry_dispatch() {
        assert_eq!(crate::with_geometry!(4, 4096, cap(7)), Some((4, 4096, 7)));
        assert_eq!(crate::with_geometry!(3, 4096, cap(7)), None);
        assert_eq!(crate::with_geometry!(8, 100, cap(7)), None);
    }
}
