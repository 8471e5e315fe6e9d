//! The clients: SMP requests built with minicbor and the smp crate's header type, sent over
//! UDP (sequential, pipelined, image upload) and over a PTY (serial framing by the smp
//! crate's codec). Every wait has a timeout: nothing here can hang.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::{Duration, Instant};

use minicbor::encode::write::{Cursor, EndOfSlice};
use minicbor::Encoder;
use smp::codec::serial;
use smp::wire::{Header, HEADER_LEN};

/// How long a request may wait for its reply before it counts as lost.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(1);
/// Sequential requests lost in a row after which the server counts as stuck (an error).
const STUCK_AFTER: usize = 5;

fn stuck() -> io::Error {
    io::Error::other(format!(
        "{STUCK_AFTER} requests in a row got no reply within {REPLY_TIMEOUT:?}: server stuck or gone"
    ))
}

const OP_WRITE: u8 = 2;
const OP_WRITE_RSP: u8 = 3;
/// SMP version 1 (the "SMP v2" protocol revision) in the header's version bits.
const SMP_V2: u8 = 1;
const GROUP_OS: u16 = 0;
const OS_ECHO: u8 = 0;
const GROUP_IMG: u16 = 1;
const IMG_UPLOAD: u8 = 1;
const IMG_ERASE: u8 = 5;

/// Largest request built here.
const MAX_REQ: usize = 2048;

type Enc<'a> = Encoder<Cursor<&'a mut [u8]>>;
type EncResult = Result<(), minicbor::encode::Error<EndOfSlice>>;

/// Builds a write request of `group`/`id` with sequence number `seq` and the CBOR payload
/// `body` writes; returns the packet.
pub fn request(
    group: u16,
    id: u8,
    seq: u8,
    body: impl FnOnce(&mut Enc<'_>) -> EncResult,
) -> Vec<u8> {
    let mut buf = vec![0u8; MAX_REQ];
    let len = {
        let mut enc = Encoder::new(Cursor::new(&mut buf[HEADER_LEN..]));
        body(&mut enc).expect("an SMP request fits in 2048 bytes");
        enc.writer().position()
    };
    let mut h = Header::new_unchecked(&mut buf[..HEADER_LEN]);
    h.set_op_version(OP_WRITE, SMP_V2);
    h.set_flags(0);
    h.set_len(len as u16);
    h.set_group(group);
    h.set_seq(seq);
    h.set_id(id);
    buf.truncate(HEADER_LEN + len);
    buf
}

/// `os echo` of `text`.
pub fn echo_request(text: &str) -> Vec<u8> {
    request(GROUP_OS, OS_ECHO, 0, |e| {
        e.map(1)?.str("d")?.str(text)?;
        Ok(())
    })
}

/// Sets the sequence number of a packet built by [`request`].
pub fn set_seq(packet: &mut [u8], seq: u8) {
    Header::new_unchecked(packet).set_seq(seq);
}

fn seq_of(packet: &[u8]) -> Option<u8> {
    Header::new_checked(packet).ok().map(|h| h.seq())
}

/// Checks that `reply` answers `req` (write response of the same group, id and seq, whole
/// payload); the bare echo's reply is `req` itself, which passes as well.
fn answers(req: &[u8], reply: &[u8], bare: bool) -> bool {
    let (Ok(q), Ok(r)) = (Header::new_checked(req), Header::new_checked(reply)) else {
        return false;
    };
    let op_ok = if bare {
        r.op() == q.op()
    } else {
        r.op() == OP_WRITE_RSP
    };
    op_ok
        && r.group() == q.group()
        && r.id() == q.id()
        && r.seq() == q.seq()
        && reply.len() == HEADER_LEN + r.len() as usize
}

/// Positions a decoder on the value of the text-keyed field `key` of a reply's top-level
/// CBOR map (definite or indefinite length).
fn find_field<'b>(reply: &'b [u8], key: &str) -> Option<minicbor::Decoder<'b>> {
    use minicbor::data::Type;
    let mut d = minicbor::Decoder::new(reply.get(HEADER_LEN..)?);
    let mut left = d.map().ok()?;
    loop {
        match left {
            Some(0) => return None,
            Some(ref mut n) => *n -= 1,
            None if d.datatype().ok()? == Type::Break => return None,
            None => {}
        }
        let k = d.str().ok()?;
        if k == key {
            return Some(d);
        }
        d.skip().ok()?;
    }
}

/// The unsigned field `key` of a reply's top-level map.
pub fn field_u64(reply: &[u8], key: &str) -> Option<u64> {
    find_field(reply, key)?.u64().ok()
}

/// The text field `key` of a reply's top-level map.
pub fn field_str(reply: &[u8], key: &str) -> Option<String> {
    find_field(reply, key)?.str().ok().map(str::to_string)
}

