//! The device's engine: one event loop (mio) over every transport, with the SMP core run
//! inline on it.
//!
//! One thread waits on every source at once: the UDP sockets, the consoles (PTY or serial
//! line), the signal pipe and the core's timers. A source that becomes readable is served
//! until it would block, a few packets at a time in turn with the others, and each packet
//! goes straight to the core: no thread hop, no queue, no allocation per datagram (one
//! receive buffer and one response buffer are reused). A packet is read only when it can
//! be processed, so a burst waits in the kernel's socket buffer and nothing that fits there
//! is lost; `buf_count` remains what `os mcumgr params` tells a pipelining client to use.
//!
//! The responses of one request go out before the next request is read, so they keep
//! request order on every transport. A console whose output the peer does not read is not
//! read either while its backlog exceeds [`OUTPUT_HIGH_WATER`]: a client is throttled,
//! never answered out of order or dropped.
//!
//! Why mio and not a current-thread tokio runtime: in smp-bench's engine section (bare UDP
//! echoes, same run, pinned) mio costs less per request than tokio, and a loop that reads
//! only when it can process keeps backpressure explicit. The Bluetooth LE transport
//! (trouble-host, async; `ble.rs`) runs its host stack on an executor of its own and hands
//! complete SMP packets to this loop through a channel and a `mio::Waker`
//! ([`Engine::add_ble`]); responses go back through another channel.

use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::time::Instant;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use crate::console::{self, ConsoleEvent, ConsoleIn, ConsoleOut, OUTPUT_HIGH_WATER};
use crate::fault::{Delayed, Fate, Faults};
use crate::stats::TransportStats;
use crate::udp::{UdpPort, MAX_DATAGRAM};

/// Packets (datagrams, or console reads) served from one source before the next ready one
/// gets its turn.
const BATCH: usize = 8;

/// Bytes read from a console at once.
const CONSOLE_READ: usize = 4096;

/// Where a response goes.
#[derive(Debug, Clone, Copy)]
pub enum Peer {
    /// Back to a UDP peer through UDP port `port`.
    Udp {
        /// Index of the UDP port.
        port: usize,
        /// The request's source.
        addr: SocketAddr,
    },
    /// Back onto console `n`, framed.
    Console(usize),
    /// Back to Bluetooth LE connection `conn` (dropped if it has ended).
    Ble {
        /// The connection's number.
        conn: u32,
    },
}

/// What a source delivered.
pub enum Input<'a> {
    /// An SMP packet (or several back to back) from a transport.
    Smp {
        /// Transport number.
        transport: u8,
        /// The received bytes.
        data: &'a [u8],
        /// Where the responses go.
        peer: Peer,
    },
    /// A line typed on console `console`'s shell.
    Line {
        /// The console it came from.
        console: usize,
        /// The line, without its terminator.
        line: String,
    },
}

/// What the device tells the engine after an input or a timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Keep serving.
    Continue,
    /// The device resets: stop serving this boot.
    Reset,
}

/// Why [`Engine::serve`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The device asked for a reset.
    Reset,
    /// SIGINT or SIGTERM arrived.
    Signal(i32),
}

/// The device as the engine drives it (one boot of it).
pub trait Device {
    /// Handles one input; responses go through `out`.
    fn input(&mut self, out: &mut Outputs, input: Input<'_>) -> Flow;
    /// When the device next wants [`Device::timer`] (`None`: no timer pending).
    fn deadline(&self) -> Option<Instant>;
    /// Called at (or soon after) the deadline.
    fn timer(&mut self, out: &mut Outputs) -> Flow;
}

/// A console: its decoder and what it counts.
struct ConsoleSource {
    input: ConsoleIn,
    transport: u8,
    stats: TransportStats,
    /// The line's descriptor, as registered with the poll.
    fd: std::os::fd::RawFd,
    /// Whether the poll also waits for the line to become writable (only while output
    /// is queued: a writable line wakes nobody otherwise).
    writable: bool,
}

/// The sending side of every transport, handed to the device with each input.
pub struct Outputs {
    udp: Vec<UdpPort>,
    consoles: Vec<ConsoleOut>,
    console_stats: Vec<TransportStats>,
    ble: Option<crate::ble::Outbox>,
}

impl Outputs {
    /// Sends one response packet to `peer`, counting it.
    pub fn send(&mut self, peer: Peer, packet: &[u8]) {
        match peer {
            Peer::Udp { port, addr } => self.udp[port].send(packet, addr),
            Peer::Console(n) => {
                self.consoles[n].write_smp(packet);
                self.console_stats[n].tx(packet.len());
            }
            Peer::Ble { conn } => {
                if let Some(b) = &self.ble {
                    b.send(conn, packet);
                }
            }
        }
    }

