//! Reassembly of one SMP packet from the writes of a Bluetooth LE client.
//!
//! A client cuts a request into writes of at most ATT MTU − 3 bytes; the device collects
//! them by the length in the SMP header, as Zephyr's `smp_reassembly_collect()` does
//! (zephyrproject-rtos/zephyr `subsys/mgmt/mcumgr/transport/src/smp_reassembly.c` at
//! 4844f516706aa1c26627c47e723cde5f1bfce88d, called by `smp_bt_chr_write()` in
//! `smp_bt.c` at 16a3471af48baec949862c58f21622cdc5b29dd2):
//! - the first write must hold the whole 8-byte header, else it is dropped;
//! - a packet whose header announces more than the buffer (`buf_size`, Zephyr's
//!   `CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE`) is dropped;
//! - a write that goes past the announced length drops the packet collected so far;
//! - when the announced length is reached the packet is complete.
//!
//! Every drop is reported to the caller, which counts it; the next write starts afresh,
//! so a malformed sequence never leaves the link stuck.

/// Bytes of the SMP header (`smp_hdr`).
pub const HEADER: usize = 8;

/// What one write did.
#[derive(Debug, PartialEq, Eq)]
pub enum Collect {
    /// More bytes are expected.
    More,
    /// The packet is complete: take it with [`Reassembly::take`].
    Complete,
    /// The write (and whatever was collected of its packet) was dropped.
    Dropped(&'static str),
}

/// The packet being collected.
pub struct Reassembly {
    buf: Vec<u8>,
    /// Total bytes the current packet has (header included); 0: none started.
    expected: usize,
    buf_size: usize,
}

impl Reassembly {
    /// Collects packets of at most `buf_size` bytes.
    pub fn new(buf_size: usize) -> Self {
        Reassembly {
            buf: Vec::with_capacity(buf_size),
            expected: 0,
            buf_size,
        }
    }

    /// Whether a packet is partly collected.
    pub fn started(&self) -> bool {
        self.expected != 0
    }

    /// Forgets the partly collected packet (the client unsubscribed or left).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.expected = 0;
    }

    /// Adds one write.
    pub fn collect(&mut self, data: &[u8]) -> Collect {
        if self.expected == 0 {
            if data.len() < HEADER {
                return Collect::Dropped("a first write shorter than the SMP header");
            }
            let len = usize::from(u16::from_be_bytes([data[2], data[3]]));
            let expected = len + HEADER;
            if data.len() > self.buf_size || expected > self.buf_size {
                return Collect::Dropped("a packet larger than the SMP buffer");
            }
            if data.len() > expected {
                return Collect::Dropped("a write longer than its packet");
            }
            self.expected = expected;
        } else if self.buf.len() + data.len() > self.expected {
            self.reset();
            return Collect::Dropped("a write past the end of its packet");
        }
        self.buf.extend_from_slice(data);
        if self.buf.len() == self.expected {
            Collect::Complete
        } else {
            Collect::More
        }
    }

    /// The complete packet; collection starts afresh.
    pub fn take(&mut self) -> Vec<u8> {
        self.expected = 0;
        std::mem::replace(&mut self.buf, Vec::with_capacity(self.buf_size))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An SMP v2 echo request header announcing `len` body bytes, then the body.
    fn packet(len: usize) -> Vec<u8> {
        let mut p = vec![0x0a, 0, (len >> 8) as u8, len as u8, 0, 0, 1, 0];
        p.extend((0..len).map(|i| i as u8));
        p
    }

    #[test]
    fn a_packet_in_several_writes_is_joined_by_its_header_length() {
        let p = packet(1200);
        let mut r = Reassembly::new(2048);
        let chunks: Vec<&[u8]> = p.chunks(495).collect();
        for c in &chunks[..chunks.len() - 1] {
            assert_eq!(r.collect(c), Collect::More);
        }
        assert_eq!(r.collect(chunks[chunks.len() - 1]), Collect::Complete);
        assert_eq!(r.take(), p);
        assert!(!r.started());
        // The next packet starts afresh.
        let q = packet(3);
        assert_eq!(r.collect(&q), Collect::Complete);
        assert_eq!(r.take(), q);
    }

    #[test]
    fn a_short_first_write_is_dropped() {
        let mut r = Reassembly::new(2048);
        assert!(matches!(r.collect(&[0x0a, 0, 0]), Collect::Dropped(_)));
        assert!(!r.started());
    }

    #[test]
    fn a_packet_over_the_buffer_is_dropped_and_the_next_is_served() {
        let mut r = Reassembly::new(256);
        let big = packet(249); // 257 bytes
        assert!(matches!(r.collect(&big[..100]), Collect::Dropped(_)));
        // Nothing of it is kept: the next write starts a packet of its own.
        assert!(!r.started());
        let ok = packet(248); // exactly 256 bytes
        assert_eq!(r.collect(&ok[..200]), Collect::More);
        assert_eq!(r.collect(&ok[200..]), Collect::Complete);
        assert_eq!(r.take().len(), 256);
    }

    #[test]
    fn a_write_past_the_announced_length_drops_the_packet() {
        let mut r = Reassembly::new(2048);
        let p = packet(10);
        assert_eq!(r.collect(&p[..12]), Collect::More);
        let mut tail = p[12..].to_vec();
        tail.push(0xff);
        assert!(matches!(r.collect(&tail), Collect::Dropped(_)));
        assert!(!r.started());
        assert_eq!(r.collect(&p), Collect::Complete);
    }

    #[test]
    fn a_first_write_longer_than_its_packet_is_dropped() {
        let mut r = Reassembly::new(2048);
        let mut p = packet(4);
        p.push(0);
        assert!(matches!(r.collect(&p), Collect::Dropped(_)));
        assert!(!r.started());
    }
}
