//! The host's OS services for the OS group.

use std::rc::Rc;

use smp::platform::{
    BootloaderInfo, DateTime, HeapInfo, Identity, Os, ResetRequest, RtcError, TaskInfo,
};
use smp::server::Error;

use crate::board::{self, Board};
use crate::civil;

/// OS services of the emulated board.
pub struct HostOs {
    board: Rc<Board>,
    bootloader: BootloaderInfo,
}

impl HostOs {
    /// OS services for one boot.
    pub fn new(board: Rc<Board>, bootloader: BootloaderInfo) -> Self {
        HostOs { board, bootloader }
    }
}

impl Os for HostOs {
    fn reset(&mut self, req: ResetRequest) -> Result<(), Error> {
        log::info!(
            "reset requested (force {}, boot mode {})",
            req.force,
            req.boot_mode
        );
        self.board.request_reset(req);
        Ok(())
    }

    fn tasks(
        &mut self,
        f: &mut dyn FnMut(&TaskInfo<'_>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        for t in board::host_threads() {
            f(&TaskInfo {
                name: &t.name,
                prio: t.nice,
                state: t.state,
                stack: None,
                runtime: None,
            })?;
        }
        Ok(())
    }

    fn heaps(&mut self, f: &mut dyn FnMut(&HeapInfo) -> Result<(), Error>) -> Result<(), Error> {
        // SAFETY: mallinfo2 only reads the allocator's statistics; it has no preconditions.
        let mi = unsafe { libc::mallinfo2() };
        let size = (mi.arena + mi.hblkhd) as u64;
        let free = mi.fordblks as u64;
        let p = &self.board.persist;
        let min = p.heap_min_free.get().map_or(free, |m| m.min(free));
        p.heap_min_free.set(Some(min));
        f(&HeapInfo {
            size,
            free,
            min_free: min,
        })
    }

    fn rtc_get(&mut self) -> Result<DateTime, RtcError> {
        Ok(civil::from_unix_ms(self.board.rtc_ms()))
    }

    fn rtc_set(&mut self, t: &DateTime) -> Result<(), RtcError> {
        let ms = civil::to_unix_ms(t).ok_or(RtcError::Failed)?;
        self.board.set_rtc_ms(ms);
        log::info!("RTC set to {ms} ms since the epoch");
        Ok(())
    }

    fn identity(&self) -> Identity<'_> {
        let id = &self.board.identity;
        Identity {
            node_name: &id.node_name,
            kernel_release: &id.kernel_release,
            kernel_version: board::KERNEL_VERSION,
            build_date_time: None,
            machine: board::MACHINE,
            processor: board::PROCESSOR,
            hardware_platform: &id.hardware_platform,
            os_name: "Zephyr",
        }
    }

    fn bootloader(&self) -> Option<BootloaderInfo> {
        Some(self.bootloader)
    }
}
