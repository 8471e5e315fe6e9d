//! The host file system: a sandboxed directory served under the mount point `/lfs1`, the
//! smp_svr sample's littlefs mount.
//!
//! A client name `/lfs1/log.txt` maps to `<root>/log.txt` (root defaults to
//! `<state>/fs`). No name reaches outside the root:
//!
//! - names must start with `/lfs1/` (or be `/lfs1`); any other name is "no such mount
//!   point" ([`FsError::NoEnt`]: FS error 3 for reads, 14 for uploads), as on a board
//!   (names Zephyr's VFS refuses, `x` or `/`, are error 2 before they get here);
//! - NUL bytes, empty, `.` and `..` components, names over [`NAME_MAX`] bytes, and the
//!   reserved staging directory are refused as invalid names ([`FsError::Inval`]: FS
//!   error 2). This is hardening: Zephyr's VFS passes `..` on to LittleFS, which has no
//!   host tree to escape from;
//! - symbolic links inside the root are followed only if they resolve inside it: every
//!   existing prefix of the name is canonicalised and checked, dangling links are refused,
//!   files are opened with `O_NOFOLLOW`, and after every open the descriptor's real path
//!   (`/proc/self/fd/N`) is checked again, so a link swapped in meanwhile is caught.
//!
//! Every refusal is logged with `log::warn!`.
//!
//! Uploads follow the [`Fs`] session contract, as LittleFS behaves. Each session writes a
//! file in `<root>/.smp-upload/` (invisible to clients): empty for [`UploadStart::New`], a
//! copy of the visible file for [`UploadStart::Resume`] (an append). Closing it with commit
//! syncs it and renames it over the target (relative to a verified directory descriptor);
//! closing without commit removes it and leaves the target as it was. When the group
//! commits is the contract's business (whenever a context that wrote data closes, and at
//! once for a new file, which so becomes visible at its first chunk); until then clients see
//! the file as last committed. The announced total is not stored: a resumed session reports
//! 0. A crash (SIGKILL, power cut) loses the open sessions, as LittleFS forgets unsynced
//! writes: their files are removed at the next start. An upload to a directory, the mount
//! point included, fails as LittleFS's `-EISDIR` does ([`FsError::Io`]: FS error 1).

use std::ffi::CString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Component, Path, PathBuf};

use smp::platform::{Fs, FsError, FsStat, Staged, UploadStart};

/// The mount point clients see.
pub const MOUNT: &str = "/lfs1";

/// Longest accepted client name, in bytes.
pub const NAME_MAX: usize = 255;

/// The staging directory inside the root (refused as a client name).
pub const STAGING_DIR: &str = ".smp-upload";

/// The default root for a state directory: `<state>/fs`.
pub fn default_root(state: &Path) -> PathBuf {
    state.join("fs")
}

/// An open file of a [`HostFs`].
#[derive(Debug)]
pub struct HostFile {
    file: File,
    /// For uploads: the staging file and the client name of the target.
    upload: Option<(PathBuf, String)>,
}

/// The sandboxed host file system.
#[derive(Debug)]
pub struct HostFs {
    /// Canonical root.
    root: PathBuf,
    staging: PathBuf,
}

impl HostFs {
    /// Serves `root` (created if missing) under [`MOUNT`].
    pub fn new(root: impl AsRef<Path>) -> io::Result<Self> {
        fs::create_dir_all(root.as_ref())?;
        let root = fs::canonicalize(root.as_ref())?;
        let staging = root.join(STAGING_DIR);
        // Sessions of a previous run were never synced: gone, as on LittleFS.
        if staging.is_dir() {
            for e in fs::read_dir(&staging)? {
                let p = e?.path();
                if let Err(e) = fs::remove_file(&p) {
                    log::warn!("fs: cannot remove stale upload {}: {e}", p.display());
                }
            }
        }
        fs::create_dir_all(&staging)?;
        Ok(HostFs { root, staging })
    }

