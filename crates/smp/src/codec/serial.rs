//! Serial console framing (`serial_util.c` in Zephyr), used by the UART, console, shell and
//! USB CDC-ACM transports.
//!
//! A packet travels as `[len: u16 BE][SMP packet][CRC16-XMODEM: u16 BE]` (where `len` counts
//! the packet and the CRC), Base64-encoded and cut into lines of at most
//! [`MAX_FRAME`] bytes. The first line starts with `06 09`, continuation lines with `04 14`,
//! and every line ends with `\n`.
//!
//! [`encode`] reproduces Zephyr's transmitter byte for byte; [`Decoder`] is a tolerant
//! receiver that also separates console text from SMP lines, so one serial line can carry
//! both a shell and SMP.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// Longest serial line, marker and `\n` included (`MCUMGR_SERIAL_MAX_FRAME`).
pub const MAX_FRAME: usize = 127;
/// Marker of a packet's first line.
pub const MARKER_PKT: [u8; 2] = [0x06, 0x09];
/// Marker of a continuation line.
pub const MARKER_FRAG: [u8; 2] = [0x04, 0x14];

/// Longest line the decoder accepts: one byte more than [`MAX_FRAME`], as clients may send.
const MAX_RX_LINE: usize = MAX_FRAME + 1;

const CRC: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_XMODEM);

/// CRC-16/XMODEM (poly 0x1021, init 0, no reflection): the checksum of the serial framing.
pub fn crc16(data: &[u8]) -> u16 {
    CRC.checksum(data)
}

fn b64_group(raw: &[u8], out: &mut [u8; MAX_FRAME], pos: &mut usize) {
    // A group of at most 3 raw bytes always encodes to exactly 4 characters.
    let n = STANDARD
        .encode_slice(raw, &mut out[*pos..*pos + 4])
        .unwrap_or(0);
    *pos += n;
}

/// Encodes one SMP packet as serial lines exactly as Zephyr's `mcumgr_serial_tx_pkt` does,
/// calling `emit` once per complete line (marker, Base64 body and `\n`).
///
/// Continuation lines carry at most 90 raw bytes, as Zephyr's do. An empty packet emits
/// nothing.
pub fn encode(packet: &[u8], mut emit: impl FnMut(&[u8])) {
    let len = packet.len();
    if len == 0 {
        return;
    }
    let crc = crc16(packet).to_be_bytes();
    let total = ((len + 2) as u16).to_be_bytes();
    let mut line = [0u8; MAX_FRAME];
    let mut budget = ((MAX_FRAME - 3) / 4) * 3;
    let mut off = 0usize;
    let mut first = true;
    while off < len {
        let mut pos = 2;
        if first {
            line[..2].copy_from_slice(&MARKER_PKT);
            b64_group(&[total[0], total[1], packet[0]], &mut line, &mut pos);
            off = 1;
            budget -= 3;
        } else {
            line[..2].copy_from_slice(&MARKER_FRAG);
        }
        let remaining = len - off;
        let mut take = budget.min(remaining);
        // The CRC must travel whole on the last line: if it would not fit, hold one data
        // byte back so that a further line carries it together with the CRC.
        let last = match budget as isize - remaining as isize {
            0 | 1 => {
                take -= 1;
                false
            }
            spare => spare >= 2,
        };
        while take >= 3 {
            b64_group(&packet[off..off + 3], &mut line, &mut pos);
            off += 3;
            take -= 3;
        }
        if last {
            match len - off {
                0 => b64_group(&crc, &mut line, &mut pos),
                1 => {
                    b64_group(&[packet[off], crc[0], crc[1]], &mut line, &mut pos);
                    off += 1;
                }
                _ => {
                    b64_group(&[packet[off], packet[off + 1], crc[0]], &mut line, &mut pos);
                    b64_group(&crc[1..], &mut line, &mut pos);
                    off += 2;
                }
            }
        }
        line[pos] = b'\n';
        emit(&line[..=pos]);
        first = false;
    }
}

