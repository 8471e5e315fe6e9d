//! Raw UART framing (`CONFIG_MCUMGR_TRANSPORT_RAW_UART`): SMP packets back to back, no
//! Base64, CRC or markers. A packet ends where its header's length says; a packet larger
//! than the buffer, or with an op ≥ 4, is discarded. The port calls [`Decoder::reset`] after
//! an idle gap to drop a half-received packet (Zephyr's optional input timeout).

use crate::wire::{HeaderRepr, Op, HEADER_LEN};

/// What one byte fed to a [`Decoder`] produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// More bytes needed.
    None,
    /// A whole packet is available from [`Decoder::packet`].
    Packet,
    /// The bytes collected so far were discarded (oversize packet or bad op).
    Dropped,
}

/// Reassembles raw SMP packets into the buffer `B`.
pub struct Decoder<B: AsRef<[u8]> + AsMut<[u8]>> {
    buf: B,
    len: usize,
    /// Bytes still to swallow from a discarded oversize packet.
    skip: usize,
    ready: bool,
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> Decoder<B> {
    /// A decoder whose largest packet is `buf.len()` bytes.
    pub fn new(buf: B) -> Self {
        Decoder {
            buf,
            len: 0,
            skip: 0,
            ready: false,
        }
    }

    /// Forgets a partial packet.
    pub fn reset(&mut self) {
        self.len = 0;
        self.skip = 0;
        self.ready = false;
    }

    /// The packet completed by the last [`Event::Packet`].
    pub fn packet(&self) -> &[u8] {
        if self.ready {
            &self.buf.as_ref()[..self.len]
        } else {
            &[]
        }
    }

    /// Feeds one byte.
    pub fn push(&mut self, b: u8) -> Event {
        if self.ready {
            self.ready = false;
            self.len = 0;
        }
        if self.skip > 0 {
            self.skip -= 1;
            return Event::None;
        }
        let cap = self.buf.as_ref().len();
        if self.len >= cap {
            self.len = 0;
            return Event::Dropped;
        }
        self.buf.as_mut()[self.len] = b;
        self.len += 1;
        if self.len == 1 && matches!(Op::of_first_byte(b), Op::Unknown(_)) {
            self.len = 0;
            return Event::Dropped;
        }
        if self.len < HEADER_LEN {
            return Event::None;
        }
        let total = match HeaderRepr::from_bytes(&self.buf.as_ref()[..self.len]) {
            Ok(h) => h.packet_len(),
            // Unreachable: `self.len >= HEADER_LEN` here.
            Err(_) => return Event::None,
        };
        if total > cap {
            self.skip = total - self.len;
            self.len = 0;
            return Event::Dropped;
        }
        if self.len == total {
            self.ready = true;
            return Event::Packet;
        }
        Event::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ECHO: [u8; 15] = [
        0x0a, 0, 0, 7, 0, 0, 1, 0, 0xbf, 0x61, b'd', 0x62, b'h', b'i', 0xff,
    ];

    #[test]
    fn back_to_back_packets() {
        let mut d = Decoder::new([0u8; 64]);
        let mut n = 0;
        for &b in ECHO.iter().chain(ECHO.iter()) {
            if d.push(b) == Event::Packet {
                assert_eq!(d.packet(), &ECHO);
                n += 1;
            }
        }
        assert_eq!(n, 2);
    }

    #[test]
    fn oversize_is_swallowed_and_bad_op_dropped() {
        let mut d = Decoder::new([0u8; 12]);
        let mut evs = heapless::Vec::<Event, 64>::new();
        for &b in ECHO.iter() {
            evs.push(d.push(b)).unwrap();
        }
        assert!(evs.contains(&Event::Dropped));
        assert!(!evs.contains(&Event::Packet));
        // the decoder resynchronises on the next packet
        let short = [0x08u8, 0, 0, 2, 0, 0, 1, 6, 0xbf, 0xff];
        let mut got = false;
        for &b in &short {
            got |= d.push(b) == Event::Packet;
        }
        assert!(got);
        assert_eq!(d.push(0x0c), Event::Dropped); // op 4
    }

    #[test]
    fn reset_drops_partial_input() {
        let mut d = Decoder::new([0u8; 64]);
        for &b in &ECHO[..5] {
            d.push(b);
        }
        d.reset();
        let mut got = false;
        for &b in &ECHO {
            got |= d.push(b) == Event::Packet;
        }
        assert!(got);
    }
}