    /// The canonical root directory.
    #[cfg(test)]
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn refuse(&self, name: &str, why: &str, e: FsError) -> FsError {
        log::warn!("fs: refused {name:?}: {why}");
        e
    }

    /// The relative path of a client name, checked lexically.
    fn relative<'n>(&self, name: &'n str) -> Result<&'n str, FsError> {
        if name.as_bytes().contains(&0) {
            return Err(self.refuse(name, "NUL byte", FsError::Inval));
        }
        if name.len() > NAME_MAX {
            return Err(self.refuse(name, "name too long", FsError::Inval));
        }
        let rest = match name.strip_prefix(MOUNT) {
            Some("") | Some("/") => return Ok(""),
            Some(r) if r.starts_with('/') => &r[1..],
            _ => return Err(self.refuse(name, "not under the mount point /lfs1", FsError::NoEnt)),
        };
        for (i, c) in rest.split('/').enumerate() {
            match c {
                "" => return Err(self.refuse(name, "empty path component", FsError::Inval)),
                "." | ".." => return Err(self.refuse(name, "dot component", FsError::Inval)),
                STAGING_DIR if i == 0 => {
                    return Err(self.refuse(name, "reserved directory", FsError::Inval))
                }
                _ if c.len() > NAME_MAX => {
                    return Err(self.refuse(name, "component too long", FsError::Inval))
                }
                _ => {}
            }
        }
        Ok(rest)
    }

    /// Resolves a client name to a host path inside the root. Existing prefixes are
    /// canonicalised (following links) and must stay inside the root; the part that does
    /// not exist yet is appended as is.
    fn resolve(&self, name: &str) -> Result<PathBuf, FsError> {
        let rel = self.relative(name)?;
        let mut path = self.root.clone();
        let mut missing = false;
        for c in Path::new(rel).components() {
            let Component::Normal(c) = c else {
                return Err(self.refuse(name, "unexpected component", FsError::Inval));
            };
            path.push(c);
            if missing {
                continue;
            }
            match fs::symlink_metadata(&path) {
                Ok(m) if m.file_type().is_symlink() => match fs::canonicalize(&path) {
                    Ok(real) if real.starts_with(&self.root) => {
                        if real.starts_with(&self.staging) {
                            return Err(self.refuse(name, "link into staging", FsError::Inval));
                        }
                        path = real;
                    }
                    Ok(real) => {
                        return Err(self.refuse(
                            name,
                            &format!("symlink leaves the root (to {})", real.display()),
                            FsError::Inval,
                        ))
                    }
                    Err(_) => return Err(self.refuse(name, "dangling symlink", FsError::Inval)),
                },
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => missing = true,
                Err(e) => return Err(io_err(&e)),
            }
        }
        Ok(path)
    }

    /// Checks that an open descriptor really lies inside the root (catches links swapped
    /// in between the checks and the open).
    fn verify_open(&self, name: &str, f: &File) -> Result<(), FsError> {
        let link = PathBuf::from(format!("/proc/self/fd/{}", f.as_raw_fd()));
        match fs::read_link(link) {
            Ok(real) if real.starts_with(&self.root) => Ok(()),
            Ok(real) => Err(self.refuse(
                name,
                &format!("opened file lies outside the root ({})", real.display()),
                FsError::Inval,
            )),
            // No procfs: the lexical and canonical checks stand.
            Err(_) => Ok(()),
        }
    }

    fn staging_path(&self, rel: &str) -> PathBuf {
        let mut s = String::with_capacity(rel.len() * 2);
        for b in rel.bytes() {
            s.push_str(&format!("{b:02x}"));
        }
        self.staging.join(s)
    }

    fn open_nofollow(
        &self,
        name: &str,
        path: &Path,
        opts: &mut OpenOptions,
    ) -> Result<File, FsError> {
        self.open_flags(name, path, opts, 0)
    }

    fn open_flags(
        &self,
        name: &str,
        path: &Path,
        opts: &mut OpenOptions,
        flags: i32,
    ) -> Result<File, FsError> {
        let f = opts
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | flags)
            .open(path)
            .map_err(|e| {
                if e.raw_os_error() == Some(libc::ELOOP) {
                    self.refuse(name, "symlink at open", FsError::Inval)
                } else {
                    io_err(&e)
                }
            })?;
        self.verify_open(name, &f)?;
        Ok(f)
    }
}

