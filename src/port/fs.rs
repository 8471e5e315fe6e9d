//! The file system through `zephyr/fs/fs.h` (`src/smp_port_fs.c`), as the FS group's
//! [`Fs`] platform.

use smp::groups::fs::PATH_CAP;
use smp::platform::{Fs, FsError, FsStat, Staged, UploadStart};

use super::{check, check32, sys, PortError};

/// Suffix of the staging file of an upload (invisible to clients).
pub const STAGING_SUFFIX: &str = ".~smp";
type PathBuf = heapless::String<{ PATH_CAP + 8 }>;

fn fs_err(e: PortError) -> FsError {
    match e {
        PortError::NoEnt => FsError::NoEnt,
        PortError::Inval | PortError::NameTooLong => FsError::Inval,
        // LittleFS's -EISDIR for an upload to (or a read of) a directory: Zephyr's fs_mgmt
        // answers it as an unknown error (1), as the host device does.
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
    let n = check32(unsafe { sys::smp_port_fs_read(handle, off, buf.as_mut_ptr(), buf.len()) })?;
    Ok((n as usize).min(buf.len()))
}

fn write(handle: u32, off: u64, data: &[u8]) -> Result<(), PortError> {
    // SAFETY: `data` is valid for reads of `data.len()` bytes during the call.
    check32(unsafe { sys::smp_port_fs_write(handle, off, data.as_ptr(), data.len()) }).map(|_| ())
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
    check32(unsafe { sys::smp_port_fs_rename(from.as_ptr(), from.len(), to.as_ptr(), to.len()) })
        .map(|_| ())
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
/// An upload session is a staging file `<name>.~smp`, started empty ([`UploadStart::New`])
/// or as a copy of the visible file ([`UploadStart::Resume`]: a staging file left by an
/// earlier session is discarded, as LittleFS discards writes a reset cut off before their
/// sync); a commit renames it over the target, which LittleFS does atomically, and a drop
/// removes it. Names ending in the suffix are refused, so clients never see staging files.
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
        if path.ends_with(STAGING_SUFFIX) {
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

    fn open_upload(&mut self, path: &str, start: UploadStart) -> Result<(File, Staged), FsError> {
        Self::check_name(path)?;
        let staging = with_suffix(path, STAGING_SUFFIX)?;
        let mut target = PathBuf::new();
        target.push_str(path).map_err(|_| FsError::Inval)?;
        let rw = sys::SMP_PORT_FS_READ | sys::SMP_PORT_FS_WRITE | sys::SMP_PORT_FS_CREATE;
        let handle = open(&staging, rw | sys::SMP_PORT_FS_TRUNC).map_err(fs_err)?;
        let staged = match start {
            UploadStart::New { total } => Ok(Staged { len: 0, total }),
            UploadStart::Resume => copy_into(path, handle).map(|len| Staged { len, total: 0 }),
        };
        match staged {
            Ok(staged) => Ok((
                File {
                    handle,
                    target: Some(target),
                },
                staged,
            )),
            Err(e) => {
                let _ = close(handle);
                let _ = unlink(&staging);
                Err(fs_err(e))
            }
        }
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
        let Some(target) = file.target else {
            return closed;
        };
        let staging = with_suffix(&target, STAGING_SUFFIX)?;
        if !commit || closed.is_err() {
            let _ = unlink(&staging);
            return closed;
        }
        rename(&staging, &target).map_err(fs_err)
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
