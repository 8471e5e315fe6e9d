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

// ---------------------------------------------------------------------------------------
// Request/response helpers for the groups' byte-vector tests.

/// A test buffer (requests and responses).
pub type Bytes = heapless::Vec<u8, 4096>;

/// Parses hex digits, ignoring whitespace.
///
/// # Panics
/// On odd-length or non-hex input (tests only).
pub fn hex(s: &str) -> Bytes {
    let digits: heapless::Vec<u8, 8192> = s.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|p| {
            let s = core::str::from_utf8(p).unwrap();
            u8::from_str_radix(s, 16).unwrap()
        })
        .collect()
}

/// Builds a request packet: `op_ver` is header byte 0 (`0x08` v2 read, `0x0a` v2 write,
/// `0x00`/`0x02` for v1), followed by `body`.
pub fn packet(op_ver: u8, group: u16, seq: u8, id: u8, body: &[u8]) -> Bytes {
    let mut p = Bytes::new();
    let len = body.len() as u16;
    let g = group.to_be_bytes();
    let l = len.to_be_bytes();
    p.extend_from_slice(&[op_ver, 0, l[0], l[1], g[0], g[1], seq, id])
        .unwrap();
    p.extend_from_slice(body).unwrap();
    p
}

/// Encodes a request body with `f` (inside an indefinite map that this function opens and
/// closes).
pub fn body(
    f: impl FnOnce(
        &mut crate::server::Enc<'_>,
    ) -> Result<(), minicbor::encode::Error<minicbor::encode::write::EndOfSlice>>,
) -> Bytes {
    let mut buf = [0u8; 4096];
    let mut e = minicbor::Encoder::new(minicbor::encode::write::Cursor::new(&mut buf[..]));
    e.begin_map().unwrap();
    f(&mut e).unwrap();
    e.end().unwrap();
    let n = e.writer().position();
    heapless::Vec::from_slice(&buf[..n]).unwrap()
}

/// Runs `req` through `server` with `meta`; returns every response, concatenated.
pub fn exchange<const N: usize>(
    server: &mut crate::server::Server<'_, N>,
    meta: crate::server::Meta,
    req: &[u8],
) -> Bytes {
    let mut tx = [0u8; 4096];
    let mut out = Bytes::new();
    server.process(meta, req, &mut tx, |r| out.extend_from_slice(r).unwrap());
    out
}

/// The response body (after the 8-byte header) of a single response.
pub fn rsp_body(rsp: &[u8]) -> &[u8] {
    &rsp[crate::wire::HEADER_LEN..]
}

// ---------------------------------------------------------------------------------------
// In-memory file system.

/// Largest file a [`MemFs`] holds.
pub const MEM_FILE_CAP: usize = 4096;

/// One file (or directory) of a [`MemFs`].
#[derive(Debug, Clone, Default)]
pub struct MemFile {
    /// Full name, e.g. `/lfs1/a.txt`.
    pub name: heapless::String<64>,
    /// Content.
    pub data: heapless::Vec<u8, MEM_FILE_CAP>,
    /// A directory (no content).
    pub is_dir: bool,
    /// For staging files: the announced total length (0 = unknown).
    pub total: u64,
}

/// A handle of a [`MemFs`].
#[derive(Debug, Clone)]
pub struct MemHandle {
    name: heapless::String<64>,
    upload: bool,
}

/// A RAM file system with one mount point (`/lfs1`, a directory), uploads as the
/// [`Fs`](crate::platform::Fs) contract asks (a session that publishes its content at a
/// committing close), and injectable failures.
#[derive(Debug, Clone, Default)]
pub struct MemFs {
    /// Visible files.
    pub files: heapless::Vec<MemFile, 8>,
    /// Open upload sessions' content, by target name.
    pub staged: heapless::Vec<MemFile, 4>,
    /// Fail every write.
    pub fail_write: bool,
    /// Fail every read.
    pub fail_read: bool,
    /// Refuse uploads as a read-only file system.
    pub read_only: bool,
    /// Handles currently open.
    pub open_handles: usize,
}

