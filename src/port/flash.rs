//! flash_map partitions (`src/smp_port_flash.c`): [`FlashArea`], `embedded-storage` NOR
//! flash for the image group, and [`ZephyrStorage`], the Zephyr basic group's erase of
//! `storage_partition`.

use embedded_storage::nor_flash::{
    check_erase, check_read, check_write, ErrorType, NorFlash, NorFlashError, NorFlashErrorKind,
    ReadNorFlash,
};
use smp::platform::{EraseError, StorageErase};

use super::{check, check32, sys, PortError};

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

    /// The size of the partition's first sector (`smp_port_flash_first_sector`): where a
    /// secondary slot's image starts when MCUboot swaps using offset.
    pub fn first_sector(&self) -> Result<u32, PortError> {
        // SAFETY: a plain integer argument and result.
        check32(unsafe { sys::smp_port_flash_first_sector(self.id) })
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