    /// Counts a dropped packet on `peer`'s transport.
    pub fn dropped(&self, peer: Peer) {
        match peer {
            Peer::Udp { port, .. } => self.udp[port].stats.dropped(),
            Peer::Console(n) => self.console_stats[n].dropped(),
            Peer::Ble { .. } => self.ble.iter().for_each(|b| b.stats.dropped()),
        }
    }

    /// Counts an error on `peer`'s transport.
    pub fn error(&self, peer: Peer) {
        match peer {
            Peer::Udp { port, .. } => self.udp[port].stats.error(),
            Peer::Console(n) => self.console_stats[n].error(),
            Peer::Ble { .. } => self.ble.iter().for_each(|b| b.stats.error()),
        }
    }

    /// Writes shell text on console `n`.
    pub fn console_text(&mut self, n: usize, text: &str) {
        self.consoles[n].write_text(text);
    }

    /// Number of consoles.
    pub fn consoles(&self) -> usize {
        self.consoles.len()
    }
}

/// Logs one SMP packet's header at debug level.
pub fn log_packet(dir: &str, transport: u8, p: &[u8]) {
    if log::log_enabled!(log::Level::Debug) {
        if let Ok(h) = smp::wire::HeaderRepr::from_bytes(p) {
            log::debug!("t{transport} {dir} {h}");
        }
    }
}

/// Token of the signal pipe; sources follow it.
const SIGNALS: Token = Token(0);

/// Token of the Bluetooth LE thread's waker (apart from the numbered sources).
const BLE: Token = Token(usize::MAX - 1);

/// The event loop and every transport it serves.
pub struct Engine {
    poll: Poll,
    events: Events,
    out: Outputs,
    consoles: Vec<ConsoleSource>,
    /// Per source (UDP ports, then consoles): readable and not yet drained.
    ready: Vec<bool>,
    /// The signal pipe: SIGINT and SIGTERM each write their number.
    signals: UnixStream,
    rx: Vec<u8>,
    buf_size: usize,
    /// Faults injected on input (`--fault`).
    faults: Option<Faults>,
    /// Requests from the Bluetooth LE thread, and whether some may wait.
    ble: Option<crate::ble::Inbox>,
    ble_ready: bool,
}

/// Hands one SMP request to the device, through the injected faults if there are any.
fn deliver(
    faults: &mut Option<Faults>,
    out: &mut Outputs,
    dev: &mut impl Device,
    transport: u8,
    data: &[u8],
    peer: Peer,
) -> Flow {
    let input = |data| Input::Smp {
        transport,
        data,
        peer,
    };
    let Some(f) = faults else {
        return dev.input(out, input(data));
    };
    let header = || {
        smp::wire::HeaderRepr::from_bytes(data)
            .map_or_else(|_| format!("{} bytes", data.len()), |h| h.to_string())
    };
    let (copies, delay) = match f.decide() {
        Fate::Dropped => {
            log::info!("fault: t{transport} request dropped ({})", header());
            out.dropped(peer);
            return Flow::Continue;
        }
        Fate::Delivered { copies, delay } => (copies, delay),
    };
    if copies > 1 {
        log::info!("fault: t{transport} request duplicated ({})", header());
    }
    if !delay.is_zero() {
        log::info!(
            "fault: t{transport} request delayed {} ms ({})",
            delay.as_millis(),
            header()
        );
        let due = Instant::now() + delay;
        for _ in 0..copies {
            f.delayed.push_back(Delayed {
                due,
                transport,
                peer,
                data: data.to_vec(),
            });
        }
        return Flow::Continue;
    }
    for _ in 0..copies {
        if dev.input(out, input(data)) == Flow::Reset {
            return Flow::Reset;
        }
    }
    Flow::Continue
}

impl Engine {
    /// An engine with no transport yet; SIGINT and SIGTERM end [`Engine::serve`] from now
    /// on.
    pub fn new(buf_size: usize) -> io::Result<Self> {
        let poll = Poll::new()?;
        let (signals, writer) = UnixStream::pair()?;
        signals.set_nonblocking(true)?;
        writer.set_nonblocking(true)?;
        // The writing end lives as long as the process: the handlers use it.
        let fd = std::os::fd::IntoRawFd::into_raw_fd(writer);
        for sig in [libc::SIGINT, libc::SIGTERM] {
            let byte = sig as u8;
            let action = move || {
                // SAFETY: `fd` is the open, never-closed writing end of the pair and
                // `byte` a live local; write(2) is async-signal-safe. A full pipe (a
                // signal already pending) loses nothing that matters.
                unsafe {
                    libc::write(fd, (&byte as *const u8).cast(), 1);
                }
            };
            // SAFETY: the action only calls write(2): it allocates nothing, takes no lock
            // and calls nothing that is not async-signal-safe.
            unsafe { signal_hook::low_level::register(sig, action) }?;
        }
        poll.registry().register(
            &mut SourceFd(&signals.as_raw_fd()),
            SIGNALS,
            Interest::READABLE,
        )?;
        Ok(Engine {
            poll,
            events: Events::with_capacity(64),
            out: Outputs {
                udp: Vec::new(),
                consoles: Vec::new(),
                console_stats: Vec::new(),
                ble: None,
            },
            consoles: Vec::new(),
            ready: Vec::new(),
            signals,
            rx: vec![0u8; MAX_DATAGRAM.max(buf_size)],
            buf_size,
            faults: None,
            ble: None,
            ble_ready: false,
        })
    }

