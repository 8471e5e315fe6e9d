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
        let ms = self.board.rtc_ms().ok_or(RtcError::NotSet)?;
        Ok(civil::from_unix_ms(ms))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::{Identity, Persist};
    use smp::groups::os::{Config, OsGroup};
    use smp::server::{Config as ServerConfig, Meta, Server};

    fn exchange(os: &mut OsGroup<HostOs>, req: &[u8]) -> Vec<u8> {
        let mut server: Server<'_, 1> = Server::new(ServerConfig::default());
        server.register(os).unwrap();
        let mut tx = [0u8; 256];
        let mut out = Vec::new();
        server.process(Meta::default(), req, &mut tx, |r| out.extend_from_slice(r));
        out
    }

    fn host_os(persist: Rc<Persist>) -> OsGroup<HostOs> {
        let id = Identity {
            node_name: "n".into(),
            kernel_release: "r".into(),
            hardware_platform: "native_sim/native".into(),
        };
        let bl = BootloaderInfo {
            name: "MCUboot",
            mode: 1,
            no_downgrade: false,
        };
        OsGroup::new(
            HostOs::new(Rc::new(Board::new(persist, id)), bl),
            Config::default(),
        )
    }

    /// `--rtc unset` (the default): before any set, a date-time read is OS error 4, as
    /// Zephyr's `os_mgmt_datetime_read` (subsys/mgmt/mcumgr/grp/os_mgmt/src/os_mgmt.c
    /// @0014f3dc4dda) answers `rtc_get_time`'s `-ENODATA` with `OS_MGMT_ERR_RTC_NOT_SET`;
    /// `--rtc host` reads the host clock at once.
    #[test]
    fn unset_rtc_is_err_4_until_set() {
        // v2 read, group 0, seq 1, id 4, {}
        let get = [0x08, 0, 0, 1, 0, 0, 1, 4, 0xa0];
        let mut os = host_os(Rc::new(Persist::default()));
        assert_eq!(
            exchange(&mut os, &get[..8 + 1]),
            [
                0x09, 0, 0, 0x13, 0, 0, 1, 4, 0xbf, 0x63, b'e', b'r', b'r', 0xbf, 0x65, b'g', b'r',
                b'o', b'u', b'p', 0x00, 0x62, b'r', b'c', 0x04, 0xff, 0xff
            ]
        );
        // {"datetime": "2031-02-03T04:05:06"} sets it; the next read answers a time.
        let mut set = vec![0x0a, 0, 0, 30, 0, 0, 2, 4, 0xa1, 0x68];
        set.extend_from_slice(b"datetime");
        set.push(0x73);
        set.extend_from_slice(b"2031-02-03T04:05:06");
        assert_eq!(
            exchange(&mut os, &set),
            [0x0b, 0, 0, 2, 0, 0, 2, 4, 0xbf, 0xff]
        );
        let rsp = exchange(&mut os, &get[..8 + 1]);
        assert_eq!(&rsp[8..19], b"\xbf\x68datetime\x73");
        assert!(rsp[19..].starts_with(b"2031-02-03T04:05:0"), "{rsp:x?}");

        let host = Rc::new(Persist::default());
        host.rtc_valid.set(true);
        let rsp = exchange(&mut host_os(host), &get[..8 + 1]);
        assert_eq!(&rsp[8..19], b"\xbf\x68datetime\x73", "{rsp:x?}");
    }
}
