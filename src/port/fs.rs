//! The file system through `zephyr/fs/fs.h` (`src/smp_port_fs.c`), as the FS group's
//! [`Fs`] platform.

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

    fn open_upload(&mut self, path: &str, start: UploadStart) -> Result<(File, Staged), FsError> {
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
