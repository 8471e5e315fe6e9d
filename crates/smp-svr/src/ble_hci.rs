//! The Bluetooth controller behind `--ble SPEC`: an HCI byte stream carrying H4 packets
//! (a packet-type byte, then the packet), turned into bt-hci's `ExternalController` by
//! `bt-hci-serial`.
//!
//! - `unix:PATH`, `tcp:HOST:PORT`: a socket to a controller, e.g. Bumble's virtual ones
//!   (`python -m bumble.apps.controllers unix-server:PATH ...`); TCP with TCP_NODELAY, as
//!   the packets are small and latency-bound.
//! - `serial:DEV[,BAUD]`: a UART controller (Zephyr's `samples/bluetooth/hci_uart` on a
//!   board), raw 8N1 at BAUD (default 1000000, that sample's usual rate), with RTS/CTS
//!   flow control off.
//! - `hciN`: a Linux adapter through the HCI user channel, which gives one process the
//!   adapter exclusively. As Zephyr's own user-channel driver opens it
//!   (zephyrproject-rtos/zephyr `drivers/bluetooth/hci/userchan.c` at
//!   0183d022d2b3d528bb6b2cf54590dbd378b0f8de): `socket(PF_BLUETOOTH, SOCK_RAW |
//!   SOCK_CLOEXEC | SOCK_NONBLOCK, BTPROTO_HCI = 1)` bound to `sockaddr_hci { family,
//!   dev = N, channel = HCI_CHANNEL_USER = 1 }`; every read and write is one whole H4
//!   packet, so this side buffers a packet before writing it and reads whole packets.
//!   The kernel wants CAP_NET_ADMIN (else EPERM) and the adapter down (else EBUSY).

use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bt_hci::controller::ExternalController;
use bt_hci_serial::SerialTransport;
use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use embedded_io_adapters::tokio_1::FromTokio;
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf, ReadHalf, WriteHalf};

/// Default UART rate for `serial:DEV`.
pub const DEFAULT_BAUD: u32 = 1_000_000;

/// Where the controller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hci {
    /// A Unix stream socket.
    Unix(PathBuf),
    /// A TCP connection to `HOST:PORT`.
    Tcp(String),
    /// A serial line and its rate.
    Serial(PathBuf, u32),
    /// A Linux HCI adapter index, through the user channel.
    UserChannel(u16),
}

impl fmt::Display for Hci {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hci::Unix(p) => write!(f, "unix:{}", p.display()),
            Hci::Tcp(a) => write!(f, "tcp:{a}"),
            Hci::Serial(p, b) => write!(f, "serial:{},{b}", p.display()),
            Hci::UserChannel(n) => write!(f, "hci{n}"),
        }
    }
}

impl std::str::FromStr for Hci {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!("`{s}`: give unix:PATH, tcp:HOST:PORT, serial:DEV[,BAUD] or hciN (e.g. hci0)")
        };
        if let Some(p) = s.strip_prefix("unix:") {
            if p.is_empty() {
                return Err(bad());
            }
            return Ok(Hci::Unix(p.into()));
        }
        if let Some(a) = s.strip_prefix("tcp:") {
            match a.rsplit_once(':') {
                Some((h, p)) if !h.is_empty() && p.parse::<u16>().is_ok() => {
                    return Ok(Hci::Tcp(a.into()))
                }
                _ => return Err(bad()),
            }
        }
        if let Some(d) = s.strip_prefix("serial:") {
            let (dev, baud) = match d.split_once(',') {
                Some((dev, b)) => (dev, b.parse::<u32>().map_err(|_| bad())?),
                None => (d, DEFAULT_BAUD),
            };
            if dev.is_empty() || baud == 0 {
                return Err(bad());
            }
            return Ok(Hci::Serial(dev.into(), baud));
        }
        if let Some(n) = s.strip_prefix("hci") {
            if let Ok(n) = n.parse::<u16>() {
                return Ok(Hci::UserChannel(n));
            }
        }
        Err(bad())
    }
}

/// Any byte stream to a controller.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + 'static> Stream for T {}

type Boxed = Box<dyn Stream>;

/// The controller type the host stack runs on.
pub type Controller = ExternalController<
    SerialTransport<NoopRawMutex, FromTokio<ReadHalf<Boxed>>, FromTokio<WriteHalf<Boxed>>>,
    10,
>;