    fn token(&self) -> Token {
        Token(1 + self.ready.len())
    }

    /// Adds a UDP transport.
    pub fn add_udp(&mut self, mut port: UdpPort) -> io::Result<()> {
        assert!(self.consoles.is_empty(), "UDP ports come before consoles");
        let token = self.token();
        self.poll
            .registry()
            .register(&mut port.sock, token, Interest::READABLE)?;
        self.out.udp.push(port);
        self.ready.push(true);
        Ok(())
    }

    /// Adds a console: `file` is its line (read and written; made non-blocking here).
    pub fn add_console(
        &mut self,
        name: String,
        file: std::fs::File,
        raw: bool,
        transport: u8,
        stats: TransportStats,
    ) -> io::Result<()> {
        nix::fcntl::fcntl(
            file.as_raw_fd(),
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
        )?;
        let token = self.token();
        let fd = file.as_raw_fd();
        self.poll
            .registry()
            .register(&mut SourceFd(&fd), token, Interest::READABLE)?;
        self.consoles.push(ConsoleSource {
            input: ConsoleIn::new(raw, self.buf_size),
            transport,
            stats: stats.clone(),
            fd,
            writable: false,
        });
        self.out.consoles.push(ConsoleOut::new(name, file, raw));
        self.out.console_stats.push(stats);
        self.ready.push(true);
        Ok(())
    }

    /// Adds the Bluetooth LE transport: `start` gets the waker that tells this loop a
    /// request is queued, and starts the thread that runs the host stack.
    pub fn add_ble(
        &mut self,
        start: impl FnOnce(
            std::sync::Arc<mio::Waker>,
        ) -> io::Result<(crate::ble::Inbox, crate::ble::Outbox)>,
    ) -> io::Result<()> {
        let waker = std::sync::Arc::new(mio::Waker::new(self.poll.registry(), BLE)?);
        let (inbox, outbox) = start(waker)?;
        self.ble = Some(inbox);
        self.out.ble = Some(outbox);
        Ok(())
    }

