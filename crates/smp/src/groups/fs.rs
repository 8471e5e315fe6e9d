//! File-system management group (8), after Zephyr's `fs_mgmt.c`.
//!
//! | id | command | op | request | response |
//! |---|---|---|---|---|
//! | 0 | download | R | `name`: tstr, `off`: uint | `off`, `data`: bstr, `len` (only when `off` = 0) |
//! | 0 | upload | W | `name`, `off`, `data`: bstr, `len` (required when `off` = 0) | `off` (next write position) |
//! | 1 | file status | R | `name` | `len` |
//! | 2 | hash/checksum | R | `name`, opt `type`: tstr, `off`, `len` | `type`, `off` (if ≠ 0), `len`, `output` |
//! | 3 | supported hash types | R | ignored | `types`: map name → {`format`, `size`} |
//! | 4 | close open file | W | ignored | empty |
//!
//! `name` must be 1..=`path_len` (64) bytes and `off` present, else `rc` 3. Then, as
//! Zephyr's VFS (`fs_stat`/`fs_open` in subsys/fs/fs.c answer `-EINVAL`), a name of one
//! byte or less, or without a leading `/` (`x`, `/`), is error 2 (invalid name); a name
//! under no mount point is 3 (not found) for reads and 14 for uploads. The platform may
//! refuse more as invalid names (the host refuses `..` components and links that leave its
//! root: hardening Zephyr does not have, reported as error 2).
//!
//! One file context at a time is bound to (transport, path, direction); a request for
//! another combination closes it first. It closes by itself after `idle_close_ms` (4000 ms)
//! without requests (checked with [`Ctx::now_ms`] on every request of this group, and by
//! [`FsGroup::poll`], which a port may call from a timer), and at once when a transfer
//! finishes (`off ≥ len`, `len` > 0), and on command 4.
//!
//! Uploads behave as Zephyr's over LittleFS (see [`Fs`] for the platform's side): the file
//! is opened with create at the first chunk of a context, so a new file is visible (empty)
//! at once; what is written is kept whenever the context closes, whether the transfer
//! completed, was closed by command 4, timed out, was abandoned for another transfer, or hit
//! an offset mismatch or a write error (`fs_mgmt_cleanup` closes, and so syncs, the file).
//! While a transfer is open, file status, hash and other readers see the file as last
//! synced (LittleFS publishes a file's new content at close), and a download of it closes
//! the upload first (another context), so it reads what was written. A power cut loses what
//! was written since the context opened, as on LittleFS; the file keeps its last synced
//! content. An upload to a directory (the mount point `/lfs1` included) is error 1, as
//! LittleFS's `-EISDIR` is.
//!
//! An upload context that starts at an offset > 0 appends to the file (its expected offset
//! is the file's size, as Zephyr's `fs_mgmt_filelen`), with no known total length: it ends
//! by idle timeout or command 4.
//!
//! Deviation from Zephyr: a chunk at offset 0 inside an open upload context starts the
//! transfer over (the next expected offset is the chunk's length). Zephyr's
//! `fs_mgmt_file_upload` truncates the file there but does not reset its context's offset,
//! so it answers the old offset plus the chunk's length; a client that follows that answer
//! skips bytes and ends with a corrupt file, and one that does not is refused with error 11.
//! A failed sync at the end of a transfer is reported as error 10 (write failed); Zephyr
//! ignores `fs_close`'s result.
//!
//! Group error codes ([`FsMgmtErr`]) and their SMP v1 translation: 1 unknown → 1, 2 invalid name
//! → 3, 3 not found → 5, 4 is a directory → 1, 5 open failed → 1, 6 seek failed → 1, 7 read
//! failed → 1, 8 truncate failed → 1, 9 delete failed → 1, 10 write failed → 1, 11 offset
//! not valid → 1, 12 offset larger than file → 1, 13 hash type not found → 3, 14 mount point
//! not found → 5, 15 read-only file system → 1, 16 file empty → 1, 17 close failed → 1.

