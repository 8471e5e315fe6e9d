//! File-backed flash: one file per slot partition under the device's state directory.
//!
//! Each slot is a [`FileFlash`], an `embedded-storage` [`NorFlash`] whose write and erase
//! granularity are the const parameters `W` and `E` (the image group and the trailer code
//! round to them at compile time). It enforces what real NOR flash does: aligned writes and
//! erases, and no write over bytes that are not erased. Every operation goes straight to
//! the file (no cache), so several handles on one slot (the image group's, the boot
//! control's, the boot emulator's) always agree.
//!
//! Files: `<state>/slot<N>.bin`, N = 0 .. 2 × images (image `i` owns slots `2i`, `2i+1`).
//! [`with_geometry!`](crate::with_geometry) turns runtime `W`/`E` values into the const
//! parameters.

use crate::stats::HostStats;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};
use smp::mcuboot::trailer::Layout;

/// Most images a host device has (Zephyr's `UPDATABLE_IMAGE_NUMBER` is 1..=3).
pub const MAX_IMAGES: usize = 3;
/// Slot handles per device: always `2 * MAX_IMAGES`; slots of unconfigured images are
/// absent (zero capacity).
pub const SLOTS: usize = 2 * MAX_IMAGES;

/// Flash geometry of the host device, besides `W` and `E`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Size of every slot in bytes (a multiple of the erase size).
    pub slot_size: u32,
    /// Number of images (1..=3).
    pub images: u8,
    /// Trailer layout: `BOOT_MAX_ALIGN` and erased value.
    pub layout: Layout,
}

impl Default for Geometry {
    fn default() -> Self {
        Geometry {
            slot_size: 0x60000,
            images: 1,
            layout: Layout::default(),
        }
    }
}

/// Failures of a [`FileFlash`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFlashError {
    /// The file could not be read or written.
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

/// One slot partition kept in a file.
#[derive(Debug)]
pub struct FileFlash<const W: usize = 8, const E: usize = 4096> {
    file: Option<File>,
    size: u32,
    erased: u8,
    stats: Option<HostStats>,
}

impl<const W: usize, const E: usize> FileFlash<W, E> {
    /// Opens (creating it erased if missing) the slot file `path` of `size` bytes. A file
    /// of another size is grown (erased bytes) or cut to `size`.
    pub fn open(path: &Path, size: u32, erased: u8) -> io::Result<Self> {
        if E.checked_rem(W) != Some(0) || (size as usize).checked_rem(E) != Some(0) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("slot size {size:#x} must be a multiple of the erase size {E}, itself a multiple of the write size {W}"),
            ));
        }
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
        Ok(FileFlash {
            file: Some(file),
            size,
            erased,
            stats: None,
        })
    }

    /// A slot that does not exist (capacity 0; every access fails).
    pub fn absent() -> Self {
        FileFlash {
            file: None,
            size: 0,
            erased: 0xff,
            stats: None,
        }
    }

    /// The whole slot's bytes.
    pub fn read_all(&self) -> io::Result<Vec<u8>> {
        let mut v = vec![0u8; self.size as usize];
        if let Some(f) = &self.file {
            f.read_exact_at(&mut v, 0)?;
        }
        Ok(v)
    }

    /// The erased value.
    pub fn erased(&self) -> u8 {
        self.erased
    }

    fn check(&self, off: u32, len: usize, align: usize) -> Result<&File, FileFlashError> {
        let file = self.file.as_ref().ok_or(FileFlashError::OutOfBounds)?;
        if (off as usize).checked_rem(align) != Some(0) || len.checked_rem(align) != Some(0) {
            return Err(FileFlashError::NotAligned);
        }
        match (off as usize).checked_add(len) {
            Some(end) if end <= self.size as usize => Ok(file),
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
        let f = self.check(offset, bytes.len(), 1)?;
        f.read_exact_at(bytes, offset.into())
            .map_err(|_| FileFlashError::Io)
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
        let f = self.check(from, len, E)?;
        let fill = vec![self.erased; len];
        f.write_all_at(&fill, from.into())
            .map_err(|_| FileFlashError::Io)?;
        if let Some(s) = &self.stats {
            s.flash_erase();
        }
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), FileFlashError> {
        let f = self.check(offset, bytes.len(), W)?;
        let mut cur = vec![0u8; bytes.len()];
        f.read_exact_at(&mut cur, offset.into())
            .map_err(|_| FileFlashError::Io)?;
        if cur.iter().any(|&b| b != self.erased) {
            return Err(FileFlashError::NotErased);
        }
        f.write_all_at(bytes, offset.into())
            .map_err(|_| FileFlashError::Io)?;
        if let Some(s) = &self.stats {
            s.flash_write(bytes.len());
        }
        Ok(())
    }
}

/// The slot files of one device.
#[derive(Debug, Clone)]
pub struct Partitions<const W: usize = 8, const E: usize = 4096> {
    dir: PathBuf,
    geometry: Geometry,
    stats: Option<HostStats>,
}

impl<const W: usize, const E: usize> Partitions<W, E> {
    /// Creates the state directory and every slot file that is missing (erased).
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
        std::fs::create_dir_all(dir)?;
        let p = Partitions {
            dir: dir.to_owned(),
            geometry,
            stats: None,
        };
        for s in 0..2 * geometry.images as usize {
            p.slot(s)?;
        }
        Ok(p)
    }

    /// Counts every later write and erase through handles of these slots in `stats`
    /// (the `flash` statistics group).
    pub fn count_into(&mut self, stats: HostStats) {
        self.stats = Some(stats);
    }

    /// The geometry.
    pub fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    /// The file of slot `n`.
    pub fn path(&self, n: usize) -> PathBuf {
        self.dir.join(format!("slot{n}.bin"))
    }

    /// The journal of a swap of `image` in progress (see [`crate::boot::reset`]).
    pub fn journal_path(&self, image: u8) -> PathBuf {
        self.dir.join(format!("swap{image}.journal"))
    }

    /// A new handle on slot `n` (absolute: image `n / 2`, slot `n % 2`).
    pub fn slot(&self, n: usize) -> io::Result<FileFlash<W, E>> {
        if n >= 2 * self.geometry.images as usize {
            return Ok(FileFlash::absent());
        }
        let mut f = FileFlash::open(
            &self.path(n),
            self.geometry.slot_size,
            self.geometry.layout.erased,
        )?;
        f.stats = self.stats.clone();
        Ok(f)
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