    /// Serves up to [`BATCH`] queued Bluetooth LE requests; returns whether none is left.
    fn serve_ble(&mut self, dev: &mut impl Device) -> (bool, Flow) {
        let Some(inbox) = &self.ble else {
            return (true, Flow::Continue);
        };
        for _ in 0..BATCH {
            let Some(req) = inbox.try_recv() else {
                return (true, Flow::Continue);
            };
            inbox.stats.rx(req.data.len());
            log_packet("<-", inbox.transport, &req.data);
            let peer = Peer::Ble { conn: req.conn };
            let flow = deliver(
                &mut self.faults,
                &mut self.out,
                dev,
                inbox.transport,
                &req.data,
                peer,
            );
            if flow == Flow::Reset {
                return (false, flow);
            }
        }
        (false, Flow::Continue)
    }

    /// Injects `faults` on the input of every transport from now on.
    pub fn set_faults(&mut self, faults: Option<Faults>) {
        self.faults = faults;
    }

    /// Processes the held-back requests that are due.
    fn run_delayed(&mut self, dev: &mut impl Device) -> Flow {
        let Some(f) = &mut self.faults else {
            return Flow::Continue;
        };
        while f.next_due().is_some_and(|d| d <= Instant::now()) {
            let d = f.delayed.pop_front().expect("a due request");
            let input = Input::Smp {
                transport: d.transport,
                data: &d.data,
                peer: d.peer,
            };
            if dev.input(&mut self.out, input) == Flow::Reset {
                return Flow::Reset;
            }
        }
        Flow::Continue
    }

    /// The sending side, for output outside a request (the boot banner).
    pub fn outputs(&mut self) -> &mut Outputs {
        &mut self.out
    }

    /// Serves `dev` until it resets or a signal arrives.
    pub fn serve(&mut self, dev: &mut impl Device) -> io::Result<Ended> {
        loop {
            // One turn: each ready source serves a batch. A source that is not drained
            // stays ready; the poll below then only collects what became ready meanwhile
            // (timeout 0), so a source that turns ready while others are busy waits one
            // turn, never until they all drain.
            let mut more = false;
            for i in 0..self.ready.len() {
                if !self.ready[i] || self.paused(i) {
                    continue;
                }
                let (drained, flow) = self.serve_source(i, dev)?;
                if flow == Flow::Reset {
                    return Ok(Ended::Reset);
                }
                self.ready[i] = !drained;
                more |= !drained && !self.paused(i);
            }
            if self.ble_ready {
                let (drained, flow) = self.serve_ble(dev);
                if flow == Flow::Reset {
                    return Ok(Ended::Reset);
                }
                self.ble_ready = !drained;
                more |= !drained;
            }
            if self.timer_due(dev) && dev.timer(&mut self.out) == Flow::Reset {
                return Ok(Ended::Reset);
            }
            if self.run_delayed(dev) == Flow::Reset {
                return Ok(Ended::Reset);
            }
            self.watch_output()?;
            let due = self.faults.as_ref().and_then(Faults::next_due);
            let timeout = if more {
                Some(std::time::Duration::ZERO)
            } else {
                [dev.deadline(), due]
                    .into_iter()
                    .flatten()
                    .min()
                    .map(|d| d.saturating_duration_since(Instant::now()))
            };
            match self.poll.poll(&mut self.events, timeout) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            for ev in self.events.iter() {
                if ev.token() == SIGNALS {
                    let mut b = [0u8; 1];
                    if let Ok(Some(_)) = console::read_some(&self.signals, &mut b) {
                        return Ok(Ended::Signal(i32::from(b[0])));
                    }
                    continue;
                }
                if ev.token() == BLE {
                    self.ble_ready = true;
                    continue;
                }
                let i = ev.token().0 - 1;
                if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                    self.ready[i] = true;
                }
                if ev.is_writable() {
                    if let Some(c) = i.checked_sub(self.out.udp.len()) {
                        self.out.consoles[c].flush();
                    }
                }
            }
            if self.timer_due(dev) && dev.timer(&mut self.out) == Flow::Reset {
                return Ok(Ended::Reset);
            }
            if self.run_delayed(dev) == Flow::Reset {
                return Ok(Ended::Reset);
            }
        }
    }