/// An opened, not yet async, connection to the controller: opened before the BLE thread
/// starts, so that a wrong spec is a clear startup error.
pub enum Opened {
    /// A Unix socket.
    Unix(std::os::unix::net::UnixStream),
    /// A TCP connection.
    Tcp(std::net::TcpStream),
    /// A serial line (raw, non-blocking).
    Serial(OwnedFd),
    /// An HCI user channel socket (non-blocking).
    UserChannel(OwnedFd),
}

/// Opens the controller's stream.
pub fn open(hci: &Hci) -> Result<Opened, String> {
    match hci {
        Hci::Unix(p) => std::os::unix::net::UnixStream::connect(p)
            .and_then(|s| s.set_nonblocking(true).map(|_| Opened::Unix(s)))
            .map_err(|e| format!("cannot connect to the controller at {hci}: {e}")),
        Hci::Tcp(a) => std::net::TcpStream::connect(a)
            .and_then(|s| {
                s.set_nodelay(true)?;
                s.set_nonblocking(true)?;
                Ok(Opened::Tcp(s))
            })
            .map_err(|e| format!("cannot connect to the controller at {hci}: {e}")),
        Hci::Serial(dev, baud) => open_serial(dev, *baud)
            .map(Opened::Serial)
            .map_err(|e| format!("cannot open the controller's line {}: {e}", dev.display())),
        Hci::UserChannel(n) => open_user_channel(*n).map(Opened::UserChannel),
    }
}

fn open_serial(dev: &std::path::Path, baud: u32) -> io::Result<OwnedFd> {
    use nix::sys::termios::{self, BaudRate, ControlFlags, SetArg};
    let rate = match baud {
        9600 => BaudRate::B9600,
        19200 => BaudRate::B19200,
        38400 => BaudRate::B38400,
        57600 => BaudRate::B57600,
        115_200 => BaudRate::B115200,
        230_400 => BaudRate::B230400,
        460_800 => BaudRate::B460800,
        921_600 => BaudRate::B921600,
        1_000_000 => BaudRate::B1000000,
        2_000_000 => BaudRate::B2000000,
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("unsupported rate {baud}"),
            ))
        }
    };
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY | libc::O_NONBLOCK)
        .open(dev)?;
    let mut t = termios::tcgetattr(&f)?;
    termios::cfmakeraw(&mut t);
    termios::cfsetspeed(&mut t, rate)?;
    t.control_flags &= !ControlFlags::CRTSCTS;
    t.control_flags |= ControlFlags::CLOCAL | ControlFlags::CREAD;
    termios::tcsetattr(&f, SetArg::TCSANOW, &t)?;
    Ok(f.into())
}

use std::os::unix::fs::OpenOptionsExt;

/// `sockaddr_hci` (Zephyr's `drivers/bluetooth/hci/userchan.c`, above).
#[repr(C)]
struct SockaddrHci {
    family: libc::sa_family_t,
    dev: u16,
    channel: u16,
}

const BTPROTO_HCI: libc::c_int = 1;
const HCI_CHANNEL_USER: u16 = 1;

fn open_user_channel(n: u16) -> Result<OwnedFd, String> {
    // SAFETY: socket(2) with constant arguments; the result is checked before use.
    let fd = unsafe {
        libc::socket(
            libc::AF_BLUETOOTH,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
            BTPROTO_HCI,
        )
    };
    if fd < 0 {
        let e = io::Error::last_os_error();
        return Err(format!(
            "hci{n}: cannot open a Bluetooth HCI socket ({e}): does this kernel have Bluetooth?"
        ));
    }
    // SAFETY: `fd` is a socket just opened and owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let addr = SockaddrHci {
        family: libc::AF_BLUETOOTH as libc::sa_family_t,
        dev: n,
        channel: HCI_CHANNEL_USER,
    };
    // SAFETY: `addr` is a live, initialised sockaddr_hci and its size is passed with it.
    let rc = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&addr as *const SockaddrHci).cast(),
            std::mem::size_of::<SockaddrHci>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        let e = io::Error::last_os_error();
        let what = match e.raw_os_error() {
            Some(libc::EPERM) | Some(libc::EACCES) => format!(
                "the HCI user channel needs CAP_NET_ADMIN: run as root, or \
                 `sudo setcap cap_net_admin+ep $(command -v smp-svr)` ({e})"
            ),
            Some(libc::EBUSY) | Some(libc::EALREADY) => format!(
                "the adapter is up (the system's Bluetooth service has it): take it down \
                 first, e.g. `sudo hciconfig hci{n} down` or `sudo btmgmt --index {n} power off` ({e})"
            ),
            Some(libc::ENODEV) => format!("no such adapter (see `hciconfig` or `btmgmt info`) ({e})"),
            _ => e.to_string(),
        };
        return Err(format!("hci{n}: {what}"));
    }
    Ok(fd)
}