/// What one byte fed to a [`Decoder`] produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Nothing yet (the byte belongs to an SMP line in progress).
    None,
    /// A byte of console text, not part of an SMP line.
    Text(u8),
    /// A complete, CRC-checked SMP packet is available from [`Decoder::packet`].
    Packet,
    /// An SMP line or packet was dropped (bad Base64, CRC, length, or overflow).
    Dropped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Text,
    Marker(u8),
    Line { first: bool },
}

/// Receiver for the serial framing: feed it bytes, get console text and SMP packets.
///
/// `B` is the packet buffer; its length bounds the decoded bytes of one packet
/// (length field + SMP packet + CRC), like Zephyr's netbuf. Any framing problem drops the
/// packet silently, as Zephyr does: no error is ever sent for it.
pub struct Decoder<B: AsMut<[u8]> + AsRef<[u8]>> {
    buf: B,
    /// Decoded bytes collected so far (including the 2-byte length).
    filled: usize,
    /// Whether a packet is in progress (a first line was accepted).
    active: bool,
    line: [u8; MAX_RX_LINE],
    line_len: usize,
    line_overflow: bool,
    state: State,
    ready: Option<(usize, usize)>,
}

impl<B: AsMut<[u8]> + AsRef<[u8]>> Decoder<B> {
    /// Creates a decoder that reassembles packets into `buf`.
    pub fn new(buf: B) -> Self {
        Decoder {
            buf,
            filled: 0,
            active: false,
            line: [0; MAX_RX_LINE],
            line_len: 0,
            line_overflow: false,
            state: State::Text,
            ready: None,
        }
    }

    /// Forgets any partial line or packet.
    pub fn reset(&mut self) {
        self.filled = 0;
        self.active = false;
        self.line_len = 0;
        self.line_overflow = false;
        self.state = State::Text;
        self.ready = None;
    }

    /// The packet completed by the last [`Event::Packet`] (header and payload, no length
    /// field or CRC). Empty if none is ready.
    pub fn packet(&self) -> &[u8] {
        match self.ready {
            Some((a, b)) => &self.buf.as_ref()[a..b],
            None => &[],
        }
    }

    /// Feeds one byte.
    pub fn push(&mut self, byte: u8) -> Event {
        self.ready = None;
        match self.state {
            State::Text => {
                if byte == MARKER_PKT[0] || byte == MARKER_FRAG[0] {
                    self.state = State::Marker(byte);
                    Event::None
                } else {
                    Event::Text(byte)
                }
            }
            State::Marker(m) => {
                if m == MARKER_PKT[0] && byte == MARKER_PKT[1] {
                    self.start_line(true);
                    Event::None
                } else if m == MARKER_FRAG[0] && byte == MARKER_FRAG[1] {
                    self.start_line(false);
                    Event::None
                } else {
                    // A lone control byte: not a frame. Pass the byte that followed it on
                    // as text (or let it start a frame).
                    self.state = State::Text;
                    self.push(byte)
                }
            }
            State::Line { first } => {
                if byte == b'\n' {
                    self.state = State::Text;
                    self.end_line(first)
                } else {
                    // Marker (2) + body + newline must fit the line limit.
                    if self.line_len + 3 < MAX_RX_LINE {
                        self.line[self.line_len] = byte;
                        self.line_len += 1;
                    } else {
                        self.line_overflow = true;
                    }
                    Event::None
                }
            }
        }
    }

    fn start_line(&mut self, first: bool) {
        self.state = State::Line { first };
        self.line_len = 0;
        self.line_overflow = false;
    }

    fn drop_packet(&mut self) -> Event {
        self.filled = 0;
        self.active = false;
        Event::Dropped
    }

