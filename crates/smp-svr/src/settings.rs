//! The host settings store: Zephyr's settings subsystem over one file in the state
//! directory (`<state>/settings`).
//!
//! The store models Zephyr's settings subsystem as a set of registered handlers, one per
//! root name (`--settings-root`, default `app`): each holds the running values of every
//! key under its root (`app`, `app/x`, `app/x/y`), as an application handler that accepts
//! any key of its subtree does. There is no catch-all: a name whose first component no
//! handler registered (`zz`, `t/a`) is "root key not found" for read and write, as
//! `settings_runtime_get`/`_set` fail in `settings_parse_and_lookup` (-EINVAL).
//!
//! As on Zephyr, `write` changes the running configuration, `save` persists it (all of it,
//! or one subtree), `load` applies the persisted values of registered roots over the
//! running ones, and `commit` applies the running configuration (a no-op here, counted).
//! `delete` is Zephyr's `settings_delete`, a save of no value: it removes the persisted
//! entry only (whatever its root), succeeds when there is none, and leaves the running
//! value a handler holds as it is (a later `save` writes it again). Every write of
//! the file is crash-safe: the new content goes to a temporary file that is synced and then
//! renamed over the old one, and the directory is synced, so a crash leaves either the old
//! or the new file, never a torn one.
//!
//! The file is text, one `name value` line per key, both hex-encoded (names and values
//! are arbitrary bytes to clients). Lines that do not parse are skipped with a warning.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use smp::platform::{Settings, SettingsError};

use crate::flash::PowerMeter;

/// The file name inside the state directory.
pub const FILE_NAME: &str = "settings";

/// A persistent settings store.
#[derive(Debug)]
pub struct FileSettings {
    path: PathBuf,
    running: BTreeMap<Vec<u8>, Vec<u8>>,
    roots: Vec<String>,
    commits: u64,
    meter: PowerMeter,
}

impl FileSettings {
    /// Opens (or creates) the store in `state_dir` with handlers for `roots`, and loads
    /// it (`settings_load` at boot: persisted values of registered roots only).
    pub fn open<R: AsRef<str>>(state_dir: &Path, roots: &[R]) -> io::Result<Self> {
        fs::create_dir_all(state_dir)?;
        let mut s = FileSettings {
            path: state_dir.join(FILE_NAME),
            running: BTreeMap::new(),
            roots: roots.iter().map(|r| r.as_ref().to_owned()).collect(),
            commits: 0,
            meter: PowerMeter::default(),
        };
        let stored = s.read_file()?;
        s.apply(stored);
        Ok(s)
    }

    /// Counts every later write of the file as one flash operation in `meter` (the
    /// settings partition is flash on a board; see [`mod@crate::flash`], "Power cuts").
    pub fn meter_into(&mut self, meter: PowerMeter) {
        self.meter = meter;
    }

    /// Applies persisted values to the handlers that registered their roots.
    fn apply(&mut self, stored: BTreeMap<Vec<u8>, Vec<u8>>) {
        for (k, v) in stored {
            let registered = std::str::from_utf8(&k).is_ok_and(|n| self.check_root(n).is_ok());
            if registered {
                self.running.insert(k, v);
            }
        }
    }

    /// The file the store persists to.
    #[cfg(test)]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of commits so far.
    #[cfg(test)]
    pub fn commits(&self) -> u64 {
        self.commits
    }

    /// The running value of `name`.
    #[cfg(test)]
    pub fn value(&self, name: &str) -> Option<&[u8]> {
        self.running.get(name.as_bytes()).map(Vec::as_slice)
    }

    fn check_root(&self, name: &str) -> Result<(), SettingsError> {
        let root = name.split('/').next().unwrap_or("");
        if self.roots.iter().any(|r| r == root) {
            Ok(())
        } else {
            Err(SettingsError::NoRoot)
        }
    }

    fn read_file(&self) -> io::Result<BTreeMap<Vec<u8>, Vec<u8>>> {
        let text = match fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(e) => return Err(e),
        };
        let mut map = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            let parsed = line
                .split_once(' ')
                .and_then(|(k, v)| Some((unhex(k)?, unhex(v)?)));
            match parsed {
                Some((k, v)) if !k.is_empty() => {
                    map.insert(k, v);
                }
                _ => log::warn!(
                    "settings: {}:{}: unreadable line skipped",
                    self.path.display(),
                    i + 1
                ),
            }
        }
        Ok(map)
    }

    /// Replaces the file with `map`, crash-safely.
    fn write_file(&self, map: &BTreeMap<Vec<u8>, Vec<u8>>) -> io::Result<()> {
        let mut text = String::new();
        for (k, v) in map {
            text.push_str(&hex(k));
            text.push(' ');
            text.push_str(&hex(v));
            text.push('\n');
        }
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let tmp = dir.join(format!(".{FILE_NAME}.tmp"));
        {
            let mut f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
        }
        fs::rename(&tmp, &self.path)?;
        File::open(dir)?.sync_all()?;
        self.meter.op();
        Ok(())
    }

    fn persist(
        &self,
        f: impl FnOnce(&mut BTreeMap<Vec<u8>, Vec<u8>>),
    ) -> Result<(), SettingsError> {
        let mut stored = self.read_file().map_err(|e| {
            log::warn!("settings: cannot read {}: {e}", self.path.display());
            SettingsError::Other
        })?;
        f(&mut stored);
        self.write_file(&stored).map_err(|e| {
            log::warn!("settings: cannot write {}: {e}", self.path.display());
            SettingsError::Other
        })
    }
}