/// A non-blocking descriptor as a tokio stream; in `packets` mode (the HCI user channel)
/// every read returns bytes of one whole packet and every write sends one.
struct FdStream {
    fd: AsyncFd<OwnedFd>,
    packets: bool,
    /// `packets` mode: the packet read last and how much of it was consumed.
    rx: Vec<u8>,
    rx_at: usize,
    /// `packets` mode: the packet being written.
    tx: Vec<u8>,
}

impl FdStream {
    fn new(fd: OwnedFd, packets: bool) -> io::Result<Self> {
        // SAFETY: an `OwnedFd` is a valid open descriptor that stays open, and always the
        // same one, until it is dropped with the `AsyncFd`.
        let fd = unsafe { AsyncFd::register(fd) }.map_err(io::Error::from)?;
        Ok(FdStream {
            fd,
            packets,
            rx: Vec::new(),
            rx_at: 0,
            tx: Vec::new(),
        })
    }
}

/// The total length of the H4 packet at the start of `b` (host to controller), if its
/// header is there.
pub fn h4_len(b: &[u8]) -> Option<usize> {
    match *b.first()? {
        // Command: opcode (2), length (1).
        0x01 => b.get(3).map(|&l| 4 + usize::from(l)),
        // ACL data: handle and flags (2), length (2).
        0x02 => (b.len() >= 5).then(|| 5 + usize::from(u16::from_le_bytes([b[3], b[4]]))),
        // SCO: handle (2), length (1).
        0x03 => b.get(3).map(|&l| 4 + usize::from(l)),
        // ISO: handle and flags (2), length (14 bits).
        0x05 => (b.len() >= 5).then(|| 5 + usize::from(u16::from_le_bytes([b[3], b[4]]) & 0x3fff)),
        // Unknown type: send what there is.
        _ => Some(b.len()),
    }
}

