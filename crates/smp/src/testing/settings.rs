//! [`FakeSettings`]: a settings store in RAM.

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