use crc::{Crc, CRC_32_ISO_HDLC};
use sha2::{Digest, Sha256};

use crate::cbor::{for_each_entry, once};
use crate::platform::{Fs, FsError, FsStat, UploadStart};
use crate::server::{group_error, Ctx, Error, Group, Response};
use crate::wire::{group, Rc};

/// Command ids.
pub mod cmd {
    /// Download (read) / upload (write).
    pub const FILE: u8 = 0;
    /// File status.
    pub const STATUS: u8 = 1;
    /// Hash/checksum.
    pub const HASH: u8 = 2;
    /// Supported hash/checksum types.
    pub const SUPPORTED_HASHES: u8 = 3;
    /// Close the open file.
    pub const CLOSE: u8 = 4;
}

/// FS group error codes (`fs_mgmt_err_code_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum FsMgmtErr {
    /// Unknown error.
    Unknown = 1,
    /// The name is not valid.
    FileInvalidName = 2,
    /// No such file.
    FileNotFound = 3,
    /// The name is a directory.
    FileIsDirectory = 4,
    /// Open failed.
    FileOpenFailed = 5,
    /// Seek failed.
    FileSeekFailed = 6,
    /// Read failed.
    FileReadFailed = 7,
    /// Truncate failed.
    FileTruncateFailed = 8,
    /// Delete failed.
    FileDeleteFailed = 9,
    /// Write failed.
    FileWriteFailed = 10,
    /// Upload offset does not match the expected one (sent with `len` = expected offset).
    FileOffsetNotValid = 11,
    /// Offset larger than the file.
    FileOffsetLargerThanFile = 12,
    /// Unknown hash/checksum type.
    ChecksumHashNotFound = 13,
    /// No file system at the name's mount point.
    MountPointNotFound = 14,
    /// Read-only file system.
    ReadOnlyFilesystem = 15,
    /// The file is empty.
    FileEmpty = 16,
    /// Close failed.
    FileCloseFailed = 17,
}

group_error!(FsMgmtErr, group::FS);

/// Translates an FS group error for SMP v1 (`fs_mgmt_translate_error_code`).
pub fn v1_rc(rc: u16) -> Rc {
    match rc {
        2 | 13 => Rc::Inval,
        3 | 14 => Rc::NoEnt,
        _ => Rc::Unknown,
    }
}

/// Build options of the FS group (Zephyr's Kconfig).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// `MCUMGR_GRP_FS_PATH_LEN`: longest accepted name (at most [`PATH_CAP`]).
    pub path_len: usize,
    /// `MCUMGR_GRP_FS_FILE_AUTOMATIC_IDLE_CLOSE_TIME` in ms.
    pub idle_close_ms: u64,
    /// `MCUMGR_GRP_FS_MAX_OFFSET_LEN` 4 GB mode: the download chunk is `buf_size − 50`
    /// instead of `buf_size − 44`.
    pub large_files: bool,
    /// `MCUMGR_GRP_FS_DL_CHUNK_SIZE`: an upper bound on the download chunk.
    pub dl_chunk_max: Option<usize>,
    /// `MCUMGR_GRP_FS_CHECKSUM_IEEE_CRC32`.
    pub crc32: bool,
    /// `MCUMGR_GRP_FS_HASH_SHA256`.
    pub sha256: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            path_len: 64,
            idle_close_ms: 4000,
            large_files: false,
            dl_chunk_max: None,
            crc32: true,
            sha256: true,
        }
    }
}

/// Capacity of the stored path of the open file.
pub const PATH_CAP: usize = 128;

/// Longest hash type name (`HASH_CHECKSUM_TYPE_SIZE`).
const TYPE_MAX: usize = 8;

type Path = heapless::String<PATH_CAP>;

/// The single open file context.
struct Transfer<H> {
    file: H,
    upload: bool,
    transport: u8,
    path: Path,
    /// Next expected offset.
    off: u64,
    /// Total length (0 = unknown).
    len: u64,
    last_ms: u64,
    /// An upload that wrote data (so closing it syncs that data to the file).
    dirty: bool,
}