    /// Waits for a console's line to become writable exactly while it has output queued.
    fn watch_output(&mut self) -> io::Result<()> {
        let first = 1 + self.out.udp.len();
        for (c, src) in self.consoles.iter_mut().enumerate() {
            let want = self.out.consoles[c].backlog() > 0;
            if want != src.writable {
                let interest = if want {
                    Interest::READABLE | Interest::WRITABLE
                } else {
                    Interest::READABLE
                };
                self.poll.registry().reregister(
                    &mut SourceFd(&src.fd),
                    Token(first + c),
                    interest,
                )?;
                src.writable = want;
            }
        }
        Ok(())
    }

    fn timer_due(&self, dev: &impl Device) -> bool {
        dev.deadline().is_some_and(|d| d <= Instant::now())
    }

    /// Whether source `i` is a console whose unread output is too large to read more.
    fn paused(&self, i: usize) -> bool {
        i.checked_sub(self.out.udp.len())
            .is_some_and(|c| self.out.consoles[c].backlog() > OUTPUT_HIGH_WATER)
    }

    /// Serves up to [`BATCH`] packets of source `i`; returns whether it is drained.
    fn serve_source(&mut self, i: usize, dev: &mut impl Device) -> io::Result<(bool, Flow)> {
        if i < self.out.udp.len() {
            return Ok(self.serve_udp(i, dev));
        }
        let c = i - self.out.udp.len();
        for _ in 0..BATCH {
            let mut buf = [0u8; CONSOLE_READ];
            let file = self.out.consoles[c].file();
            let n = match console::read_some(file, &mut buf) {
                Ok(Some(n)) => n,
                Ok(None) => return Ok((true, Flow::Continue)),
                Err(e) => {
                    log::warn!("{}: read failed: {e}", self.out.consoles[c].name());
                    return Ok((true, Flow::Continue));
                }
            };
            let src = &mut self.consoles[c];
            let (transport, stats) = (src.transport, &src.stats);
            let mut flow = Flow::Continue;
            let out = &mut self.out;
            let faults = &mut self.faults;
            // Every event of the chunk is handled, even after a reset request: the bytes
            // are read, and the device decides what a reset loses.
            src.input.feed(&buf[..n], |ev| {
                let f = match ev {
                    ConsoleEvent::Echo(e) => {
                        out.consoles[c].write_echo(e);
                        Flow::Continue
                    }
                    ConsoleEvent::Packet(p) => {
                        stats.rx(p.len());
                        log_packet("<-", transport, p);
                        deliver(faults, out, dev, transport, p, Peer::Console(c))
                    }
                    ConsoleEvent::Line(line) => dev.input(out, Input::Line { console: c, line }),
                    ConsoleEvent::Dropped(what) => {
                        stats.dropped();
                        log::warn!("{}: {what} dropped", out.consoles[c].name());
                        Flow::Continue
                    }
                };
                if f == Flow::Reset {
                    flow = Flow::Reset;
                }
            });
            if flow == Flow::Reset {
                return Ok((false, flow));
            }
            if self.paused(i) {
                return Ok((false, Flow::Continue));
            }
        }
        Ok((false, Flow::Continue))
    }

    fn serve_udp(&mut self, i: usize, dev: &mut impl Device) -> (bool, Flow) {
        for _ in 0..BATCH {
            let port = &self.out.udp[i];
            let (n, addr) = match port.recv(&mut self.rx) {
                Ok(Some(r)) => r,
                Ok(None) => return (true, Flow::Continue),
                Err(e) => {
                    // An ICMP error from an earlier send, for instance: not fatal.
                    log::debug!("udp receive failed: {e}");
                    continue;
                }
            };
            port.stats.rx(n);
            if n > self.buf_size {
                port.stats.dropped();
                // Zephyr cannot take a datagram larger than a net_buf: dropped.
                log::warn!(
                    "udp datagram of {n} bytes from {addr} exceeds buffer ({}): dropped",
                    self.buf_size
                );
                continue;
            }
            let transport = port.transport;
            log_packet("<-", transport, &self.rx[..n]);
            let flow = deliver(
                &mut self.faults,
                &mut self.out,
                dev,
                transport,
                &self.rx[..n],
                Peer::Udp { port: i, addr },
            );
            if flow == Flow::Reset {
                return (false, flow);
            }
        }
        (false, Flow::Continue)
    }