fn in_subtree(name: &[u8], subtree: &[u8]) -> bool {
    name == subtree || (name.starts_with(subtree) && name.get(subtree.len()) == Some(&b'/'))
}

fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2 + 1);
    for x in b {
        s.push_str(&format!("{x:02x}"));
    }
    if b.is_empty() {
        // An empty value is written as "-" so the line keeps two fields.
        s.push('-');
    }
    s
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s == "-" {
        return Some(Vec::new());
    }
    if s.len() & 1 == 1 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

impl Settings for FileSettings {
    fn get(&mut self, name: &str, buf: &mut [u8]) -> Result<usize, SettingsError> {
        self.check_root(name)?;
        let v = self
            .running
            .get(name.as_bytes())
            .ok_or(SettingsError::NotFound)?;
        let n = v.len().min(buf.len());
        buf[..n].copy_from_slice(&v[..n]);
        Ok(v.len())
    }

    fn set(&mut self, name: &str, val: &[u8]) -> Result<(), SettingsError> {
        self.check_root(name)?;
        self.running.insert(name.as_bytes().to_vec(), val.to_vec());
        Ok(())
    }

    fn delete(&mut self, name: &str) -> Result<(), SettingsError> {
        // settings_delete is settings_save_one(name, NULL, 0): no handler is involved, so
        // neither the root nor the running value matters, and a missing entry is no error.
        self.persist(|m| {
            m.remove(name.as_bytes());
        })
    }

    fn commit(&mut self) -> Result<(), SettingsError> {
        self.commits += 1;
        Ok(())
    }

    fn load(&mut self) -> Result<(), SettingsError> {
        let stored = self.read_file().map_err(|e| {
            log::warn!("settings: cannot read {}: {e}", self.path.display());
            SettingsError::Other
        })?;
        // Loading applies the stored values over the running ones, as settings_load does
        // (to registered handlers only).
        self.apply(stored);
        Ok(())
    }