/// The FS group over a file system `F`, with a `B`-byte buffer for download chunks and
/// hashing (the chunk is also bounded by the transport buffer size, see the module docs).
pub struct FsGroup<F: Fs, const B: usize = 1024> {
    fs: F,
    config: Config,
    open: Option<Transfer<F::File>>,
    buf: [u8; B],
}

impl<F: Fs, const B: usize> FsGroup<F, B> {
    /// A new FS group.
    pub fn new(fs: F, config: Config) -> Self {
        FsGroup {
            fs,
            config,
            open: None,
            buf: [0; B],
        }
    }

    /// The file system.
    pub fn fs(&self) -> &F {
        &self.fs
    }

    /// The file system, mutably.
    pub fn fs_mut(&mut self) -> &mut F {
        &mut self.fs
    }

    /// Whether a file is open (a transfer is in progress).
    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// Closes the open file if it has been idle for the configured time. Ports may call
    /// this periodically; the group also calls it on each of its requests.
    pub fn poll(&mut self, now_ms: u64) {
        if let Some(t) = &self.open {
            if now_ms.saturating_sub(t.last_ms) >= self.config.idle_close_ms {
                log::debug!("fs: closing idle file {}", t.path.as_str());
                self.abandon();
            }
        }
    }

    /// When the open file becomes idle and [`FsGroup::poll`] closes it (`None`: no file
    /// is open). Zephyr reschedules its idle-close work item at every access the same way.
    pub fn next_deadline(&self) -> Option<u64> {
        self.open
            .as_ref()
            .map(|t| t.last_ms.saturating_add(self.config.idle_close_ms))
    }

    /// Closes the open file (Zephyr's `fs_mgmt_cleanup`), keeping what an upload wrote.
    fn abandon(&mut self) {
        if let Some(t) = self.open.take() {
            if let Err(e) = self.fs.close(t.file, t.upload && t.dirty) {
                log::warn!("fs: close of {} failed: {e}", t.path.as_str());
            }
        }
    }

    /// Closes the open file at the end of a transfer (or on command 4), keeping what an
    /// upload wrote; a failed sync is reported.
    fn finish(&mut self) -> Result<(), Error> {
        let Some(t) = self.open.take() else {
            return Ok(());
        };
        self.fs.close(t.file, t.upload && t.dirty).map_err(|e| {
            log::warn!("fs: sync of {} failed: {e}", t.path.as_str());
            FsMgmtErr::FileWriteFailed.into()
        })
    }

    /// `fs_stat` through Zephyr's VFS: its name check first.
    fn stat(&mut self, name: &str) -> Result<FsStat, FsError> {
        vfs_name(name)?;
        self.fs.stat(name)
    }

    /// Opens (with create) the file of an upload, as `fs_open(FS_O_CREATE | FS_O_WRITE)`.
    fn open_upload(&mut self, name: &str, start: UploadStart) -> Result<F::File, FsError> {
        vfs_name(name)?;
        let (file, _) = self.fs.open_upload(name, start)?;
        if !matches!(self.fs.stat(name), Err(FsError::NoEnt)) {
            return Ok(file);
        }
        // LittleFS creates the entry at open: make a new file visible (empty) now.
        self.fs.close(file, true)?;
        Ok(self.fs.open_upload(name, start)?.0)
    }

    fn matches(&self, ctx: &Ctx<'_>, path: &str, upload: bool) -> bool {
        self.open
            .as_ref()
            .is_some_and(|t| t.transport == ctx.transport && t.upload == upload && t.path == path)
    }

    fn chunk_len(&self, ctx: &Ctx<'_>) -> usize {
        let overhead = if self.config.large_files { 50 } else { 44 };
        let mut n = (ctx.params.buf_size as usize).saturating_sub(overhead);
        if let Some(max) = self.config.dl_chunk_max {
            n = n.min(max);
        }
        n.min(B)
    }