/// A UDP client socket connected to `server`.
pub fn udp_client(server: SocketAddr, timeout: Duration) -> io::Result<UdpSocket> {
    let sock = UdpSocket::bind("127.0.0.1:0")?;
    sock.connect(server)?;
    sock.set_read_timeout(Some(timeout))?;
    Ok(sock)
}

/// Sends `req` and waits for its answer (stale replies of an earlier seq are skipped).
/// Returns the reply length, or None after [`REPLY_TIMEOUT`].
pub fn udp_call(
    sock: &UdpSocket,
    req: &[u8],
    buf: &mut [u8],
    bare: bool,
) -> io::Result<Option<usize>> {
    sock.send(req)?;
    let end = Instant::now() + REPLY_TIMEOUT;
    loop {
        match sock.recv(buf) {
            Ok(n) if answers(req, &buf[..n], bare) => return Ok(Some(n)),
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(e),
        }
        if Instant::now() >= end {
            return Ok(None);
        }
    }
}

/// Sequential round trips: appends each one's duration in ns to `rtts`; returns the number
/// of requests without an answer within [`REPLY_TIMEOUT`].
pub fn udp_rtts(
    server: SocketAddr,
    req: &[u8],
    n: usize,
    bare: bool,
    rtts: &mut Vec<u64>,
) -> io::Result<usize> {
    let sock = udp_client(server, REPLY_TIMEOUT)?;
    let mut req = req.to_vec();
    let mut buf = vec![0u8; 4096];
    let (mut lost, mut in_a_row) = (0, 0);
    for i in 0..n {
        set_seq(&mut req, i as u8);
        let t0 = Instant::now();
        match udp_call(&sock, &req, &mut buf, bare)? {
            Some(_) => {
                rtts.push(t0.elapsed().as_nanos() as u64);
                in_a_row = 0;
            }
            None => {
                lost += 1;
                in_a_row += 1;
                if in_a_row == STUCK_AFTER {
                    return Err(stuck());
                }
            }
        }
    }
    Ok(lost)
}

/// What one pipelining client saw.
#[derive(Debug, Default, Clone, Copy)]
pub struct Pipelined {
    /// Replies received before the deadline.
    pub replies: u64,
    /// Requests without a reply within [`REPLY_TIMEOUT`] (in the run or after it).
    pub lost: u64,
}

/// One pipelining client: keeps `depth` requests in flight (distinct seq, replies matched by
/// seq) until `deadline`, then waits at most [`REPLY_TIMEOUT`] for the last ones.
pub fn udp_pipelined(
    server: SocketAddr,
    req: &[u8],
    depth: usize,
    deadline: Instant,
) -> io::Result<Pipelined> {
    let sock = udp_client(server, Duration::from_millis(20))?;
    let mut req = req.to_vec();
    let mut buf = vec![0u8; 4096];
    let mut sent_at: [Option<Instant>; 256] = [None; 256];
    let mut next: u8 = 0;
    let mut out = Pipelined::default();
    let mut in_flight = 0usize;
    let mut send_one =
        |sent_at: &mut [Option<Instant>; 256], in_flight: &mut usize| -> io::Result<()> {
            while sent_at[next as usize].is_some() {
                next = next.wrapping_add(1);
            }
            set_seq(&mut req, next);
            sock.send(&req)?;
            sent_at[next as usize] = Some(Instant::now());
            next = next.wrapping_add(1);
            *in_flight += 1;
            Ok(())
        };
    for _ in 0..depth {
        send_one(&mut sent_at, &mut in_flight)?;
    }
    let mut last_sweep = Instant::now();
    let mut drain_end = None;
    loop {
        let now = Instant::now();
        let sending = now < deadline;
        if !sending {
            let end = *drain_end.get_or_insert(now + REPLY_TIMEOUT);
            if in_flight == 0 || now >= end {
                out.lost += in_flight as u64;
                return Ok(out);
            }
        }
        let got = match sock.recv(&mut buf) {
            Ok(n) => Some(n),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                None
            }
            Err(e) => return Err(e),
        };
        if let Some(seq) = got.and_then(|n| seq_of(&buf[..n])) {
            if sent_at[seq as usize].take().is_some() {
                in_flight -= 1;
                if sending {
                    out.replies += 1;
                    send_one(&mut sent_at, &mut in_flight)?;
                }
            }
        }
        // Requests older than the timeout are lost: their slot takes a new request.
        if got.is_none() || last_sweep.elapsed() > Duration::from_millis(50) {
            last_sweep = Instant::now();
            for slot in sent_at.iter_mut() {
                if slot.is_some_and(|t| t.elapsed() > REPLY_TIMEOUT) {
                    *slot = None;
                    in_flight -= 1;
                    out.lost += 1;
                }
            }
            while sending && in_flight < depth {
                send_one(&mut sent_at, &mut in_flight)?;
            }
        }
    }
}