/// Maps an I/O error to the errno class the FS group understands.
fn io_err(e: &io::Error) -> FsError {
    match e.raw_os_error() {
        Some(libc::ENOENT) | Some(libc::ENOTDIR) => FsError::NoEnt,
        Some(libc::EROFS) => FsError::RoFs,
        Some(libc::ENAMETOOLONG) | Some(libc::ELOOP) | Some(libc::EINVAL) => FsError::Inval,
        Some(libc::ENOTSUP) => FsError::NotSup,
        _ => FsError::Io,
    }
}

impl Fs for HostFs {
    type File = HostFile;

    fn stat(&mut self, path: &str) -> Result<FsStat, FsError> {
        let p = self.resolve(path)?;
        let m = fs::symlink_metadata(&p).map_err(|e| io_err(&e))?;
        Ok(FsStat {
            len: if m.is_dir() { 0 } else { m.len() },
            is_dir: m.is_dir(),
        })
    }

    fn open_read(&mut self, path: &str) -> Result<HostFile, FsError> {
        let p = self.resolve(path)?;
        let file = self.open_nofollow(path, &p, OpenOptions::new().read(true))?;
        Ok(HostFile { file, upload: None })
    }

    fn open_upload(
        &mut self,
        path: &str,
        start: UploadStart,
    ) -> Result<(HostFile, Staged), FsError> {
        let target = self.resolve(path)?;
        // LittleFS refuses to open a directory for writing (-EISDIR), the mount point too.
        if target == self.root || fs::symlink_metadata(&target).is_ok_and(|m| m.is_dir()) {
            return Err(self.refuse(path, "a directory", FsError::Io));
        }
        // The target's directory must exist (littlefs does not create directories).
        let parent = target.parent().ok_or(FsError::Inval)?;
        if !parent.is_dir() {
            return Err(FsError::NoEnt);
        }
        let rel = self.relative(path)?;
        let staging = self.staging_path(rel);
        let total = match start {
            UploadStart::New { total } => total,
            UploadStart::Resume => 0,
        };
        let mut dst = self.open_nofollow(
            path,
            &staging,
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true),
        )?;
        if start == UploadStart::Resume {
            // An append starts from the file as last synced.
            match self.open_read(path) {
                Ok(src) => {
                    let mut src = src.file;
                    io::copy(&mut src, &mut dst).map_err(|e| io_err(&e))?;
                }
                Err(FsError::NoEnt) => {}
                Err(e) => return Err(e),
            }
        }
        let len = dst.metadata().map_err(|e| io_err(&e))?.len();
        Ok((
            HostFile {
                file: dst,
                upload: Some((staging, path.to_owned())),
            },
            Staged { len, total },
        ))
    }

    fn read(&mut self, file: &mut HostFile, off: u64, buf: &mut [u8]) -> Result<usize, FsError> {
        let mut n = 0;
        while n < buf.len() {
            match file.file.read_at(&mut buf[n..], off + n as u64) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(io_err(&e)),
            }
        }
        Ok(n)
    }

    fn write(&mut self, file: &mut HostFile, off: u64, data: &[u8]) -> Result<(), FsError> {
        if file.upload.is_none() {
            return Err(FsError::Inval);
        }
        file.file.write_all_at(data, off).map_err(|e| io_err(&e))
    }

    fn close(&mut self, file: HostFile, commit: bool) -> Result<(), FsError> {
        let Some((staging, name)) = file.upload else {
            return Ok(());
        };
        if !commit {
            // Nothing to publish: drop the session.
            drop(file.file);
            let _ = fs::remove_file(&staging);
            return Ok(());
        }
        file.file.sync_all().map_err(|e| io_err(&e))?;
        drop(file.file);
        // Resolve the target again (the tree may have changed during the transfer), open its
        // directory without following links, check where that descriptor really is, and
        // rename relative to it, so a directory swapped for a link cannot redirect the
        // rename outside the root.
        let target = self.resolve(&name)?;
        if fs::symlink_metadata(&target).is_ok_and(|m| m.is_dir()) {
            return Err(FsError::Io);
        }
        let (Some(parent), Some(base)) = (target.parent(), target.file_name()) else {
            return Err(FsError::Inval);
        };
        let dir = self.open_flags(
            &name,
            parent,
            OpenOptions::new().read(true),
            libc::O_DIRECTORY,
        )?;
        let from = CString::new(staging.as_os_str().as_bytes()).map_err(|_| FsError::Inval)?;
        let to = CString::new(base.as_bytes()).map_err(|_| FsError::Inval)?;
        // SAFETY: both names are NUL-terminated C strings that outlive the call; `from` is
        // absolute (so AT_FDCWD is ignored) and `to` is relative to `dir`, an open directory
        // descriptor owned by this function.
        let rc =
            unsafe { libc::renameat(libc::AT_FDCWD, from.as_ptr(), dir.as_raw_fd(), to.as_ptr()) };
        if rc != 0 {
            return Err(io_err(&io::Error::last_os_error()));
        }
        let _ = dir.sync_all();
        log::info!("fs: {name} written ({})", target.display());
        Ok(())
    }
}