    fn check_name<'n>(&self, name: Option<&'n str>) -> Result<&'n str, Error> {
        match name {
            Some(n) if !n.is_empty() && n.len() <= self.config.path_len.min(PATH_CAP) => Ok(n),
            _ => Err(Rc::Inval.into()),
        }
    }

    fn download(&mut self, ctx: &Ctx<'_>, rsp: &mut Response<'_>) -> Result<(), Error> {
        let (mut name, mut off) = (None, None);
        for_each_entry(ctx.payload, |k, d| match k {
            "name" => once(&mut name, d.str()?),
            "off" => once(&mut off, d.u64()?),
            _ => Ok(false),
        })?;
        let off = off.ok_or(Rc::Inval)?;
        let name = self.check_name(name)?;
        self.poll(ctx.now_ms);
        if !self.matches(ctx, name, false) {
            self.abandon();
        }
        if self.open.is_none() {
            let st = self.stat(name).map_err(stat_err)?;
            if st.is_dir {
                return Err(FsMgmtErr::FileIsDirectory.into());
            }
            let file = self.fs.open_read(name).map_err(read_open_err)?;
            self.open = Some(Transfer {
                file,
                upload: false,
                transport: ctx.transport,
                path: Path::try_from(name).map_err(|_| Rc::Inval)?,
                off: 0,
                len: st.len,
                last_ms: ctx.now_ms,
                dirty: false,
            });
        }
        let chunk = self.chunk_len(ctx);
        let Some(t) = self.open.as_mut() else {
            return Err(Rc::Unknown.into());
        };
        let n = match self.fs.read(&mut t.file, off, &mut self.buf[..chunk]) {
            Ok(n) => n,
            Err(_) => {
                self.abandon();
                return Err(FsMgmtErr::FileReadFailed.into());
            }
        };
        t.off = off + n as u64;
        t.last_ms = ctx.now_ms;
        let (total, done) = (t.len, t.len > 0 && t.off >= t.len);
        let enc = rsp.enc();
        enc.str("off")?
            .u64(off)?
            .str("data")?
            .bytes(&self.buf[..n])?;
        if off == 0 {
            enc.str("len")?.u64(total)?;
        }
        if done {
            self.finish()?;
        }
        Ok(())
    }

    fn upload(&mut self, ctx: &Ctx<'_>, rsp: &mut Response<'_>) -> Result<(), Error> {
        let (mut name, mut off, mut data, mut len) = (None, None, None, None);
        for_each_entry(ctx.payload, |k, d| match k {
            "name" => once(&mut name, d.str()?),
            "off" => once(&mut off, d.u64()?),
            "data" => once(&mut data, d.bytes()?),
            "len" => once(&mut len, d.u64()?),
            _ => Ok(false),
        })?;
        let off = off.ok_or(Rc::Inval)?;
        let name = self.check_name(name)?;
        if off == 0 && len.is_none() {
            return Err(Rc::Inval.into());
        }
        let data = data.unwrap_or(&[]);
        self.poll(ctx.now_ms);
        // Another transfer, or (see the module docs) a restart at 0 of this one: close it.
        if off == 0 || !self.matches(ctx, name, true) {
            self.abandon();
        }
        if self.open.is_none() {
            let start = if off == 0 {
                UploadStart::New {
                    total: len.unwrap_or(0),
                }
            } else {
                UploadStart::Resume
            };
            let file = self.open_upload(name, start).map_err(|e| match e {
                FsError::Inval => FsMgmtErr::FileInvalidName,
                FsError::NoEnt => FsMgmtErr::MountPointNotFound,
                FsError::RoFs => FsMgmtErr::ReadOnlyFilesystem,
                _ => FsMgmtErr::Unknown,
            })?;
            // A context that starts at off > 0 continues at the file's size
            // (`fs_mgmt_filelen`); a new one at 0.
            let size = if off == 0 {
                Ok(0)
            } else {
                self.fs.stat(name).map(|st| st.len)
            };
            let size = match size {
                Ok(n) => n,
                Err(e) => {
                    let _ = self.fs.close(file, false);
                    return Err(stat_err(e));
                }
            };
            self.open = Some(Transfer {
                file,
                upload: true,
                transport: ctx.transport,
                path: Path::try_from(name).map_err(|_| Rc::Inval)?,
                off: size,
                len: 0,
                last_ms: ctx.now_ms,
                dirty: false,
            });
        }
        let Some(t) = self.open.as_mut() else {
            return Err(Rc::Unknown.into());
        };
        if let Some(l) = len {
            if off == 0 {
                t.len = l;
            }
        }
        if off > 0 && off != t.off {
            let expected = t.off;
            self.abandon();
            rsp.group_err(FsMgmtErr::FileOffsetNotValid)?;
            rsp.enc().str("len")?.u64(expected)?;
            return Ok(());
        }
        if !data.is_empty() {
            if self.fs.write(&mut t.file, t.off, data).is_err() {
                self.abandon();
                return Err(FsMgmtErr::FileWriteFailed.into());
            }
            t.off += data.len() as u64;
            t.dirty = true;
        }
        t.last_ms = ctx.now_ms;
        let (next, done) = (t.off, t.len > 0 && t.off >= t.len);
        if done {
            self.finish()?;
        }
        rsp.enc().str("off")?.u64(next)?;
        Ok(())
    }

    fn status(&mut self, ctx: &Ctx<'_>, rsp: &mut Response<'_>) -> Result<(), Error> {
        let mut name = None;
        for_each_entry(ctx.payload, |k, d| match k {
            "name" => once(&mut name, d.str()?),
            _ => Ok(false),
        })?;
        let name = self.check_name(name)?;
        let st = self.stat(name).map_err(stat_err)?;
        if st.is_dir {
            return Err(FsMgmtErr::FileIsDirectory.into());
        }
        rsp.enc().str("len")?.u64(st.len)?;
        Ok(())
    }

    fn hash(&mut self, ctx: &Ctx<'_>, rsp: &mut Response<'_>) -> Result<(), Error> {
        let (mut name, mut ty, mut off, mut len) = (None, None, None, None);
        for_each_entry(ctx.payload, |k, d| match k {
            "name" => once(&mut name, d.str()?),
            "type" => once(&mut ty, d.str()?),
            "off" => once(&mut off, d.u64()?),
            "len" => once(&mut len, d.u64()?),
            _ => Ok(false),
        })?;
        let name = self.check_name(name)?;
        let ty = ty.unwrap_or("");
        let (off, len) = (off.unwrap_or(0), len.unwrap_or(u64::MAX));
        if ty.len() > TYPE_MAX || len == 0 {
            return Err(Rc::Inval.into());
        }
        let ty = match ty {
            "" if self.config.crc32 => "crc32",
            "" if self.config.sha256 => "sha256",
            "crc32" if self.config.crc32 => "crc32",
            "sha256" if self.config.sha256 => "sha256",
            _ => return Err(FsMgmtErr::ChecksumHashNotFound.into()),
        };
        let st = self.stat(name).map_err(stat_err)?;
        if st.is_dir {
            return Err(FsMgmtErr::FileIsDirectory.into());
        }
        if st.len <= off {
            return Err(if st.len == 0 {
                FsMgmtErr::FileEmpty
            } else {
                FsMgmtErr::FileOffsetLargerThanFile
            }
            .into());
        }
        let mut file = self.fs.open_read(name).map_err(read_open_err)?;
        let crc = Crc::<u32>::new(&CRC_32_ISO_HDLC);
        let mut crc_digest = crc.digest();
        let mut sha = Sha256::new();
        let mut done = 0u64;
        let mut failed = false;
        while done < len {
            let want = (len - done).min(B as u64) as usize;
            match self.fs.read(&mut file, off + done, &mut self.buf[..want]) {
                Ok(0) => break,
                Ok(n) => {
                    if ty == "crc32" {
                        crc_digest.update(&self.buf[..n]);
                    } else {
                        sha.update(&self.buf[..n]);
                    }
                    done += n as u64;
                }
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
        let _ = self.fs.close(file, false);
        if failed {
            // Zephyr's hash functions answer a read failure with MGMT_ERR_EUNKNOWN, which
            // fs_mgmt_file_hash_checksum sends as the group's rc 1
            // (fs_mgmt_hash_checksum_crc32.c, fs_mgmt_hash_checksum_sha256.c), not the
            // download's FILE_READ_FAILED.
            return Err(FsMgmtErr::Unknown.into());
        }
        let enc = rsp.enc();
        enc.str("type")?.str(ty)?;
        if off != 0 {
            enc.str("off")?.u64(off)?;
        }
        enc.str("len")?.u64(done)?.str("output")?;
        if ty == "crc32" {
            enc.u32(crc_digest.finalize())?;
        } else {
            enc.bytes(&sha.finalize())?;
        }
        Ok(())
    }

    fn supported_hashes(&mut self, rsp: &mut Response<'_>) -> Result<(), Error> {
        let enc = rsp.enc();
        enc.str("types")?.begin_map()?;
        if self.config.crc32 {
            enc.str("crc32")?.begin_map()?;
            enc.str("format")?.u8(0)?.str("size")?.u8(4)?.end()?;
        }
        if self.config.sha256 {
            enc.str("sha256")?.begin_map()?;
            enc.str("format")?.u8(1)?.str("size")?.u8(32)?.end()?;
        }
        enc.end()?;
        Ok(())
    }
}

/// The name check of Zephyr's VFS (`fs_open`, `fs_stat` in subsys/fs/fs.c): `-EINVAL` for
/// a name of one byte or less, or without a leading `/`.
fn vfs_name(name: &str) -> Result<(), FsError> {
    if name.len() <= 1 || !name.starts_with('/') {
        return Err(FsError::Inval);
    }
    Ok(())
}

/// Errors of `fs_mgmt_filelen` (a stat).
fn stat_err(e: FsError) -> Error {
    match e {
        FsError::Inval => FsMgmtErr::FileInvalidName,
        FsError::NoEnt => FsMgmtErr::FileNotFound,
        _ => FsMgmtErr::Unknown,
    }
    .into()
}

/// Errors of an open for reading.
fn read_open_err(e: FsError) -> Error {
    stat_err(e)
}

impl<F: Fs, const B: usize> Group for FsGroup<F, B> {
    fn id(&self) -> u16 {
        group::FS
    }

    // No name: Zephyr's fs_mgmt_group sets no `mg_group_name`, so the enumeration details
    // report "" for it (fs_mgmt.c @54a29be3).

    fn handlers(&self) -> u8 {
        cmd::CLOSE + 1
    }

    fn handle(&mut self, ctx: &Ctx<'_>, rsp: &mut Response<'_>) -> Result<(), Error> {
        let hashes = self.config.crc32 || self.config.sha256;
        match (ctx.header.id, ctx.is_read()) {
            (cmd::FILE, true) => self.download(ctx, rsp),
            (cmd::FILE, false) => self.upload(ctx, rsp),
            (cmd::STATUS, true) => self.status(ctx, rsp),
            (cmd::HASH, true) if hashes => self.hash(ctx, rsp),
            (cmd::SUPPORTED_HASHES, true) if hashes => self.supported_hashes(rsp),
            (cmd::CLOSE, false) => {
                self.poll(ctx.now_ms);
                self.finish()
            }
            _ => Err(Rc::NotSup.into()),
        }
    }

    fn poll(&mut self, now_ms: u64) {
        FsGroup::poll(self, now_ms);
    }

    fn next_deadline(&self) -> Option<u64> {
        FsGroup::next_deadline(self)
    }

    fn v1_rc(&self, rc: u16) -> Rc {
        v1_rc(rc)
    }
}

#[cfg(test)]
mod tests;