    /// The board is down: everything that arrives now is lost. Reads and discards what
    /// every source holds, forgets half-received console frames, and flushes console
    /// output.
    pub fn discard_input(&mut self) {
        for i in 0..self.out.udp.len() {
            while let Ok(Some(_)) = self.out.udp[i].recv(&mut self.rx) {}
        }
        for (c, src) in self.consoles.iter_mut().enumerate() {
            let mut buf = [0u8; CONSOLE_READ];
            while let Ok(Some(_)) = console::read_some(self.out.consoles[c].file(), &mut buf) {}
            src.input.reset(self.buf_size);
            self.out.consoles[c].flush();
        }
        // Requests held back by an injected delay were in the board's buffers: gone.
        if let Some(f) = &mut self.faults {
            f.delayed.clear();
        }
        // The link drops with the board; requests already queued are lost with it.
        if let Some(b) = &self.out.ble {
            b.disconnect();
        }
        if let Some(inbox) = &self.ble {
            while inbox.try_recv().is_some() {}
        }
        // Sources are served again from scratch after the boot.
        self.ready.iter_mut().for_each(|r| *r = true);
        self.ble_ready = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::HostStats;
    use std::net::UdpSocket;
    use std::sync::atomic::Ordering::Relaxed;

    /// Answers every SMP input with its own bytes; resets after `stop_after` inputs.
    struct Echo {
        seen: usize,
        stop_after: usize,
        deadline: Option<Instant>,
        /// Inputs seen when the timer ran.
        timer_at: Option<usize>,
        lines: Vec<String>,
    }

    impl Echo {
        fn new(stop_after: usize) -> Self {
            Echo {
                seen: 0,
                stop_after,
                deadline: None,
                timer_at: None,
                lines: Vec::new(),
            }
        }
    }

    impl Device for Echo {
        fn input(&mut self, out: &mut Outputs, input: Input<'_>) -> Flow {
            match input {
                Input::Smp { data, peer, .. } => out.send(peer, data),
                Input::Line { line, .. } => self.lines.push(line),
            }
            self.seen += 1;
            if self.seen == self.stop_after {
                Flow::Reset
            } else {
                Flow::Continue
            }
        }
        fn deadline(&self) -> Option<Instant> {
            self.deadline
        }
        fn timer(&mut self, _: &mut Outputs) -> Flow {
            self.deadline = None;
            self.timer_at = Some(self.seen);
            Flow::Continue
        }
    }

    fn udp_engine(buf_size: usize) -> (Engine, SocketAddr, TransportStats) {
        let mut e = Engine::new(buf_size).unwrap();
        let stats = HostStats::new().add_transport("smp_udp0");
        let sock = crate::udp::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = sock.local_addr().unwrap();
        let port = UdpPort {
            sock,
            transport: 0,
            stats: stats.clone(),
        };
        e.add_udp(port).unwrap();
        (e, addr, stats)
    }

    fn client() -> UdpSocket {
        let c = UdpSocket::bind("127.0.0.1:0").unwrap();
        c.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        c
    }

    /// A burst far beyond `buf_count` is served whole and in order: the datagrams wait in
    /// the socket buffer until the loop reads them (the old engine dropped all but 4).
    #[test]
    fn a_burst_is_served_whole_and_in_order() {
        let (mut e, addr, stats) = udp_engine(64);
        let c = client();
        for i in 0..200u32 {
            c.send_to(&i.to_be_bytes(), addr).unwrap();
        }
        let mut dev = Echo::new(200);
        assert_eq!(e.serve(&mut dev).unwrap(), Ended::Reset);
        let mut buf = [0u8; 16];
        for i in 0..200u32 {
            let n = c.recv(&mut buf).unwrap();
            assert_eq!(&buf[..n], i.to_be_bytes());
        }
        let t = stats.counters();
        assert_eq!(t.rx_pkts.load(Relaxed), 200);
        assert_eq!(t.tx_pkts.load(Relaxed), 200);
        assert_eq!(t.dropped.load(Relaxed), 0);
    }

    /// A datagram larger than the SMP buffer is dropped and counted; the next is served.
    #[test]
    fn an_oversize_datagram_is_dropped_and_counted() {
        let (mut e, addr, stats) = udp_engine(64);
        let c = client();
        c.send_to(&[7u8; 65], addr).unwrap();
        c.send_to(&[8u8; 64], addr).unwrap();
        let mut dev = Echo::new(1);
        e.serve(&mut dev).unwrap();
        let mut buf = [0u8; 128];
        let n = c.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], &[8u8; 64][..]);
        let t = stats.counters();
        assert_eq!(t.dropped.load(Relaxed), 1);
        assert_eq!(t.rx_pkts.load(Relaxed), 2);
    }

    /// A due timer runs between batches, however much traffic is waiting: the fs group's
    /// idle close is not starved by requests to other groups.
    #[test]
    fn a_due_timer_runs_between_batches() {
        let (mut e, addr, _) = udp_engine(64);
        let c = client();
        for i in 0..50u8 {
            c.send_to(&[i], addr).unwrap();
        }
        let mut dev = Echo::new(50);
        dev.deadline = Some(Instant::now());
        e.serve(&mut dev).unwrap();
        let at = dev.timer_at.expect("the timer ran");
        assert!(at <= BATCH, "timer ran after {at} inputs");
    }

    /// After a reset, what arrived while the board was down is discarded.
    #[test]
    fn discard_input_drops_what_waits() {
        let (mut e, addr, _) = udp_engine(64);
        let c = client();
        c.send_to(b"old", addr).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        e.discard_input();
        c.send_to(b"new", addr).unwrap();
        let mut dev = Echo::new(1);
        e.serve(&mut dev).unwrap();
        let mut buf = [0u8; 8];
        let n = c.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"new");
    }

    /// A console line carries SMP frames and shell lines; both reach the device in order
    /// and the frame's response goes back framed.
    #[test]
    fn console_frames_and_lines() {
        use smp::codec::serial;
        let dir = tempfile::tempdir().unwrap();
        let pty = console::open_pty(&dir.path().join("tty")).unwrap();
        let mut e = Engine::new(256).unwrap();
        let stats = HostStats::new();
        e.add_console(
            "pty".into(),
            pty.master.try_clone().unwrap(),
            false,
            0,
            stats.add_transport("smp_uart0"),
        )
        .unwrap();
        let mut client = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&pty.slave_path)
            .unwrap();
        let packet = [0x02u8, 0, 0, 2, 0, 0, 9, 0, 0xbf, 0xff];
        let mut frame = Vec::new();
        serial::encode(&packet, |l| frame.extend_from_slice(l));
        let mut input = b"help\r".to_vec();
        input.extend_from_slice(&frame);
        std::io::Write::write_all(&mut client, &input).unwrap();
        let mut dev = Echo::new(2);
        e.serve(&mut dev).unwrap();
        assert_eq!(dev.lines, vec!["help"]);
        // The echo of "help\r", then the framed packet.
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        while !got.ends_with(b"\n") || got.len() < 6 + frame.len() {
            let n = std::io::Read::read(&mut client, &mut buf).unwrap();
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(&got[..6], b"help\r\n");
        assert_eq!(&got[6..], &frame[..]);
    }

    /// Answers UDP input; on the 12th datagram (the second turn: the console was found
    /// empty in the first) types a frame on the console's far end.
    /// Records when the console packet was served.
    struct Typist {
        seen: usize,
        client: std::fs::File,
        frame: Vec<u8>,
        console_at: Option<usize>,
    }

    impl Device for Typist {
        fn input(&mut self, out: &mut Outputs, input: Input<'_>) -> Flow {
            self.seen += 1;
            match input {
                Input::Smp {
                    peer: Peer::Console(_),
                    ..
                } => {
                    self.console_at = Some(self.seen);
                    return Flow::Reset;
                }
                Input::Smp { data, peer, .. } => out.send(peer, data),
                Input::Line { .. } => {}
            }
            if self.seen == 12 {
                std::io::Write::write_all(&mut self.client, &self.frame).unwrap();
                // Long enough for the tty layer to deliver the bytes and wake the poll.
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Flow::Continue
        }
        fn deadline(&self) -> Option<Instant> {
            None
        }
        fn timer(&mut self, _: &mut Outputs) -> Flow {
            Flow::Continue
        }
    }

    /// A source that becomes ready while another is busy is served within a turn, not
    /// after the busy one drains.
    #[test]
    fn a_newly_ready_source_is_not_starved_by_a_busy_one() {
        use smp::codec::serial;
        let dir = tempfile::tempdir().unwrap();
        let pty = console::open_pty(&dir.path().join("tty")).unwrap();
        let (mut e, addr, _) = udp_engine(256);
        e.add_console(
            "pty".into(),
            pty.master.try_clone().unwrap(),
            false,
            1,
            HostStats::new().add_transport("smp_uart1"),
        )
        .unwrap();
        let client = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&pty.slave_path)
            .unwrap();
        let c = client_socket_burst(addr, 150);
        let mut frame = Vec::new();
        serial::encode(&[0x02u8, 0, 0, 2, 0, 0, 9, 0, 0xbf, 0xff], |l| {
            frame.extend_from_slice(l)
        });
        let mut dev = Typist {
            seen: 0,
            client,
            frame,
            console_at: None,
        };
        e.serve(&mut dev).unwrap();
        let at = dev.console_at.expect("console packet served");
        assert!(
            at <= 12 + 2 * BATCH + 1,
            "console served only at input {at}"
        );
        drop(c);
    }

    /// A client socket that has sent `n` datagrams to `addr`.
    fn client_socket_burst(addr: SocketAddr, n: u32) -> UdpSocket {
        let c = client();
        for i in 0..n {
            c.send_to(&i.to_be_bytes(), addr).unwrap();
        }
        c
    }

    /// Injected faults: a dropped request is counted and never reaches the device, a
    /// duplicated one reaches it twice, in the order a twin generator with the same seed
    /// predicts.
    #[test]
    fn injected_drops_and_duplicates_follow_the_seed() {
        use crate::fault::{Fate, Fault, Faults};
        let spec = [Fault::Drop(30.0), Fault::Duplicate(30.0)];
        let mut twin = Faults::new(&spec, 9).unwrap();
        let fates: Vec<Fate> = (0..40).map(|_| twin.decide()).collect();
        let mut expected = Vec::new();
        for (i, f) in fates.iter().enumerate() {
            if let Fate::Delivered { copies, .. } = f {
                for _ in 0..*copies {
                    expected.push(i as u32);
                }
            }
        }
        let dropped = fates.iter().filter(|f| **f == Fate::Dropped).count();
        assert!(
            dropped > 0 && expected.len() > 40 - dropped,
            "the seed exercises both"
        );
        // The last request must be delivered for the device to see its final input.
        let last = fates.iter().rposition(|f| *f != Fate::Dropped).unwrap();
        let (mut e, addr, stats) = udp_engine(64);
        e.set_faults(Faults::new(&spec, 9));
        let c = client();
        for i in 0..=last as u32 {
            c.send_to(&i.to_be_bytes(), addr).unwrap();
        }
        let mut dev = Echo::new(expected.len());
        e.serve(&mut dev).unwrap();
        let mut buf = [0u8; 8];
        for want in &expected {
            let n = c.recv(&mut buf).unwrap();
            assert_eq!(&buf[..n], want.to_be_bytes());
        }
        let lost_before_last = fates[..=last]
            .iter()
            .filter(|f| **f == Fate::Dropped)
            .count();
        assert_eq!(
            stats.counters().dropped.load(Relaxed),
            lost_before_last as u64
        );
    }

    /// A delayed request is processed no sooner than its delay, and in arrival order.
    #[test]
    fn injected_delay_holds_requests_back_in_order() {
        use crate::fault::{Fault, Faults};
        use std::time::Duration;
        let (mut e, addr, _) = udp_engine(64);
        e.set_faults(Faults::new(&[Fault::Delay(Duration::from_millis(60))], 1));
        let c = client();
        let start = Instant::now();
        for i in 0..3u8 {
            c.send_to(&[i], addr).unwrap();
        }
        let mut dev = Echo::new(3);
        e.serve(&mut dev).unwrap();
        assert!(start.elapsed() >= Duration::from_millis(60));
        let mut buf = [0u8; 4];
        for i in 0..3u8 {
            let n = c.recv(&mut buf).unwrap();
            assert_eq!(&buf[..n], [i]);
        }
    }
}
