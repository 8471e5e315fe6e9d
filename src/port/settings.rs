//! Zephyr's settings subsystem (`src/smp_port_settings.c`), as the settings group's
//! [`Settings`] platform.

use smp::platform::{Settings, SettingsError};

use super::{check32, sys, PortError};

fn settings_err(e: PortError) -> SettingsError {
    match e {
        PortError::Inval => SettingsError::NoRoot,
        PortError::NoEnt => SettingsError::NotFound,
        PortError::NotSup => SettingsError::NotSup,
        _ => SettingsError::Other,
    }
}

/// Zephyr's runtime settings (`settings_runtime_*`, `settings_save`, ...).
#[derive(Debug, Default)]
pub struct ZephyrSettings {
    _private: (),
}

impl ZephyrSettings {
    /// A new handle (the settings themselves are global).
    pub fn new() -> Self {
        ZephyrSettings { _private: () }
    }
}

impl Settings for ZephyrSettings {
    fn get(&mut self, name: &str, buf: &mut [u8]) -> Result<usize, SettingsError> {
        // SAFETY: `name` and `buf` are valid for their lengths during the call.
        let rc = unsafe {
            sys::smp_port_settings_get(name.as_ptr(), name.len(), buf.as_mut_ptr(), buf.len())
        };
        check32(rc).map(|n| n as usize).map_err(settings_err)
    }

    fn set(&mut self, name: &str, val: &[u8]) -> Result<(), SettingsError> {
        // SAFETY: `name` and `val` are valid for their lengths during the call.
        let rc = unsafe {
            sys::smp_port_settings_set(name.as_ptr(), name.len(), val.as_ptr(), val.len())
        };
        check32(rc).map(|_| ()).map_err(settings_err)
    }

    fn delete(&mut self, name: &str) -> Result<(), SettingsError> {
        // SAFETY: `name` is valid for `name.len()` bytes during the call.
        let rc = unsafe { sys::smp_port_settings_delete(name.as_ptr(), name.len()) };
        check32(rc).map(|_| ()).map_err(settings_err)
    }

    fn commit(&mut self) -> Result<(), SettingsError> {
        // SAFETY: no arguments.
        check32(unsafe { sys::smp_port_settings_commit() })
            .map(|_| ())
            .map_err(settings_err)
    }

    fn load(&mut self) -> Result<(), SettingsError> {
        // SAFETY: no arguments.
        check32(unsafe { sys::smp_port_settings_load() })
            .map(|_| ())
            .map_err(settings_err)
    }

    fn save(&mut self, subtree: Option<&str>) -> Result<(), SettingsError> {
        let s = subtree.unwrap_or("");
        // SAFETY: `s` is valid for `s.len()` bytes during the call.
        let rc = unsafe { sys::smp_port_settings_save(s.as_ptr(), s.len()) };
        check32(rc).map(|_| ()).map_err(settings_err)
    }
}