    fn save(&mut self, subtree: Option<&str>) -> Result<(), SettingsError> {
        let running = self.running.clone();
        match subtree {
            None => self.persist(|m| *m = running),
            Some(t) => {
                let t = t.as_bytes();
                self.persist(|m| {
                    m.retain(|k, _| !in_subtree(k, t));
                    m.extend(running.into_iter().filter(|(k, _)| in_subtree(k, t)));
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_survive_a_restart_only_when_saved() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = FileSettings::open(dir.path(), &["app", "a", "net", "network", "k"]).unwrap();
        s.set("app/a", b"1").unwrap();
        s.set("app/b", &[0, 0xff, b' ', b'\n']).unwrap();
        s.set("app/empty", b"").unwrap();
        s.save(None).unwrap();
        s.set("app/unsaved", b"x").unwrap();
        drop(s);
        let mut s = FileSettings::open(dir.path(), &["app", "a", "net", "network", "k"]).unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(s.get("app/b", &mut buf).unwrap(), 4);
        assert_eq!(&buf[..4], &[0, 0xff, b' ', b'\n']);
        assert_eq!(s.value("app/empty"), Some(&b""[..]));
        assert_eq!(s.get("app/unsaved", &mut buf), Err(SettingsError::NotFound));
    }

    #[test]
    fn delete_removes_the_persisted_value_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = FileSettings::open(dir.path(), &["a"]).unwrap();
        s.set("a/x", b"1").unwrap();
        s.save(None).unwrap();
        s.delete("a/x").unwrap();
        // the handler still holds its running value; deleting again, or a key that never
        // existed, or one under no registered root, succeeds
        assert_eq!(s.value("a/x"), Some(&b"1"[..]));
        s.delete("a/x").unwrap();
        s.delete("a/never").unwrap();
        s.delete("zz").unwrap();
        let s = FileSettings::open(dir.path(), &["a"]).unwrap();
        assert_eq!(s.value("a/x"), None);
    }

    #[test]
    fn subtree_save_and_load() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = FileSettings::open(dir.path(), &["app", "a", "net", "network", "k"]).unwrap();
        s.set("net/ip", b"1").unwrap();
        s.set("network/x", b"2").unwrap();
        s.set("app/y", b"3").unwrap();
        s.save(Some("net")).unwrap();
        let mut fresh =
            FileSettings::open(dir.path(), &["app", "a", "net", "network", "k"]).unwrap();
        assert_eq!(fresh.value("net/ip"), Some(&b"1"[..]));
        assert_eq!(fresh.value("network/x"), None, "not in the subtree net");
        assert_eq!(fresh.value("app/y"), None);
        // load brings stored values back over running changes
        s.set("net/ip", b"9").unwrap();
        s.load().unwrap();
        assert_eq!(s.value("net/ip"), Some(&b"1"[..]));
        fresh.commit().unwrap();
        assert_eq!(fresh.commits(), 1);
    }

    #[test]
    fn roots_restrict_names() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = FileSettings::open(dir.path(), &["foo"]).unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(s.get("foo/bar", &mut buf), Err(SettingsError::NotFound));
        assert_eq!(s.get("bar/foo", &mut buf), Err(SettingsError::NoRoot));
        assert_eq!(s.set("bar/foo", b"1"), Err(SettingsError::NoRoot));
        assert_eq!(s.set("fo/x", b"1"), Err(SettingsError::NoRoot));
        s.set("foo", b"1").unwrap();
        // persisted values of roots no handler registered are not loaded
        fs::write(s.path(), "7a7a 31\n666f6f2f61 32\n").unwrap();
        let s = FileSettings::open(dir.path(), &["foo"]).unwrap();
        assert_eq!(s.value("zz"), None);
        assert_eq!(s.value("foo/a"), Some(&b"2"[..]));
    }

    #[test]
    fn crash_leftovers_and_garbage_are_harmless() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = FileSettings::open(dir.path(), &["app", "a", "net", "network", "k"]).unwrap();
        s.set("k", b"v").unwrap();
        s.save(None).unwrap();
        // a crash between writing the temporary file and the rename leaves it behind
        fs::write(dir.path().join(".settings.tmp"), b"6b 7a7a\ntorn").unwrap();
        // and a hand-edited file may contain garbage lines
        let mut text = fs::read_to_string(s.path()).unwrap();
        text.push_str("zz\n6b2 00\n");
        fs::write(s.path(), text).unwrap();
        let s = FileSettings::open(dir.path(), &["app", "a", "net", "network", "k"]).unwrap();
        assert_eq!(s.value("k"), Some(&b"v"[..]));
        assert_eq!(s.running.len(), 1);
    }

    #[test]
    fn serves_the_settings_group() {
        use smp::groups::settings::SettingsGroup;
        use smp::server::{Config, Meta, Server};
        let dir = tempfile::tempdir().unwrap();
        let store = FileSettings::open(dir.path(), &["foo"]).unwrap();
        let mut g: SettingsGroup<FileSettings> = SettingsGroup::new(store, Default::default());
        let mut server: Server<'_, 1> = Server::new(Config::default());
        server.register(&mut g).unwrap();
        let mut tx = [0u8; 256];
        let mut out = Vec::new();
        // TV8: {"name":"foo/bar"} -> {"err":{"group":3,"rc":3}}
        let req = [
            0x08, 0, 0, 0x0f, 0, 3, 5, 0, 0xbf, 0x64, b'n', b'a', b'm', b'e', 0x67, b'f', b'o',
            b'o', b'/', b'b', b'a', b'r', 0xff,
        ];
        server.process(Meta::default(), &req, &mut tx, |r| out.extend_from_slice(r));
        assert_eq!(
            out,
            [
                0x09, 0, 0, 0x13, 0, 3, 5, 0, 0xbf, 0x63, b'e', b'r', b'r', 0xbf, 0x65, b'g', b'r',
                b'o', b'u', b'p', 3, 0x62, b'r', b'c', 3, 0xff, 0xff
            ]
        );
        let mut ask = |req: &[u8]| {
            let mut out = Vec::new();
            server.process(Meta::default(), req, &mut tx, |r| out.extend_from_slice(r));
            out
        };
        // Zephyr's settings_mgmt_write (settings_mgmt.c @09078aed8163): settings_runtime_set
        // fails in settings_parse_and_lookup with -EINVAL for a root no handler registered:
        // err {3, 5} ROOT_KEY_NOT_FOUND. {"name": "t/a", "val": h'01'}
        let root_err = [
            0x0b, 0, 0, 0x13, 0, 3, 6, 0, 0xbf, 0x63, b'e', b'r', b'r', 0xbf, 0x65, b'g', b'r',
            b'o', b'u', b'p', 3, 0x62, b'r', b'c', 5, 0xff, 0xff,
        ];
        assert_eq!(
            ask(&[
                0x0a, 0, 0, 0x10, 0, 3, 6, 0, 0xa2, 0x64, b'n', b'a', b'm', b'e', 0x63, b't', b'/',
                b'a', 0x63, b'v', b'a', b'l', 0x41, 1
            ]),
            root_err
        );
        // read {"name": "zz"}: settings_runtime_get, the same
        let mut want = root_err;
        want[0] = 0x09;
        want[6] = 7;
        assert_eq!(
            ask(&[
                0x08, 0, 0, 0x09, 0, 3, 7, 0, 0xa1, 0x64, b'n', b'a', b'm', b'e', 0x62, b'z', b'z'
            ]),
            want
        );
        // delete {"name": "foo/none"}: settings_delete is a save of NULL; the backend
        // answers 0 for a missing key: an empty map (settings_mgmt_delete)
        assert_eq!(
            ask(&[
                0x0a, 0, 0, 0x0f, 0, 3, 8, 1, 0xa1, 0x64, b'n', b'a', b'm', b'e', 0x68, b'f', b'o',
                b'o', b'/', b'n', b'o', b'n', b'e'
            ]),
            [0x0b, 0, 0, 2, 0, 3, 8, 1, 0xbf, 0xff]
        );
    }
}

