//! Fake platforms for tests (enabled by `cfg(test)` or the semver-exempt `_test` feature).

use crate::platform::{
    BootloaderInfo, DateTime, HeapInfo, Identity, Os, ResetRequest, RtcError, StackInfo, TaskInfo,
};
use crate::server::Error;

/// An OS whose answers are fixed and whose RTC and reset are recorded.
#[derive(Debug, Clone, Default)]
pub struct FakeOs {
    /// The RTC value, `None` while unset.
    pub rtc: Option<DateTime>,
    /// The last reset request.
    pub reset: Option<ResetRequest>,
    /// Refuse resets with this error.
    pub refuse_reset: Option<Error>,
    /// Report no heap statistics.
    pub no_heaps: bool,
}

impl Os for FakeOs {
    fn reset(&mut self, req: ResetRequest) -> Result<(), Error> {
        if let Some(e) = self.refuse_reset {
            return Err(e);
        }
        self.reset = Some(req);
        Ok(())
    }

    fn tasks(
        &mut self,
        f: &mut dyn FnMut(&TaskInfo<'_>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        f(&TaskInfo {
            name: "main",
            prio: 0,
            state: 0,
            stack: Some(StackInfo {
                size: 2048,
                used: 512,
            }),
            runtime: None,
        })?;
        f(&TaskInfo {
            name: "idle",
            prio: 15,
            state: 0,
            stack: Some(StackInfo {
                size: 320,
                used: 64,
            }),
            runtime: None,
        })
    }

    fn heaps(&mut self, f: &mut dyn FnMut(&HeapInfo) -> Result<(), Error>) -> Result<(), Error> {
        if self.no_heaps {
            return Err(crate::wire::Rc::NotSup.into());
        }
        f(&HeapInfo {
            size: 4096,
            free: 1024,
            min_free: 512,
        })
    }

    fn rtc_get(&mut self) -> Result<DateTime, RtcError> {
        self.rtc.ok_or(RtcError::NotSet)
    }

    fn rtc_set(&mut self, t: &DateTime) -> Result<(), RtcError> {
        self.rtc = Some(*t);
        Ok(())
    }

    fn identity(&self) -> Identity<'_> {
        Identity {
            node_name: "unknown",
            kernel_release: "unknown",
            kernel_version: "4.2.0",
            build_date_time: None,
            machine: "arm",
            processor: "cortex-m4",
            hardware_platform: "nrf52840dk/nrf52840",
            os_name: "Zephyr",
        }
    }

    fn bootloader(&self) -> Option<BootloaderInfo> {
        Some(BootloaderInfo {
            name: "MCUboot",
            mode: 1,
            no_downgrade: false,
        })
    }
}

/// Failures of a [`RamFlash`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RamFlashError {
    /// Offset or length not a multiple of the write or erase size.
    NotAligned,
    /// Outside the flash.
    OutOfBounds,
    /// Writing over bytes that were not erased.
    NotErased,
    /// The simulated power cut happened; nothing works until [`RamFlash::power_on`].
    PowerCut,
}

impl embedded_storage::nor_flash::NorFlashError for RamFlashError {
    fn kind(&self) -> embedded_storage::nor_flash::NorFlashErrorKind {
        use embedded_storage::nor_flash::NorFlashErrorKind as K;
        match self {
            RamFlashError::NotAligned => K::NotAligned,
            RamFlashError::OutOfBounds => K::OutOfBounds,
            RamFlashError::NotErased | RamFlashError::PowerCut => K::Other,
        }
    }
}

/// A NOR flash in RAM of `N` bytes with write size `W` and erase size `E`: it enforces
/// alignment and write-once-after-erase (0xff erased), and can cut the power after a number
/// of written bytes (the write in progress is left half done).
#[derive(Debug, Clone)]
pub struct RamFlash<const N: usize, const W: usize = 8, const E: usize = 256> {
    data: [u8; N],
    /// Bytes that may still be written before the power fails (`None`: never).
    pub budget: Option<usize>,
    dead: bool,
    /// Number of erase operations so far.
    pub erases: usize,
}

