//! [`MemFs`]: a RAM file system that keeps the upload contract of
//! [`Fs`](crate::platform::Fs).

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