/// What one upload did.
#[derive(Debug, Clone, Copy)]
pub struct Upload {
    pub wall: Duration,
    /// Requests sent, retries included.
    pub requests: usize,
    pub retries: usize,
}

fn rc_error(reply: &[u8]) -> Option<String> {
    match field_u64(reply, "rc") {
        Some(0) | None => {}
        Some(rc) => return Some(format!("rc {rc}")),
    }
    // SMP v2 group errors: {"err": {"group": g, "rc": r}}.
    find_field(reply, "err").map(|_| "group error".into())
}

/// Erases image 0's secondary slot (img erase), so that every upload starts the same way.
pub fn img_erase(server: SocketAddr) -> Result<(), String> {
    let sock = udp_client(server, REPLY_TIMEOUT).map_err(|e| e.to_string())?;
    let req = request(GROUP_IMG, IMG_ERASE, 0, |e| {
        e.map(0)?;
        Ok(())
    });
    let mut buf = vec![0u8; 4096];
    let n = udp_call(&sock, &req, &mut buf, false)
        .map_err(|e| e.to_string())?
        .ok_or("img erase: no reply")?;
    match rc_error(&buf[..n]) {
        Some(e) => Err(format!("img erase: {e}")),
        None => Ok(()),
    }
}

/// Uploads `image` to image 0 (img upload, cmd 1) in chunks of `chunk` data bytes, one
/// request in flight, resending a chunk whose reply does not come within 1 s (5 times at
/// most).
pub fn img_upload(server: SocketAddr, image: &[u8], chunk: usize) -> Result<Upload, String> {
    use sha2::Digest;
    let sha: [u8; 32] = sha2::Sha256::digest(image).into();
    let sock = udp_client(server, REPLY_TIMEOUT).map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; 4096];
    let t0 = Instant::now();
    let mut off = 0usize;
    let mut seq = 0u8;
    let (mut requests, mut retries) = (0, 0);
    while off < image.len() {
        let data = &image[off..(off + chunk).min(image.len())];
        let req = request(GROUP_IMG, IMG_UPLOAD, seq, |e| {
            if off == 0 {
                e.map(5)?
                    .str("image")?
                    .u32(0)?
                    .str("len")?
                    .u32(image.len() as u32)?
                    .str("sha")?
                    .bytes(&sha)?;
            } else {
                e.map(2)?;
            }
            e.str("off")?.u32(off as u32)?.str("data")?.bytes(data)?;
            Ok(())
        });
        seq = seq.wrapping_add(1);
        let mut tries = 0;
        let n = loop {
            requests += 1;
            match udp_call(&sock, &req, &mut buf, false).map_err(|e| e.to_string())? {
                Some(n) => break n,
                None if tries < 5 => {
                    tries += 1;
                    retries += 1;
                }
                None => return Err(format!("img upload: no reply at offset {off}")),
            }
        };
        let reply = &buf[..n];
        if let Some(e) = rc_error(reply) {
            return Err(format!("img upload at offset {off}: {e}"));
        }
        let next = field_u64(reply, "off").ok_or("img upload: reply without off")? as usize;
        if next <= off && next != image.len() {
            return Err(format!("img upload: offset {off} answered with {next}"));
        }
        off = next;
    }
    Ok(Upload {
        wall: t0.elapsed(),
        requests,
        retries,
    })
}

/// A client on the slave side of a PTY, speaking the serial framing.
pub struct PtyClient {
    file: File,
    decoder: serial::Decoder<Vec<u8>>,
    frame: Vec<u8>,
    rx: Vec<u8>,
}