impl<const N: usize, const W: usize, const E: usize> Default for RamFlash<N, W, E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize, const W: usize, const E: usize> RamFlash<N, W, E> {
    /// An erased flash.
    pub fn new() -> Self {
        RamFlash {
            data: [0xff; N],
            budget: None,
            dead: false,
            erases: 0,
        }
    }

    /// The contents.
    pub fn as_bytes(&self) -> &[u8] {
        &self.data
    }

    /// Fills the flash from `bytes` at `off` directly (factory programming).
    pub fn program(&mut self, off: usize, bytes: &[u8]) {
        self.data[off..off + bytes.len()].copy_from_slice(bytes);
    }

    /// Cuts the power after `n` more written bytes.
    pub fn cut_power_after(&mut self, n: usize) {
        self.budget = Some(n);
    }

    /// Restores power after a cut.
    pub fn power_on(&mut self) {
        self.budget = None;
        self.dead = false;
    }

    fn check(&self, off: u32, len: usize, align: usize) -> Result<usize, RamFlashError> {
        if self.dead {
            return Err(RamFlashError::PowerCut);
        }
        let off = off as usize;
        if off.checked_rem(align) != Some(0) || len.checked_rem(align) != Some(0) {
            return Err(RamFlashError::NotAligned);
        }
        match off.checked_add(len) {
            Some(end) if end <= N => Ok(off),
            _ => Err(RamFlashError::OutOfBounds),
        }
    }
}

impl<const N: usize, const W: usize, const E: usize> embedded_storage::nor_flash::ErrorType
    for RamFlash<N, W, E>
{
    type Error = RamFlashError;
}

impl<const N: usize, const W: usize, const E: usize> embedded_storage::nor_flash::ReadNorFlash
    for RamFlash<N, W, E>
{
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), RamFlashError> {
        let off = self.check(offset, bytes.len(), 1)?;
        bytes.copy_from_slice(&self.data[off..off + bytes.len()]);
        Ok(())
    }

    fn capacity(&self) -> usize {
        N
    }
}

impl<const N: usize, const W: usize, const E: usize> embedded_storage::nor_flash::NorFlash
    for RamFlash<N, W, E>
{
    const WRITE_SIZE: usize = W;
    const ERASE_SIZE: usize = E;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), RamFlashError> {
        let len = (to as usize)
            .checked_sub(from as usize)
            .ok_or(RamFlashError::OutOfBounds)?;
        let off = self.check(from, len, E)?;
        if self.budget == Some(0) {
            self.dead = true;
            return Err(RamFlashError::PowerCut);
        }
        self.data[off..off + len].fill(0xff);
        self.erases += 1;
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), RamFlashError> {
        let off = self.check(offset, bytes.len(), W)?;
        if self.data[off..off + bytes.len()].iter().any(|&b| b != 0xff) {
            return Err(RamFlashError::NotErased);
        }
        for (i, &b) in bytes.iter().enumerate() {
            if let Some(n) = self.budget.as_mut() {
                if *n == 0 {
                    self.dead = true;
                    return Err(RamFlashError::PowerCut);
                }
                *n -= 1;
            }
            self.data[off + i] = b;
        }
        Ok(())
    }
}

/// Builds an unsigned MCUboot image into `out`: a 32-byte header (hdr_size 32), `payload_len`
/// pseudo-random payload bytes seeded by `seed`, and an unprotected TLV block holding the
/// SHA-256 TLV. Returns the image length.
pub fn build_image(
    out: &mut [u8],
    version: crate::mcuboot::Version,
    payload_len: u32,
    seed: u8,
) -> usize {
    use sha2::{Digest, Sha256};
    let h = crate::mcuboot::ImageHeader {
        load_addr: 0,
        hdr_size: 32,
        protect_tlv_size: 0,
        img_size: payload_len,
        flags: 0,
        version,
    };
    h.emit(out).unwrap();
    let end = 32 + payload_len as usize;
    let mut x = seed as u32 | 1;
    for b in &mut out[32..end] {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    let hash: [u8; 32] = Sha256::digest(&out[..end]).into();
    out[end..end + 4].copy_from_slice(&[0x07, 0x69, 40, 0]);
    out[end + 4..end + 8].copy_from_slice(&[0x10, 0, 32, 0]);
    out[end + 8..end + 40].copy_from_slice(&hash);
    end + 40
}
