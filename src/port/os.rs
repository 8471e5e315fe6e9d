//! The OS group's platform: reset, threads, heaps, the RTC and the identity strings of
//! `os info` (`src/smp_port_os.c`; the bootloader facts come from [`super::boot`]).

use smp::platform::{BootloaderInfo, DateTime, HeapInfo, Identity, Os, ResetRequest, RtcError};
use smp::platform::{StackInfo, TaskInfo};
use smp::server::Error;
use smp::wire::Rc;

use super::{check32, sys, utf8_prefix, PortError};

/// Reads one identity string from the port.
fn identity_str(which: u32, fallback: &'static str) -> &'static str {
    let mut len = 0usize;
    // SAFETY: `len` is a valid out pointer for the duration of the call.
    let ptr = unsafe { sys::smp_port_identity(which, &mut len) };
    if ptr.is_null() {
        return fallback;
    }
    // SAFETY: the header promises `ptr` points at `len` bytes of static storage that stay
    // valid and unchanged for the program's lifetime.
    let bytes: &'static [u8] = unsafe { core::slice::from_raw_parts(ptr, len) };
    core::str::from_utf8(bytes).unwrap_or(fallback)
}

/// The OS services of Zephyr, for the OS group.
#[derive(Debug, Default)]
pub struct ZephyrOs {
    _private: (),
}

impl ZephyrOs {
    /// A new handle (the services themselves are global).
    pub fn new() -> Self {
        ZephyrOs { _private: () }
    }
}

/// Longest thread name read from the port.
const THREAD_NAME_MAX: usize = 32;

impl Os for ZephyrOs {
    fn reset(&mut self, req: ResetRequest) -> Result<(), Error> {
        // SAFETY: plain integer argument.
        let rc = unsafe { sys::smp_port_reset_schedule(req.boot_mode.into()) };
        check32(rc).map(|_| ()).map_err(|e| match e {
            PortError::NotSup | PortError::Inval => Rc::NotSup.into(),
            _ => Rc::Unknown.into(),
        })
    }

    fn tasks(
        &mut self,
        f: &mut dyn FnMut(&TaskInfo<'_>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        for index in 0u32.. {
            let mut name = [0u8; THREAD_NAME_MAX];
            let mut name_len = 0usize;
            let (mut prio, mut state, mut size, mut used, mut runtime, mut flags) =
                (0i32, 0u32, 0u32, 0u32, 0u64, 0u32);
            // SAFETY: `name` is valid for `name.len()` bytes and every out pointer is a
            // valid, exclusive local for the duration of the call.
            let rc = unsafe {
                sys::smp_port_thread_get(
                    index,
                    name.as_mut_ptr(),
                    name.len(),
                    &mut name_len,
                    &mut prio,
                    &mut state,
                    &mut size,
                    &mut used,
                    &mut runtime,
                    &mut flags,
                )
            };
            match check32(rc) {
                Ok(_) => {}
                Err(PortError::NoEnt) => break,
                Err(_) => return Err(Rc::Unknown.into()),
            }
            let name = utf8_prefix(&name[..name_len.min(THREAD_NAME_MAX)]);
            f(&TaskInfo {
                name,
                prio,
                state,
                stack: (flags & sys::SMP_PORT_THREAD_HAS_STACK != 0)
                    .then_some(StackInfo { size, used }),
                runtime: (flags & sys::SMP_PORT_THREAD_HAS_RUNTIME != 0).then_some(runtime),
            })?;
        }
        Ok(())
    }

    fn heaps(&mut self, f: &mut dyn FnMut(&HeapInfo) -> Result<(), Error>) -> Result<(), Error> {
        for index in 0u32.. {
            let (mut size, mut free, mut min_free) = (0u64, 0u64, 0u64);
            // SAFETY: the out pointers are valid, exclusive locals for the call.
            let rc = unsafe { sys::smp_port_heap_get(index, &mut size, &mut free, &mut min_free) };
            match check32(rc) {
                Ok(_) => f(&HeapInfo {
                    size,
                    free,
                    min_free,
                })?,
                Err(PortError::NoEnt) => break,
                Err(PortError::NotSup) => return Err(Rc::NotSup.into()),
                Err(_) => {
                    return Err(smp::groups::os::OsMgmtErr::HeapStatsFetchFailed.into());
                }
            }
        }
        Ok(())
    }

    fn rtc_get(&mut self) -> Result<DateTime, RtcError> {
        let mut v = [0u16; sys::SMP_PORT_DATETIME_FIELDS as usize];
        // SAFETY: `v` holds the SMP_PORT_DATETIME_FIELDS values the call writes.
        let rc = unsafe { sys::smp_port_rtc_get(v.as_mut_ptr()) };
        match check32(rc) {
            Ok(_) => Ok(DateTime {
                year: v[0],
                month: v[1] as u8,
                day: v[2] as u8,
                hour: v[3] as u8,
                minute: v[4] as u8,
                second: v[5] as u8,
                millis: v[6],
            }),
            Err(PortError::NoData) => Err(RtcError::NotSet),
            Err(_) => Err(RtcError::Failed),
        }
    }

    fn rtc_set(&mut self, t: &DateTime) -> Result<(), RtcError> {
        let v: [u16; sys::SMP_PORT_DATETIME_FIELDS as usize] = [
            t.year,
            t.month.into(),
            t.day.into(),
            t.hour.into(),
            t.minute.into(),
            t.second.into(),
            t.millis,
        ];
        // SAFETY: `v` holds the SMP_PORT_DATETIME_FIELDS values the call reads.
        let rc = unsafe { sys::smp_port_rtc_set(v.as_ptr()) };
        check32(rc).map(|_| ()).map_err(|_| RtcError::Failed)
    }

    fn identity(&self) -> Identity<'_> {
        let build = identity_str(sys::SMP_PORT_ID_BUILD_DATE_TIME, "");
        Identity {
            node_name: identity_str(sys::SMP_PORT_ID_NODE_NAME, "unknown"),
            kernel_release: identity_str(sys::SMP_PORT_ID_KERNEL_RELEASE, "unknown"),
            kernel_version: identity_str(sys::SMP_PORT_ID_KERNEL_VERSION, "unknown"),
            build_date_time: (!build.is_empty()).then_some(build),
            machine: identity_str(sys::SMP_PORT_ID_MACHINE, "unknown"),
            processor: identity_str(sys::SMP_PORT_ID_PROCESSOR, "unknown"),
            hardware_platform: identity_str(sys::SMP_PORT_ID_HARDWARE_PLATFORM, "unknown"),
            os_name: identity_str(sys::SMP_PORT_ID_OS_NAME, "Zephyr"),
        }
    }

    fn bootloader(&self) -> Option<BootloaderInfo> {
        super::boot::bootloader_info()
    }
}
