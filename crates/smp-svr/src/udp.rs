//! The UDP transport: one datagram is one receive buffer; each response goes back to the
//! datagram's source as its own datagram.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;

use crate::device::{log_packet, Job, Queue, Reply};
use crate::stats::TransportStats;

/// Largest datagram read (larger ones are truncated by the kernel and then dropped here).
const MAX_DATAGRAM: usize = 65_536;

/// Binds a UDP socket.
pub fn bind(addr: SocketAddr) -> std::io::Result<Arc<UdpSocket>> {
    UdpSocket::bind(addr).map(Arc::new)
}

/// Starts the receive thread of `sock`.
pub fn spawn(
    sock: Arc<UdpSocket>,
    transport: u8,
    buf_size: usize,
    queue: Queue,
    stats: TransportStats,
) {
    let name = format!("udp_rx{transport}");
    std::thread::Builder::new()
        .name(name)
        .spawn(move || {
            let mut buf = vec![0u8; MAX_DATAGRAM];
            loop {
                let (n, peer) = match sock.recv_from(&mut buf) {
                    Ok(r) => r,
                    Err(e) => {
                        log::warn!("udp receive failed: {e}");
                        continue;
                    }
                };
                stats.rx(n);
                if n > buf_size {
                    stats.dropped();
                    // Zephyr cannot take a datagram larger than a net_buf: dropped.
                    log::warn!("udp datagram of {n} bytes from {peer} exceeds buffer ({buf_size}): dropped");
                    continue;
                }
                log_packet("<-", transport, &buf[..n]);
                queue.submit(Job::Smp {
                    transport,
                    data: buf[..n].to_vec(),
                    reply: Reply::Udp {
                        sock: sock.clone(),
                        peer,
                    },
                    stats: stats.clone(),
                });
            }
        })
        .expect("spawn udp thread");
}
