//! [`FakeOs`]: fixed answers, a recorded RTC and reset.

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
