//! The device: one SMP work queue that every transport feeds, and the boot loop that
//! rebuilds the device at every reset.
//!
//! As on Zephyr, all transports hand complete packets to one work-queue thread, so the core
//! is entered by one thread at a time and responses keep request order. The queue holds at
//! most `buf_count` packets; a packet arriving while it is full is dropped, as a board drops
//! a datagram when no net_buf is free.

use std::net::{SocketAddr, UdpSocket};
use std::rc::Rc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Duration;

use smp::groups::os::{self, OsGroup};
use smp::platform::{BootloaderInfo, Shell};
use smp::server::{Config, Meta, Params, Server};

use crate::board::{Board, Identity, Persist};
use crate::console::Console;
use crate::os::HostOs;
use crate::shell::HostShell;

/// Delay between the reset response and the reset (`CONFIG_MCUMGR_GRP_OS_RESET_MS`).
pub const RESET_DELAY: Duration = Duration::from_millis(250);

/// Maximum number of groups the registry holds.
pub const MAX_GROUPS: usize = 16;

/// Where a response goes.
#[derive(Clone)]
pub enum Reply {
    /// Back to a UDP peer.
    Udp {
        /// The socket the request came in on.
        sock: Arc<UdpSocket>,
        /// The request's source.
        peer: SocketAddr,
    },
    /// Back onto a serial console, framed.
    Console(Arc<Console>),
}

impl Reply {
    fn send(&self, packet: &[u8]) {
        match self {
            Reply::Udp { sock, peer } => {
                if let Err(e) = sock.send_to(packet, peer) {
                    log::warn!("udp send to {peer} failed: {e}");
                }
            }
            Reply::Console(c) => c.write_smp(packet),
        }
    }
}

/// Work for the SMP work queue.
pub enum Job {
    /// An SMP packet (or several back to back) from a transport.
    Smp {
        /// Transport number.
        transport: u8,
        /// The received bytes.
        data: Vec<u8>,
        /// Where the responses go.
        reply: Reply,
    },
    /// A line typed on a console's shell.
    Shell {
        /// The console it came from.
        console: Arc<Console>,
        /// The line, without its terminator.
        line: String,
    },
}

/// The sending side of the work queue, shared by every transport.
#[derive(Clone)]
pub struct Queue {
    tx: SyncSender<Job>,
}

impl Queue {
    /// Wraps the sender of a bounded channel.
    pub fn new(tx: SyncSender<Job>) -> Self {
        Queue { tx }
    }

    /// Queues a job, dropping it when every buffer is in use.
    pub fn submit(&self, job: Job) {
        match self.tx.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => log::warn!("all SMP buffers busy: packet dropped"),
            Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

/// Everything the device needs to boot.
pub struct DeviceConfig {
    /// Buffer size and count.
    pub params: Params,
    /// Accept SMP v1.
    pub support_v1: bool,
    /// OS group options.
    pub os: os::Config,
    /// Identity strings.
    pub identity: Identity,
    /// Bootloader facts.
    pub bootloader: BootloaderInfo,
    /// Consoles that print the boot banner and prompt.
    pub consoles: Vec<Arc<Console>>,
}

/// Runs the device until the queue closes: boots, serves, and boots again after every reset.
pub fn run(cfg: DeviceConfig, rx: Receiver<Job>) {
    let persist = Rc::new(Persist::default());
    loop {
        let board = Rc::new(Board::new(persist.clone(), cfg.identity.clone()));
        log::info!("boot #{}", persist.boots.get());
        for c in &cfg.consoles {
            c.write_text(&format!(
                "*** Booting Zephyr OS build smp-svr v{} ***\r\n{}",
                env!("CARGO_PKG_VERSION"),
                crate::console::PROMPT
            ));
        }
        let mut os = OsGroup::new(HostOs::new(board.clone(), cfg.bootloader), cfg.os);
        let mut shell = HostShell::new(board.clone());
        let mut server: Server<'_, MAX_GROUPS> = Server::new(Config {
            params: cfg.params,
            support_v1: cfg.support_v1,
        });
        server
            .register(&mut os)
            .expect("group registry full: raise MAX_GROUPS");
        let mut tx = vec![0u8; cfg.params.buf_size as usize];
        loop {
            let Ok(job) = rx.recv() else {
                return;
            };
            match job {
                Job::Smp {
                    transport,
                    data,
                    reply,
                } => {
                    let meta = Meta {
                        transport,
                        now_ms: board.uptime_ms(),
                    };
                    server.process(meta, &data, &mut tx, |rsp| {
                        log_packet("->", transport, rsp);
                        reply.send(rsp);
                    });
                }
                Job::Shell { console, line } => {
                    let mut out = String::new();
                    let rc = shell.exec(&line, &mut out);
                    log::debug!("shell `{line}` -> {rc}");
                    out.push_str(crate::console::PROMPT);
                    console.write_text(&out);
                }
            }
            if board.pending_reset().is_some() {
                std::thread::sleep(RESET_DELAY);
                // The board goes down: whatever arrived meanwhile is lost.
                while rx.try_recv().is_ok() {}
                log::info!("resetting");
                break;
            }
        }
    }
}

/// Logs one SMP packet's header at debug level.
pub fn log_packet(dir: &str, transport: u8, p: &[u8]) {
    if log::log_enabled!(log::Level::Debug) && p.len() >= 8 {
        log::debug!(
            "t{transport} {dir} op {} ver {} group {} cmd {} seq {} len {}",
            p[0] & 7,
            (p[0] >> 3) & 3,
            u16::from_be_bytes([p[4], p[5]]),
            p[7],
            p[6],
            u16::from_be_bytes([p[2], p[3]])
        );
    }
}
