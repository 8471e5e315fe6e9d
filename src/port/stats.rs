//! Zephyr's statistics (`zephyr/stats/stats.h`, `src/smp_port_stats.c`), as the stat
//! group's [`Stats`] platform.

use smp::platform::Stats;
use smp::server::Error;
use smp::wire::Rc;

use super::{check32, sys, utf8_prefix, PortError};

/// Longest group or counter name read from the port.
const NAME_MAX: usize = 32;

/// Zephyr's registered statistics groups.
#[derive(Debug, Default)]
pub struct ZephyrStats {
    _private: (),
}

impl ZephyrStats {
    /// A new handle (the statistics themselves are global).
    pub fn new() -> Self {
        ZephyrStats { _private: () }
    }
}

fn group_name(index: u32, buf: &mut [u8; NAME_MAX]) -> Result<Option<&str>, Error> {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes during the call.
    let rc = unsafe { sys::smp_port_stats_group(index, buf.as_mut_ptr(), buf.len()) };
    match check32(rc) {
        Ok(n) => Ok(Some(utf8_prefix(&buf[..(n as usize).min(NAME_MAX)]))),
        Err(PortError::NoEnt) => Ok(None),
        Err(_) => Err(Rc::Unknown.into()),
    }
}

impl Stats for ZephyrStats {
    fn groups(&mut self, f: &mut dyn FnMut(&str) -> Result<(), Error>) -> Result<(), Error> {
        let mut buf = [0u8; NAME_MAX];
        for index in 0u32.. {
            match group_name(index, &mut buf)? {
                Some(name) => f(name)?,
                None => break,
            }
        }
        Ok(())
    }

    fn counters(
        &mut self,
        group: &str,
        f: &mut dyn FnMut(&str, u64) -> Result<(), Error>,
    ) -> Result<bool, Error> {
        let mut found = false;
        let mut buf = [0u8; NAME_MAX];
        for index in 0u32.. {
            match group_name(index, &mut buf)? {
                Some(name) if name == group => {
                    found = true;
                    break;
                }
                Some(_) => {}
                None => break,
            }
        }
        if !found {
            return Ok(false);
        }
        for index in 0u32.. {
            let mut name = [0u8; NAME_MAX];
            let mut value = 0u64;
            // SAFETY: `group` and `name` are valid for their lengths and `value` is a
            // valid out pointer during the call.
            let rc = unsafe {
                sys::smp_port_stats_entry(
                    group.as_ptr(),
                    group.len(),
                    index,
                    name.as_mut_ptr(),
                    name.len(),
                    &mut value,
                )
            };
            match check32(rc) {
                Ok(n) => f(utf8_prefix(&name[..(n as usize).min(NAME_MAX)]), value)?,
                Err(PortError::NoEnt) => break,
                Err(_) => return Err(Rc::Unknown.into()),
            }
        }
        Ok(true)
    }
}