/// Lets tests name a path without the mount prefix.
#[cfg(test)]
fn on(p: &str) -> String {
    format!("{MOUNT}/{p}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::os::unix::fs::symlink;

    const NEW: UploadStart = UploadStart::New { total: 0 };
    const RESUME: UploadStart = UploadStart::Resume;

    /// Every file under `dir` with its content (symlinks as their target).
    fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut out = BTreeMap::new();
        let mut todo = vec![dir.to_path_buf()];
        while let Some(d) = todo.pop() {
            for e in fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                let m = fs::symlink_metadata(&p).unwrap();
                if m.file_type().is_symlink() {
                    out.insert(
                        p.clone(),
                        fs::read_link(&p).unwrap().as_os_str().as_bytes().to_vec(),
                    );
                } else if m.is_dir() {
                    out.insert(p.clone(), b"<dir>".to_vec());
                    todo.push(p);
                } else {
                    out.insert(p.clone(), fs::read(&p).unwrap());
                }
            }
        }
        out
    }

    struct Sandbox {
        _tmp: tempfile::TempDir,
        outside: PathBuf,
        fs: HostFs,
    }

    /// A root `<tmp>/state/fs` next to `<tmp>/outside` (holding `secret`), with links
    /// pointing out of the root and one pointing inside.
    fn sandbox() -> Sandbox {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tmp.path().join("outside");
        fs::create_dir(&outside).unwrap();
        fs::write(outside.join("secret"), b"top secret").unwrap();
        let root = default_root(&tmp.path().join("state"));
        let fs = HostFs::new(&root).unwrap();
        fs::create_dir(root.join("sub")).unwrap();
        fs::write(root.join("sub/inner"), b"inner").unwrap();
        symlink(&outside, root.join("dir_out")).unwrap();
        symlink(outside.join("secret"), root.join("file_out")).unwrap();
        symlink("../../outside/secret", root.join("rel_out")).unwrap();
        symlink(outside.join("nonexistent"), root.join("dangling_out")).unwrap();
        symlink("sub/inner", root.join("link_in")).unwrap();
        Sandbox {
            _tmp: tmp,
            outside,
            fs,
        }
    }

    #[test]
    fn maps_names_under_the_mount_point() {
        let mut s = sandbox();
        let (mut f, n) = s.fs.open_upload("/lfs1/log.txt", NEW).unwrap();
        assert_eq!(n, Staged::default());
        s.fs.write(&mut f, 0, b"hello").unwrap();
        s.fs.close(f, true).unwrap();
        assert_eq!(fs::read(s.fs.root().join("log.txt")).unwrap(), b"hello");
        assert_eq!(
            s.fs.stat("/lfs1/log.txt").unwrap(),
            FsStat {
                len: 5,
                is_dir: false
            }
        );
        assert!(s.fs.stat("/lfs1").unwrap().is_dir);
        assert!(s.fs.stat("/lfs1/sub").unwrap().is_dir);
        let mut r = s.fs.open_read(&on("sub/inner")).unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(s.fs.read(&mut r, 1, &mut buf).unwrap(), 4);
        assert_eq!(&buf[..4], b"nner");
        // a link that stays inside the root is followed
        let mut r = s.fs.open_read("/lfs1/link_in").unwrap();
        assert_eq!(s.fs.read(&mut r, 0, &mut buf).unwrap(), 5);
        assert_eq!(s.fs.stat("/lfs1/missing"), Err(FsError::NoEnt));
    }

    #[test]
    fn upload_sessions_publish_at_commit() {
        let mut s = sandbox();
        fs::write(s.fs.root().join("cfg"), b"good").unwrap();
        let (mut f, staged) =
            s.fs.open_upload("/lfs1/cfg", UploadStart::New { total: 11 })
                .unwrap();
        assert_eq!(staged, Staged { len: 0, total: 11 });
        s.fs.write(&mut f, 0, b"new cont").unwrap();
        // while open, readers see the file as last synced
        assert_eq!(fs::read(s.fs.root().join("cfg")).unwrap(), b"good");
        assert_eq!(s.fs.stat("/lfs1/cfg").unwrap().len, 4);
        s.fs.close(f, true).unwrap();
        assert_eq!(fs::read(s.fs.root().join("cfg")).unwrap(), b"new cont");
        // an append starts from the file's content
        let (mut f, staged) = s.fs.open_upload("/lfs1/cfg", RESUME).unwrap();
        assert_eq!(staged, Staged { len: 8, total: 0 });
        s.fs.write(&mut f, 8, b"ent").unwrap();
        s.fs.close(f, true).unwrap();
        assert_eq!(fs::read(s.fs.root().join("cfg")).unwrap(), b"new content");
        // a session closed without commit leaves the file and no session file behind
        let (mut f, _) = s.fs.open_upload("/lfs1/cfg", NEW).unwrap();
        s.fs.write(&mut f, 0, b"x").unwrap();
        s.fs.close(f, false).unwrap();
        assert_eq!(fs::read(s.fs.root().join("cfg")).unwrap(), b"new content");
        assert_eq!(fs::read_dir(&s.fs.staging).unwrap().count(), 0);
        // a session left by a crash is gone at the next start
        let (mut f, _) = s.fs.open_upload("/lfs1/cfg", NEW).unwrap();
        s.fs.write(&mut f, 0, b"lost").unwrap();
        drop(f); // the process dies with the session open
        let fs2 = HostFs::new(s.fs.root()).unwrap();
        assert_eq!(fs::read_dir(&fs2.staging).unwrap().count(), 0);
        assert_eq!(fs::read(s.fs.root().join("cfg")).unwrap(), b"new content");
        // uploads into a missing directory: no such mount point / directory; to a
        // directory (the mount point too): an I/O error, as LittleFS's -EISDIR
        assert!(matches!(
            s.fs.open_upload("/lfs1/nodir/x", NEW),
            Err(FsError::NoEnt)
        ));
        assert!(matches!(s.fs.open_upload("/lfs1", NEW), Err(FsError::Io)));
        assert!(matches!(
            s.fs.open_upload("/lfs1/sub", NEW),
            Err(FsError::Io)
        ));
    }

    #[test]
    fn path_escapes_are_refused_and_touch_nothing_outside() {
        let mut s = sandbox();
        let long = format!("/lfs1/{}", "a".repeat(300));
        // (name, expected error)
        let cases: Vec<(String, FsError)> = vec![
            ("/lfs1/../outside/secret".into(), FsError::Inval), // 1 dot-dot
            ("/lfs1/sub/../../outside/secret".into(), FsError::Inval), // 2 nested dot-dot
            ("/lfs1/./sub/inner".into(), FsError::Inval),       // 3 dot component
            ("/etc/passwd".into(), FsError::NoEnt),             // 4 absolute, no mount
            ("lfs1/sub/inner".into(), FsError::NoEnt),          // 5 relative name
            ("/lfs10/secret".into(), FsError::NoEnt),           // 6 mount-prefix confusion
            ("/lfs1/a\0b".into(), FsError::Inval),              // 7 NUL byte
            (long, FsError::Inval),                             // 8 over-long name
            ("/lfs1//etc/passwd".into(), FsError::Inval),       // 9 empty component
            ("/lfs1/dir_out/secret".into(), FsError::Inval),    // 10 dir symlink out
            ("/lfs1/file_out".into(), FsError::Inval),          // 11 file symlink out
            ("/lfs1/rel_out".into(), FsError::Inval),           // 12 relative symlink out
            ("/lfs1/dangling_out".into(), FsError::Inval),      // 13 dangling link out
            ("/lfs1/dir_out/new".into(), FsError::Inval),       // 14 create through link
            ("/lfs1/.smp-upload/x".into(), FsError::Inval),     // 15 staging directory
            ("/lfs1/sub/".into(), FsError::Inval),              // 16 trailing slash
            ("".into(), FsError::NoEnt),                        // 17 empty name
        ];
        let before = snapshot(&s.outside);
        let root_before = snapshot(s.fs.root());
        for (i, (name, want)) in cases.iter().enumerate() {
            assert_eq!(s.fs.stat(name).err(), Some(*want), "stat case {}", i + 1);
            assert_eq!(
                s.fs.open_read(name).err(),
                Some(*want),
                "read case {}",
                i + 1
            );
            assert_eq!(
                s.fs.open_upload(name, NEW).err(),
                Some(*want),
                "upload case {}",
                i + 1
            );
            assert_eq!(
                s.fs.open_upload(name, RESUME).err(),
                Some(*want),
                "resume case {}",
                i + 1
            );
        }
        assert_eq!(
            snapshot(&s.outside),
            before,
            "nothing outside the root changed"
        );
        assert_eq!(snapshot(s.fs.root()), root_before, "nothing inside either");
    }

    #[test]
    fn link_swapped_in_during_an_upload_is_caught_at_commit() {
        let mut s = sandbox();
        let (mut f, _) = s.fs.open_upload("/lfs1/late", NEW).unwrap();
        s.fs.write(&mut f, 0, b"payload").unwrap();
        // meanwhile someone replaces the target's directory path with a link out
        fs::create_dir(s.fs.root().join("d")).unwrap();
        let before = snapshot(&s.outside);
        s.fs.close(f, true).unwrap();
        // a directory swapped for a link before the commit of a file inside it
        let (mut f, _) = s.fs.open_upload("/lfs1/d/x", NEW).unwrap();
        s.fs.write(&mut f, 0, b"evil").unwrap();
        fs::remove_dir(s.fs.root().join("d")).unwrap();
        symlink(&s.outside, s.fs.root().join("d")).unwrap();
        assert_eq!(s.fs.close(f, true), Err(FsError::Inval));
        assert_eq!(snapshot(&s.outside), before);
        // reading an opened descriptor outside the root is refused after the open
        let f = File::open(s.outside.join("secret")).unwrap();
        assert_eq!(s.fs.verify_open("x", &f), Err(FsError::Inval));
    }

    #[test]
    fn staging_names_do_not_collide() {
        let s = sandbox();
        assert_ne!(s.fs.staging_path("a/b"), s.fs.staging_path("a_b"));
        assert!(s
            .fs
            .staging_path("a/b")
            .starts_with(s.fs.root().join(STAGING_DIR)));
    }

    /// Through the FS group and the dispatcher: an upload in two chunks, a download, and
    /// escape attempts answered with Zephyr's FS error codes.
    #[test]
    fn serves_the_fs_group() {
        use smp::groups::fs::FsGroup;
        use smp::server::{Config, Meta, Server};

        fn cbor_req(op: u8, id: u8, keys: &[(&str, Val)]) -> Vec<u8> {
            let mut b = vec![0xbf];
            for (k, v) in keys {
                b.push(0x60 | k.len() as u8);
                b.extend_from_slice(k.as_bytes());
                match v {
                    Val::U(n) => {
                        assert!(*n < 24);
                        b.push(*n as u8);
                    }
                    Val::S(t) => {
                        assert!(t.len() < 24);
                        b.push(0x60 | t.len() as u8);
                        b.extend_from_slice(t.as_bytes());
                    }
                    Val::B(d) => {
                        assert!(d.len() < 24);
                        b.push(0x40 | d.len() as u8);
                        b.extend_from_slice(d);
                    }
                }
            }
            b.push(0xff);
            let mut p = vec![op, 0, 0, b.len() as u8, 0, 8, 0, id];
            p.extend_from_slice(&b);
            p
        }
        enum Val<'a> {
            U(u64),
            S(&'a str),
            B(&'a [u8]),
        }
        use Val::*;

        let s = sandbox();
        let outside = s.outside.clone();
        let root = s.fs.root().to_path_buf();
        let before = snapshot(&outside);
        let mut g: FsGroup<HostFs> = FsGroup::new(s.fs, Default::default());
        let mut server: Server<'_, 1> = Server::new(Config::default());
        server.register(&mut g).unwrap();
        let mut tx = [0u8; 512];
        let mut ask = |req: Vec<u8>| {
            let mut out = Vec::new();
            server.process(Meta::default(), &req, &mut tx, |r| {
                out.extend_from_slice(&r[8..])
            });
            out
        };
        let ok3 = [0xbf, 0x63, b'o', b'f', b'f', 3, 0xff];
        let up0 = cbor_req(
            0x0a,
            0,
            &[
                ("name", S("/lfs1/log.txt")),
                ("off", U(0)),
                ("data", B(b"abc")),
                ("len", U(6)),
            ],
        );
        assert_eq!(ask(up0), ok3);
        // created at the first chunk, with its last synced size
        assert_eq!(fs::read(root.join("log.txt")).unwrap(), b"");
        let up1 = cbor_req(
            0x0a,
            0,
            &[
                ("name", S("/lfs1/log.txt")),
                ("off", U(3)),
                ("data", B(b"def")),
            ],
        );
        assert_eq!(ask(up1)[5], 6);
        assert_eq!(fs::read(root.join("log.txt")).unwrap(), b"abcdef");
        let down = cbor_req(0x08, 0, &[("name", S("/lfs1/log.txt")), ("off", U(0))]);
        let rsp = ask(down);
        assert_eq!(
            &rsp[6..17],
            &[0x64, b'd', b'a', b't', b'a', 0x46, b'a', b'b', b'c', b'd', b'e']
        );
        // escapes: v2 group errors; nothing outside changes
        let err = |rc: u8| {
            vec![
                0xbf, 0x63, b'e', b'r', b'r', 0xbf, 0x65, b'g', b'r', b'o', b'u', b'p', 8, 0x62,
                b'r', b'c', rc, 0xff, 0xff,
            ]
        };
        for (name, up_rc, down_rc) in [
            ("/lfs1/../x", 2, 2),
            ("/lfs1/file_out", 2, 2),
            ("/lfs1/dir_out/x", 2, 2),
            ("/tmp/x", 14, 3),
        ] {
            let up = cbor_req(
                0x0a,
                0,
                &[
                    ("name", S(name)),
                    ("off", U(0)),
                    ("data", B(b"x")),
                    ("len", U(1)),
                ],
            );
            assert_eq!(ask(up), err(up_rc), "upload {name}");
            let down = cbor_req(0x08, 0, &[("name", S(name)), ("off", U(0))]);
            assert_eq!(ask(down), err(down_rc), "download {name}");
        }
        assert_eq!(snapshot(&outside), before);
    }
}