impl PtyClient {
    pub fn open(path: &Path) -> io::Result<PtyClient> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOCTTY)
            .open(path)?;
        crate::echo::make_raw(file.as_raw_fd())?;
        let mut c = PtyClient {
            file,
            decoder: serial::Decoder::new(vec![0u8; 4096]),
            frame: Vec::with_capacity(4096),
            rx: vec![0u8; 4096],
        };
        // Whatever the other side wrote before (a prompt, a banner) is not a reply.
        while c.wait_readable(Duration::from_millis(100))? {
            let _ = c.file.read(&mut c.rx)?;
        }
        Ok(c)
    }

    fn wait_readable(&self, timeout: Duration) -> io::Result<bool> {
        let mut pfd = libc::pollfd {
            fd: self.file.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, and the 1 we pass is its count.
        let rc = unsafe { libc::poll(&mut pfd, 1, timeout.as_millis() as libc::c_int) };
        match rc {
            -1 => {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    Ok(false)
                } else {
                    Err(e)
                }
            }
            0 => Ok(false),
            _ => Ok(true),
        }
    }

    /// Sends `req` framed and waits for its answer; false after [`REPLY_TIMEOUT`].
    pub fn call(&mut self, req: &[u8], bare: bool) -> io::Result<bool> {
        self.frame.clear();
        serial::encode(req, |line| self.frame.extend_from_slice(line));
        self.file.write_all(&self.frame)?;
        let end = Instant::now() + REPLY_TIMEOUT;
        let mut done = false;
        while !done {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() || !self.wait_readable(left)? {
                if Instant::now() >= end {
                    return Ok(false);
                }
                continue;
            }
            let n = self.file.read(&mut self.rx)?;
            for &b in &self.rx[..n] {
                if self.decoder.push(b) == serial::Event::Packet
                    && answers(req, self.decoder.packet(), bare)
                {
                    done = true;
                }
            }
        }
        Ok(true)
    }

    /// Sequential round trips, as [`udp_rtts`].
    pub fn rtts(
        &mut self,
        req: &[u8],
        n: usize,
        bare: bool,
        rtts: &mut Vec<u64>,
    ) -> io::Result<usize> {
        let mut req = req.to_vec();
        let (mut lost, mut in_a_row) = (0, 0);
        for i in 0..n {
            set_seq(&mut req, i as u8);
            let t0 = Instant::now();
            if self.call(&req, bare)? {
                rtts.push(t0.elapsed().as_nanos() as u64);
                in_a_row = 0;
            } else {
                lost += 1;
                in_a_row += 1;
                if in_a_row == STUCK_AFTER {
                    return Err(stuck());
                }
            }
        }
        Ok(lost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_request_is_an_os_echo_write_with_its_text() {
        let mut req = echo_request("hi there");
        set_seq(&mut req, 42);
        let h = Header::new_checked(&req[..]).unwrap();
        assert_eq!((h.op(), h.version()), (OP_WRITE, SMP_V2));
        assert_eq!((h.group(), h.id(), h.seq()), (GROUP_OS, OS_ECHO, 42));
        assert_eq!(HEADER_LEN + h.len() as usize, req.len());
        assert_eq!(field_str(&req, "d").as_deref(), Some("hi there"));
        assert_eq!(field_str(&req, "r"), None);
    }

    fn reply_to(req: &[u8], indefinite: bool) -> Vec<u8> {
        let mut buf = vec![0u8; 256];
        let len = {
            let mut e = Encoder::new(Cursor::new(&mut buf[HEADER_LEN..]));
            if indefinite {
                e.begin_map().unwrap();
            } else {
                e.map(3).unwrap();
            }
            e.str("x")
                .unwrap()
                .array(2)
                .unwrap()
                .u8(1)
                .unwrap()
                .u8(2)
                .unwrap();
            e.str("off").unwrap().u32(70_000).unwrap();
            e.str("r").unwrap().str("yes").unwrap();
            if indefinite {
                e.end().unwrap();
            }
            e.writer().position()
        };
        buf[..HEADER_LEN].copy_from_slice(&req[..HEADER_LEN]);
        let mut h = Header::new_unchecked(&mut buf[..HEADER_LEN]);
        h.set_op_version(OP_WRITE_RSP, SMP_V2);
        h.set_len(len as u16);
        buf.truncate(HEADER_LEN + len);
        buf
    }

    #[test]
    fn fields_are_found_in_definite_and_indefinite_maps() {
        let req = echo_request("a");
        for indefinite in [false, true] {
            let r = reply_to(&req, indefinite);
            assert_eq!(
                field_u64(&r, "off"),
                Some(70_000),
                "indefinite {indefinite}"
            );
            assert_eq!(field_str(&r, "r").as_deref(), Some("yes"));
            assert_eq!(field_u64(&r, "rc"), None);
            assert_eq!(rc_error(&r), None);
        }
    }

    #[test]
    fn a_reply_answers_only_its_own_request() {
        let mut req = echo_request("a");
        set_seq(&mut req, 7);
        let reply = reply_to(&req, false);
        assert!(answers(&req, &reply, false));
        // The bare echo returns the request itself: a write, not a write response.
        assert!(!answers(&req, &reply, true));
        assert!(answers(&req, &req, true));
        let mut other = req.clone();
        set_seq(&mut other, 8);
        assert!(!answers(&other, &reply, false));
        assert!(!answers(&req, &reply[..reply.len() - 1], false));
    }

    #[test]
    fn a_nonzero_rc_is_an_error() {
        let req = request(GROUP_IMG, IMG_UPLOAD, 0, |e| {
            e.map(1)?.str("rc")?.u8(3)?;
            Ok(())
        });
        assert_eq!(rc_error(&req).as_deref(), Some("rc 3"));
    }
}