    fn end_line(&mut self, first: bool) -> Event {
        if self.line_overflow {
            return self.drop_packet();
        }
        let mut body = &self.line[..self.line_len];
        while let [rest @ .., b'\r'] = body {
            body = rest;
        }
        if first {
            self.filled = 0;
            self.active = true;
        } else if !self.active {
            // Continuation without a packet in progress: ignored.
            return Event::Dropped;
        }
        let buf = self.buf.as_mut();
        let n = match STANDARD.decode_slice(body, &mut buf[self.filled..]) {
            Ok(n) => n,
            Err(_) => return self.drop_packet(),
        };
        self.filled += n;
        if self.filled < 2 {
            return self.drop_packet();
        }
        let expected = u16::from_be_bytes([buf[0], buf[1]]) as usize;
        let got = self.filled - 2;
        if got < expected {
            return Event::None;
        }
        if got > expected || expected < 2 || crc16(&buf[2..self.filled]) != 0 {
            return self.drop_packet();
        }
        self.ready = Some((2, self.filled - 2));
        self.active = false;
        self.filled = 0;
        Event::Packet
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // TV10: v1 write echo {"d":"hello"}, seq 0x42.
    static PACKET: [u8; 18] = [
        0x02, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x42, 0x00, 0xbf, 0x61, 0x64, 0x65, 0x68, 0x65, 0x6c,
        0x6c, 0x6f, 0xff,
    ];
    static LINE: &[u8] = b"\x06\x09ABQCAAAKAABCAL9hZGVoZWxsb/+Q2g==\n";

    #[test]
    fn crc_check_value() {
        assert_eq!(crc16(b"123456789"), 0x31c3);
        assert_eq!(crc16(&PACKET), 0x90da);
    }

    fn encode_lines(p: &[u8]) -> ([[u8; MAX_FRAME]; 64], [usize; 64], usize) {
        let mut lines = [[0u8; MAX_FRAME]; 64];
        let mut lens = [0usize; 64];
        let mut n = 0;
        encode(p, |l| {
            lines[n][..l.len()].copy_from_slice(l);
            lens[n] = l.len();
            n += 1;
        });
        (lines, lens, n)
    }

    #[test]
    fn test_emit_tv10() {
        let (lines, lens, n) = encode_lines(&PACKET);
        assert_eq!(n, 1);
        assert_eq!(&lines[0][..lens[0]], LINE);
    }

    #[test]
    fn test_parse_tv10() {
        let mut d = Decoder::new([0u8; 64]);
        let mut got = 0;
        for &b in LINE {
            if d.push(b) == Event::Packet {
                assert_eq!(d.packet(), &PACKET[..]);
                got += 1;
            }
        }
        assert_eq!(got, 1);
    }

    #[test]
    fn line_lengths_match_zephyr() {
        // 222-byte packet -> lines of 127, 123 and 63 bytes, as Zephyr's sender cuts them.
        let p: [u8; 222] = core::array::from_fn(|i| i as u8);
        let (_, lens, n) = encode_lines(&p);
        assert_eq!(&lens[..n], &[127, 123, 63]);
    }

    #[test]
    fn round_trip_every_length() {
        let p: [u8; 700] = core::array::from_fn(|i| (i * 7 + 3) as u8);
        for len in 1..p.len() {
            let mut d = Decoder::new([0u8; 1024]);
            let mut got = false;
            encode(&p[..len], |l| {
                assert!(l.len() <= MAX_FRAME);
                assert_eq!(*l.last().unwrap(), b'\n');
                for &b in l {
                    if d.push(b) == Event::Packet {
                        assert_eq!(d.packet(), &p[..len]);
                        got = true;
                    }
                }
            });
            assert!(got, "len {len}");
        }
    }

    #[test]
    fn accepts_full_93_byte_continuation_lines() {
        // Another transmitter fills continuation lines to 124 Base64 chars (93 raw bytes).
        let p: [u8; 300] = core::array::from_fn(|i| (i * 13) as u8);
        let mut raw = [0u8; 304];
        raw[..2].copy_from_slice(&302u16.to_be_bytes());
        raw[2..302].copy_from_slice(&p);
        raw[302..].copy_from_slice(&crc16(&p).to_be_bytes());
        let mut d = Decoder::new([0u8; 512]);
        let mut got = false;
        for (i, chunk) in raw.chunks(93).enumerate() {
            let mut line = [0u8; 130];
            line[..2].copy_from_slice(if i == 0 { &MARKER_PKT } else { &MARKER_FRAG });
            let n = STANDARD.encode_slice(chunk, &mut line[2..]).unwrap();
            line[2 + n] = b'\n';
            assert!(2 + n < MAX_FRAME);
            for &b in &line[..3 + n] {
                if d.push(b) == Event::Packet {
                    assert_eq!(d.packet(), &p[..]);
                    got = true;
                }
            }
        }
        assert!(got);
    }

    #[test]
    fn text_passes_through_and_frames_interleave() {
        let mut d = Decoder::new([0u8; 64]);
        let mut text = [0u8; 32];
        let mut tn = 0;
        let mut packets = 0;
        let input: &[u8] = b"help\r\n";
        for &b in input.iter().chain(LINE.iter()).chain(b"ok\n".iter()) {
            match d.push(b) {
                Event::Text(t) => {
                    text[tn] = t;
                    tn += 1;
                }
                Event::Packet => packets += 1,
                Event::None => {}
                Event::Dropped => panic!("dropped"),
            }
        }
        assert_eq!(&text[..tn], b"help\r\nok\n");
        assert_eq!(packets, 1);
    }

    #[test]
    fn bad_crc_bad_base64_overflow_and_orphans_are_dropped() {
        let mut bad = [0u8; 64];
        bad[..LINE.len()].copy_from_slice(LINE);
        bad[30] = b'A'; // corrupt the CRC characters
        let mut d = Decoder::new([0u8; 64]);
        let evs: heapless::Vec<Event, 64> = bad[..LINE.len()].iter().map(|&b| d.push(b)).collect();
        assert!(!evs.contains(&Event::Packet));
        assert!(evs.contains(&Event::Dropped));

        let mut d = Decoder::new([0u8; 64]);
        let mut evs = heapless::Vec::<Event, 64>::new();
        for &b in b"\x06\x09AB!C\n" {
            evs.push(d.push(b)).unwrap();
        }
        assert_eq!(evs.last(), Some(&Event::Dropped));

        // Continuation with nothing in progress.
        let mut d = Decoder::new([0u8; 64]);
        let mut last = Event::None;
        for &b in b"\x04\x14AAAA\n" {
            last = d.push(b);
        }
        assert_eq!(last, Event::Dropped);

        // A packet larger than the buffer.
        let mut d = Decoder::new([0u8; 8]);
        let mut last = Event::None;
        for &b in LINE {
            last = d.push(b);
        }
        assert_eq!(last, Event::Dropped);

        // An over-long line.
        let mut d = Decoder::new([0u8; 512]);
        let mut last = Event::None;
        for &b in b"\x06\x09".iter().chain([b'A'; 200].iter()).chain(b"\n") {
            last = d.push(b);
        }
        assert_eq!(last, Event::Dropped);
    }

    #[test]
    fn new_first_line_restarts_a_partial_packet() {
        let p: [u8; 200] = core::array::from_fn(|i| i as u8);
        let mut first_line = [0u8; MAX_FRAME];
        let mut fl = 0;
        let mut k = 0;
        encode(&p, |l| {
            if k == 0 {
                first_line[..l.len()].copy_from_slice(l);
                fl = l.len();
            }
            k += 1;
        });
        let mut d = Decoder::new([0u8; 512]);
        for &b in &first_line[..fl] {
            d.push(b);
        }
        let mut got = false;
        for &b in LINE {
            if d.push(b) == Event::Packet {
                assert_eq!(d.packet(), &PACKET[..]);
                got = true;
            }
        }
        assert!(got);
    }
}