impl MemFs {
    /// A file system holding `files` (name, content).
    pub fn with_files(files: &[(&str, &[u8])]) -> Self {
        let mut fs = MemFs::default();
        for (n, d) in files {
            fs.put(n, d);
        }
        fs
    }

    /// Creates or replaces a visible file.
    pub fn put(&mut self, name: &str, data: &[u8]) {
        self.files.retain(|f| f.name != name);
        let _ = self.files.push(MemFile {
            name: name.try_into().unwrap(),
            data: heapless::Vec::from_slice(data).unwrap(),
            is_dir: false,
            total: 0,
        });
    }

    /// Adds a directory.
    pub fn mkdir(&mut self, name: &str) {
        let _ = self.files.push(MemFile {
            name: name.try_into().unwrap(),
            data: heapless::Vec::new(),
            is_dir: true,
            total: 0,
        });
    }

    /// The content of a visible file.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.files
            .iter()
            .find(|f| f.name == name && !f.is_dir)
            .map(|f| &f.data[..])
    }

    fn check(name: &str) -> Result<(), crate::platform::FsError> {
        use crate::platform::FsError;
        if name == "/lfs1" {
            return Ok(());
        }
        if !name.starts_with("/lfs1/") {
            return Err(FsError::NoEnt);
        }
        if name.len() > 64 || name.contains("..") || name.contains('\0') {
            return Err(FsError::Inval);
        }
        Ok(())
    }
}

impl crate::platform::Fs for MemFs {
    type File = MemHandle;

    fn stat(&mut self, path: &str) -> Result<crate::platform::FsStat, crate::platform::FsError> {
        Self::check(path)?;
        if path == "/lfs1" {
            return Ok(crate::platform::FsStat {
                len: 0,
                is_dir: true,
            });
        }
        let f = self
            .files
            .iter()
            .find(|f| f.name == path)
            .ok_or(crate::platform::FsError::NoEnt)?;
        Ok(crate::platform::FsStat {
            len: f.data.len() as u64,
            is_dir: f.is_dir,
        })
    }

    fn open_read(&mut self, path: &str) -> Result<MemHandle, crate::platform::FsError> {
        let st = self.stat(path)?;
        if st.is_dir {
            return Err(crate::platform::FsError::Io);
        }
        self.open_handles += 1;
        Ok(MemHandle {
            name: path.try_into().unwrap(),
            upload: false,
        })
    }

    fn open_upload(
        &mut self,
        path: &str,
        start: crate::platform::UploadStart,
    ) -> Result<(MemHandle, crate::platform::Staged), crate::platform::FsError> {
        use crate::platform::{FsError, UploadStart};
        Self::check(path)?;
        if self.read_only {
            return Err(FsError::RoFs);
        }
        // LittleFS: opening a directory for writing is -EISDIR.
        if path == "/lfs1" || self.files.iter().any(|f| f.name == path && f.is_dir) {
            return Err(FsError::Io);
        }
        let (data, total): (heapless::Vec<u8, MEM_FILE_CAP>, u64) = match start {
            UploadStart::Resume => (
                self.get(path)
                    .map(|d| heapless::Vec::from_slice(d).unwrap())
                    .unwrap_or_default(),
                0,
            ),
            UploadStart::New { total } => (heapless::Vec::new(), total),
        };
        self.staged.retain(|f| f.name != path);
        let staged = crate::platform::Staged {
            len: data.len() as u64,
            total,
        };
        self.staged
            .push(MemFile {
                name: path.try_into().unwrap(),
                data,
                is_dir: false,
                total,
            })
            .map_err(|_| FsError::Io)?;
        self.open_handles += 1;
        Ok((
            MemHandle {
                name: path.try_into().unwrap(),
                upload: true,
            },
            staged,
        ))
    }

