//! The bare baselines, run as subcommands of this binary in a child process: a UDP echo
//! (recv_from, then send_to of the same bytes) on one of three event loops, and a PTY echo
//! (what the master side reads is written back to it). Each prints `smp-bench: udp ADDR` or
//! `smp-bench: pty PATH`, then `smp-bench: ready`, and serves until it is killed.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;

use clap::ValueEnum;

/// The event loop of the bare UDP echo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    /// A blocking std loop: recv_from, send_to.
    Std,
    /// A single-threaded mio loop, edge-triggered: on readiness, read until WouldBlock.
    Mio,
    /// A tokio current_thread runtime with UdpSocket::recv_from/send_to.
    Tokio,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Std => "std",
            Engine::Mio => "mio",
            Engine::Tokio => "tokio",
        }
    }
}

/// Largest datagram echoed (the smp-svr default buf_size is 2048).
const MAX_DGRAM: usize = 65536;

fn announce(what: &str) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "smp-bench: {what}");
    let _ = out.flush();
}

/// `smp-bench bare-udp-echo`: never returns unless the socket fails.
pub fn udp(engine: Engine, addr: SocketAddr) -> io::Result<()> {
    match engine {
        Engine::Std => {
            let sock = UdpSocket::bind(addr)?;
            announce(&format!("udp {}", sock.local_addr()?));
            announce("ready");
            let mut buf = vec![0u8; MAX_DGRAM];
            loop {
                let (n, from) = sock.recv_from(&mut buf)?;
                sock.send_to(&buf[..n], from)?;
            }
        }
        Engine::Mio => {
            use mio::{Events, Interest, Poll, Token};
            let mut poll = Poll::new()?;
            let mut sock = mio::net::UdpSocket::bind(addr)?;
            poll.registry()
                .register(&mut sock, Token(0), Interest::READABLE)?;
            announce(&format!("udp {}", sock.local_addr()?));
            announce("ready");
            let mut events = Events::with_capacity(64);
            let mut buf = vec![0u8; MAX_DGRAM];
            loop {
                match poll.poll(&mut events, None) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
                // Edge-triggered: drain the socket before polling again.
                loop {
                    match sock.recv_from(&mut buf) {
                        Ok((n, from)) => match sock.send_to(&buf[..n], from) {
                            // A full send buffer drops the reply, as a UDP server may.
                            Ok(_) => {}
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                            Err(e) => return Err(e),
                        },
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Engine::Tokio => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .build()?;
            rt.block_on(async {
                let sock = tokio::net::UdpSocket::bind(addr).await?;
                announce(&format!("udp {}", sock.local_addr()?));
                announce("ready");
                let mut buf = vec![0u8; MAX_DGRAM];
                loop {
                    let (n, from) = sock.recv_from(&mut buf).await?;
                    sock.send_to(&buf[..n], from).await?;
                }
            })
        }
    }
}

/// Puts a terminal in raw mode (no echo, no line editing, 8 bits through).
pub fn make_raw(fd: libc::c_int) -> io::Result<()> {
    // SAFETY: `termios` is plain old data, filled by tcgetattr before use; the fd is open.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(fd, &mut t) != 0 {
            return Err(io::Error::last_os_error());
        }
        libc::cfmakeraw(&mut t);
        if libc::tcsetattr(fd, libc::TCSANOW, &t) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// `smp-bench bare-pty-echo`: opens a pseudo-terminal, points `link` at its slave side and
/// writes back to the master whatever the master reads. Never returns unless the PTY fails.
pub fn pty(link: &Path) -> io::Result<()> {
    let mut master: libc::c_int = -1;
    let mut slave: libc::c_int = -1;
    // SAFETY: openpty writes the two fds it opens into the pointed-to ints; the name, termios
    // and winsize pointers may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: openpty succeeded, so both fds are open and owned by nobody else.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    use std::os::fd::AsRawFd;
    make_raw(slave.as_raw_fd())?;
    let path = std::fs::read_link(format!("/proc/self/fd/{}", slave.as_raw_fd()))?;
    let _ = std::fs::remove_file(link);
    std::os::unix::fs::symlink(&path, link)?;
    announce(&format!("pty {}", path.display()));
    announce("ready");
    // The slave stays open here, so that the master never reads EIO between clients.
    let _keep = slave;
    let mut m = File::from(master);
    let mut buf = vec![0u8; 4096];
    loop {
        let n = match m.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        m.write_all(&buf[..n])?;
    }
}
