//! The UDP transport: one datagram is one receive buffer; each response goes back to the
//! datagram's source as its own datagram.
//!
//! The event loop reads a datagram only when it can process it at once, so a burst waits
//! in the kernel's socket buffer instead of being dropped: nothing that fits there is lost.
//! A datagram larger than the SMP buffer (`buf_size`) is dropped and counted, as Zephyr
//! drops one that does not fit a net_buf.

use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::Duration;

use crate::stats::TransportStats;

/// Largest datagram read (larger ones are truncated by the kernel and then dropped here).
pub const MAX_DATAGRAM: usize = 65_536;

/// How long a reply waits for room in the socket's send buffer before it is given up.
const SEND_WAIT: Duration = Duration::from_secs(1);

/// Binds a UDP socket (non-blocking, for the event loop).
pub fn bind(addr: SocketAddr) -> io::Result<mio::net::UdpSocket> {
    mio::net::UdpSocket::bind(addr)
}

/// One UDP transport of the device.
pub struct UdpPort {
    /// The socket.
    pub sock: mio::net::UdpSocket,
    /// Transport number (SMP `Meta::transport`).
    pub transport: u8,
    /// Its counters.
    pub stats: TransportStats,
}

impl UdpPort {
    /// Reads one datagram into `buf`: `Ok(None)` when none is waiting.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<(usize, SocketAddr)>> {
        loop {
            return match self.sock.recv_from(buf) {
                Ok(r) => Ok(Some(r)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => Err(e),
            };
        }
    }

    /// Sends one response datagram to `peer`. A full send buffer is waited for (up to a
    /// second); a failure is logged and counted.
    pub fn send(&self, packet: &[u8], peer: SocketAddr) {
        let mut waited = false;
        loop {
            match self.sock.send_to(packet, peer) {
                Ok(_) => {
                    self.stats.tx(packet.len());
                    return;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && !waited => {
                    waited = true;
                    wait_writable(&self.sock, SEND_WAIT);
                }
                Err(e) => {
                    self.stats.error();
                    log::warn!("udp send to {peer} failed: {e}");
                    return;
                }
            }
        }
    }
}

/// Blocks until `sock` can send, or `timeout` passes.
fn wait_writable(sock: &impl AsRawFd, timeout: Duration) {
    let mut pfd = libc::pollfd {
        fd: sock.as_raw_fd(),
        events: libc::POLLOUT,
        revents: 0,
    };
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: `pfd` is one valid, initialised pollfd that lives across the call, and the
    // count passed is 1; poll(2) only writes its `revents`.
    unsafe {
        libc::poll(&mut pfd, 1, ms);
    }
}