    fn read(
        &mut self,
        file: &mut MemHandle,
        off: u64,
        buf: &mut [u8],
    ) -> Result<usize, crate::platform::FsError> {
        if self.fail_read {
            return Err(crate::platform::FsError::Io);
        }
        let data = self.get(&file.name).ok_or(crate::platform::FsError::Io)?;
        let off = (off as usize).min(data.len());
        let n = buf.len().min(data.len() - off);
        buf[..n].copy_from_slice(&data[off..off + n]);
        Ok(n)
    }

    fn write(
        &mut self,
        file: &mut MemHandle,
        off: u64,
        data: &[u8],
    ) -> Result<(), crate::platform::FsError> {
        use crate::platform::FsError;
        if self.fail_write || !file.upload {
            return Err(FsError::Io);
        }
        let f = self
            .staged
            .iter_mut()
            .find(|f| f.name == file.name)
            .ok_or(FsError::Io)?;
        let off = off as usize;
        if off > f.data.len() {
            f.data.resize(off, 0).map_err(|_| FsError::Io)?;
        }
        f.data.truncate(off);
        f.data.extend_from_slice(data).map_err(|_| FsError::Io)
    }

    fn close(&mut self, file: MemHandle, commit: bool) -> Result<(), crate::platform::FsError> {
        self.open_handles -= 1;
        if file.upload && !commit {
            self.staged.retain(|f| f.name != file.name);
        }
        if file.upload && commit {
            let i = self
                .staged
                .iter()
                .position(|f| f.name == file.name)
                .ok_or(crate::platform::FsError::Io)?;
            let f = self.staged.swap_remove(i);
            self.files.retain(|g| g.name != f.name);
            self.files
                .push(f)
                .map_err(|_| crate::platform::FsError::Io)?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Statistics.

/// Two statistics groups: `smp_svr_stats` (`ticks`), as the sample registers, and `big`
/// (`wide`, a 64-bit counter).
#[derive(Debug, Clone, Default)]
pub struct FakeStats {
    /// `smp_svr_stats.ticks`.
    pub ticks: u32,
    /// `big.wide`.
    pub big: u64,
}

impl crate::platform::Stats for FakeStats {
    fn groups(&mut self, f: &mut dyn FnMut(&str) -> Result<(), Error>) -> Result<(), Error> {
        f("smp_svr_stats")?;
        f("big")
    }

    fn counters(
        &mut self,
        group: &str,
        f: &mut dyn FnMut(&str, u64) -> Result<(), Error>,
    ) -> Result<bool, Error> {
        match group {
            "smp_svr_stats" => f("ticks", self.ticks.into())?,
            "big" => f("wide", self.big)?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

// ---------------------------------------------------------------------------------------
// Shell.

/// A shell with two commands: `kernel uptime` and `echo ARGS...` (prints its arguments and
/// a newline); anything else prints `<cmd>: command not found` and returns -ENOEXEC (-8).
#[derive(Debug, Clone, Default)]
pub struct FakeShell {
    /// The last line executed.
    pub last: heapless::String<256>,
}

impl crate::platform::Shell for FakeShell {
    fn exec(&mut self, line: &str, out: &mut dyn core::fmt::Write) -> i32 {
        self.last.clear();
        let _ = self.last.push_str(line);
        if line == "kernel uptime" {
            let _ = out.write_str("Uptime: 1234 ms\n");
            return 0;
        }
        if let Some(rest) = line.strip_prefix("echo ") {
            let _ = out.write_str(rest);
            let _ = out.write_str("\n");
            return 0;
        }
        let cmd = line.split(' ').next().unwrap_or("");
        let _ = writeln!(out, "{cmd}: command not found");
        -8
    }
}

// ---------------------------------------------------------------------------------------
// Settings.

/// A settings store in RAM with registered roots (handlers). Under any root, the key
/// `ro` is read-only (write and delete unsupported) and `wo` write-only (read
/// unsupported).
#[derive(Debug, Clone, Default)]
pub struct FakeSettings {
    /// Registered roots.
    pub roots: heapless::Vec<heapless::String<16>, 4>,
    /// Values.
    pub values: heapless::Vec<(heapless::String<64>, heapless::Vec<u8, 64>), 16>,
    /// Commit, load and save counts.
    pub commits: u32,
    /// Loads.
    pub loads: u32,
    /// Saves.
    pub saves: u32,
    /// The subtree of the last save.
    pub last_subtree: Option<heapless::String<64>>,
    /// Refuse saves as unsupported.
    pub no_save: bool,
}

impl FakeSettings {
    /// A store with handlers for `roots`.
    pub fn with_roots(roots: &[&str]) -> Self {
        let mut s = FakeSettings::default();
        for r in roots {
            s.roots.push((*r).try_into().unwrap()).unwrap();
        }
        s
    }

    /// The value of `name`.
    pub fn value(&self, name: &str) -> Option<&[u8]> {
        self.values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| &v[..])
    }

    fn check(&self, name: &str) -> Result<&'static str, crate::platform::SettingsError> {
        let (root, key) = name.split_once('/').unwrap_or((name, ""));
        if !self.roots.iter().any(|r| r == root) {
            return Err(crate::platform::SettingsError::NoRoot);
        }
        Ok(match key {
            "ro" => "ro",
            "wo" => "wo",
            _ => "",
        })
    }
}

impl crate::platform::Settings for FakeSettings {
    fn get(&mut self, name: &str, buf: &mut [u8]) -> Result<usize, crate::platform::SettingsError> {
        if self.check(name)? == "wo" {
            return Err(crate::platform::SettingsError::NotSup);
        }
        let v = self
            .value(name)
            .ok_or(crate::platform::SettingsError::NotFound)?;
        let n = v.len().min(buf.len());
        buf[..n].copy_from_slice(&v[..n]);
        Ok(v.len())
    }

    fn set(&mut self, name: &str, val: &[u8]) -> Result<(), crate::platform::SettingsError> {
        use crate::platform::SettingsError;
        if self.check(name)? == "ro" {
            return Err(SettingsError::NotSup);
        }
        self.values.retain(|(n, _)| n != name);
        let n = name.try_into().map_err(|_| SettingsError::Other)?;
        let v = heapless::Vec::from_slice(val).map_err(|_| SettingsError::Other)?;
        self.values.push((n, v)).map_err(|_| SettingsError::Other)
    }

    fn delete(&mut self, name: &str) -> Result<(), crate::platform::SettingsError> {
        if self.check(name)? == "ro" {
            return Err(crate::platform::SettingsError::NotSup);
        }
        let before = self.values.len();
        self.values.retain(|(n, _)| n != name);
        if self.values.len() == before {
            return Err(crate::platform::SettingsError::NotFound);
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<(), crate::platform::SettingsError> {
        self.commits += 1;
        Ok(())
    }

    fn load(&mut self) -> Result<(), crate::platform::SettingsError> {
        self.loads += 1;
        Ok(())
    }

    fn save(&mut self, subtree: Option<&str>) -> Result<(), crate::platform::SettingsError> {
        if self.no_save {
            return Err(crate::platform::SettingsError::NotSup);
        }
        self.saves += 1;
        self.last_subtree = subtree.map(|s| s.try_into().unwrap());
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Storage partition.

/// A storage partition that counts erases and can fail.
#[derive(Debug, Clone, Default)]
pub struct FakeStorage {
    /// Successful erases.
    pub erases: u32,
    /// Fail with this error.
    pub fail: Option<crate::platform::EraseError>,
}

impl crate::platform::StorageErase for FakeStorage {
    fn erase_storage(&mut self) -> Result<(), crate::platform::EraseError> {
        if let Some(e) = self.fail {
            return Err(e);
        }
        self.erases += 1;
        Ok(())
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