/// The host's storage partition, as the Zephyr basic group's storage erase sees it: the
/// persisted settings file. Erasing it removes what `save` persisted (the running values of
/// the current boot stay until the next reset or `load`, as on a board whose settings live
/// in RAM until reboot). The file-system root is not part of it: on the host it is a
/// user's directory, not a flash partition.
#[derive(Debug)]
pub struct SettingsStorage {
    path: PathBuf,
    meter: PowerMeter,
}

impl SettingsStorage {
    /// The storage behind the settings store of `state_dir`; each erase counts as one
    /// flash operation in `meter`.
    pub fn new(state_dir: &Path, meter: PowerMeter) -> Self {
        SettingsStorage {
            path: state_dir.join(FILE_NAME),
            meter,
        }
    }
}

impl smp::platform::StorageErase for SettingsStorage {
    fn erase_storage(&mut self) -> Result<(), smp::platform::EraseError> {
        match fs::remove_file(&self.path) {
            Ok(()) => {
                self.meter.op();
                log::info!("storage erased ({})", self.path.display());
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // Blank storage is erased all the same on a board.
                self.meter.op();
                Ok(())
            }
            Err(e) => {
                log::warn!("storage erase of {} failed: {e}", self.path.display());
                Err(smp::platform::EraseError::Erase)
            }
        }
    }
}

#[cfg(test)]
mod storage_tests {
    use super::*;
    use smp::platform::StorageErase;

    #[test]
    fn erase_removes_saved_settings() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = FileSettings::open(dir.path(), &["app", "a", "net", "network", "k"]).unwrap();
        s.set("app/x", b"1").unwrap();
        s.save(None).unwrap();
        assert!(
            FileSettings::open(dir.path(), &["app", "a", "net", "network", "k"])
                .unwrap()
                .value("app/x")
                .is_some()
        );
        SettingsStorage::new(dir.path(), PowerMeter::default())
            .erase_storage()
            .unwrap();
        assert!(
            FileSettings::open(dir.path(), &["app", "a", "net", "network", "k"])
                .unwrap()
                .value("app/x")
                .is_none()
        );
        // erasing blank storage succeeds
        SettingsStorage::new(dir.path(), PowerMeter::default())
            .erase_storage()
            .unwrap();
    }

    #[test]
    fn saves_deletes_and_erases_are_flash_operations_a_power_cut_can_follow() {
        let dir = tempfile::tempdir().unwrap();
        let roots = ["app"];
        let meter = PowerMeter::new(None);
        let mut s = FileSettings::open(dir.path(), &roots).unwrap();
        s.meter_into(meter.clone());
        s.set("app/x", b"1").unwrap(); // running value only
        assert_eq!(meter.ops(), 0);
        s.save(None).unwrap();
        s.delete("app/none").unwrap();
        SettingsStorage::new(dir.path(), meter.clone())
            .erase_storage()
            .unwrap();
        assert_eq!(meter.ops(), 3);
        // A cut right after a save: the new value is what the next boot loads.
        s.save(None).unwrap();
        s.set("app/x", b"2").unwrap();
        s.meter_into(PowerMeter::new(Some(1)));
        let cut = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| s.save(None)));
        let payload = cut.unwrap_err();
        assert_eq!(
            payload.downcast_ref::<crate::flash::PowerCut>().unwrap().0,
            1
        );
        let t = FileSettings::open(dir.path(), &roots).unwrap();
        assert_eq!(t.value("app/x"), Some(&b"2"[..]));
    }
}