fn sys_read(fd: &OwnedFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is a live, writable buffer of `buf.len()` bytes.
    let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

fn sys_write(fd: &OwnedFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is a live buffer of `buf.len()` bytes.
    let n = unsafe { libc::write(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len()) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

impl AsyncRead for FdStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        if me.packets && me.rx_at < me.rx.len() {
            let n = buf.remaining().min(me.rx.len() - me.rx_at);
            buf.put_slice(&me.rx[me.rx_at..me.rx_at + n]);
            me.rx_at += n;
            return Poll::Ready(Ok(()));
        }
        loop {
            let mut guard = ready!(me.fd.poll_read_ready(cx))?;
            let r = if me.packets {
                me.rx.resize(4096, 0);
                guard.try_io(|fd| sys_read(fd.get_ref(), &mut me.rx))
            } else {
                let dst = buf.initialize_unfilled();
                guard.try_io(|fd| sys_read(fd.get_ref(), dst))
            };
            match r {
                Ok(Ok(n)) => {
                    if me.packets {
                        me.rx.truncate(n);
                        let k = buf.remaining().min(n);
                        buf.put_slice(&me.rx[..k]);
                        me.rx_at = k;
                    } else {
                        buf.advance(n);
                    }
                    return Poll::Ready(Ok(()));
                }
                Ok(Err(e)) => return Poll::Ready(Err(e)),
                Err(_would_block) => continue,
            }
        }
    }
}

impl AsyncWrite for FdStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        if !me.packets {
            loop {
                let mut guard = ready!(me.fd.poll_write_ready(cx))?;
                match guard.try_io(|fd| sys_write(fd.get_ref(), data)) {
                    Ok(r) => return Poll::Ready(r),
                    Err(_would_block) => continue,
                }
            }
        }
        // A whole packet waits to be sent first.
        if h4_len(&me.tx).is_some_and(|l| me.tx.len() >= l) {
            ready!(me.flush_packet(cx))?;
        }
        let want = h4_len(&me.tx).map_or(usize::MAX, |l| l - me.tx.len());
        let n = data.len().min(want.max(1));
        me.tx.extend_from_slice(&data[..n]);
        if h4_len(&me.tx).is_some_and(|l| me.tx.len() >= l) {
            // Sent now if it can be; else by the next write or flush.
            let _ = me.flush_packet(cx)?;
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        if me.packets && h4_len(&me.tx).is_some_and(|l| me.tx.len() >= l) {
            ready!(me.flush_packet(cx))?;
        }
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl FdStream {
    /// Sends the buffered packet in one write.
    fn flush_packet(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let mut guard = ready!(self.fd.poll_write_ready(cx))?;
            let tx = &self.tx;
            match guard.try_io(|fd| sys_write(fd.get_ref(), tx)) {
                Ok(Ok(_)) => {
                    self.tx.clear();
                    return Poll::Ready(Ok(()));
                }
                Ok(Err(e)) => return Poll::Ready(Err(e)),
                Err(_would_block) => continue,
            }
        }
    }
}

/// The host stack's controller over an opened stream (inside the BLE thread's runtime).
pub fn controller(opened: Opened) -> io::Result<Controller> {
    let stream: Boxed = match opened {
        Opened::Unix(s) => Box::new(tokio::net::UnixStream::from_std(s)?),
        Opened::Tcp(s) => Box::new(tokio::net::TcpStream::from_std(s)?),
        Opened::Serial(fd) => Box::new(FdStream::new(fd, false)?),
        Opened::UserChannel(fd) => Box::new(FdStream::new(fd, true)?),
    };
    let (r, w) = tokio::io::split(stream);
    let transport = SerialTransport::new(FromTokio::new(r), FromTokio::new(w));
    Ok(ExternalController::new(transport))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_print_back() {
        for s in [
            "unix:/tmp/a",
            "tcp:127.0.0.1:9000",
            "serial:/dev/ttyACM0,115200",
            "hci0",
            "hci12",
        ] {
            let h: Hci = s.parse().unwrap();
            assert_eq!(h.to_string(), s);
        }
        assert_eq!(
            "serial:/dev/ttyUSB0".parse::<Hci>().unwrap(),
            Hci::Serial("/dev/ttyUSB0".into(), DEFAULT_BAUD)
        );
        for bad in [
            "",
            "unix:",
            "tcp:host",
            "tcp::1",
            "serial:",
            "serial:/d,x",
            "hci",
            "hcix",
            "usb:0",
        ] {
            assert!(bad.parse::<Hci>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn h4_lengths_follow_the_headers() {
        // HCI Reset: 01 03 0c 00.
        assert_eq!(h4_len(&[0x01, 0x03, 0x0c, 0x00]), Some(4));
        assert_eq!(h4_len(&[0x01, 0x03, 0x0c]), None);
        // ACL, 0x0102 bytes of data.
        assert_eq!(h4_len(&[0x02, 0x40, 0x00, 0x02, 0x01]), Some(5 + 0x102));
        assert_eq!(h4_len(&[0x02, 0x40, 0x00, 0x02]), None);
        assert_eq!(h4_len(&[]), None);
    }

    /// In packet mode, a packet written in pieces leaves in one write, as the HCI user
    /// channel needs (a socketpair of datagrams stands in for it).
    #[test]
    fn packet_mode_writes_whole_packets_and_reads_them() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(packet_mode());
    }

    async fn packet_mode() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (a, b) = std::os::unix::net::UnixDatagram::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let mut s = FdStream::new(OwnedFd::from(a), true).unwrap();
        // Command header, then its parameters, in separate writes.
        s.write_all(&[0x01, 0x01, 0x20]).await.unwrap();
        s.write_all(&[0x02]).await.unwrap();
        s.write_all(&[0xaa, 0xbb]).await.unwrap();
        s.flush().await.unwrap();
        let mut got = [0u8; 64];
        let n = b.recv(&mut got).unwrap();
        assert_eq!(&got[..n], &[0x01, 0x01, 0x20, 0x02, 0xaa, 0xbb]);
        // An event datagram read byte by byte, then the next datagram.
        b.send(&[0x04, 0x0e, 0x01, 0x05]).unwrap();
        b.send(&[0x04, 0x0f]).unwrap();
        let mut one = [0u8; 1];
        let mut seen = Vec::new();
        for _ in 0..6 {
            s.read_exact(&mut one).await.unwrap();
            seen.push(one[0]);
        }
        assert_eq!(seen, [0x04, 0x0e, 0x01, 0x05, 0x04, 0x0f]);
    }
}
