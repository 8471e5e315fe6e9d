//! [`RamFlash`]: a NOR flash in RAM with alignment, erase rules and power cuts.

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
