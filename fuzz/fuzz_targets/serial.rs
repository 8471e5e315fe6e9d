//! Serial framing: arbitrary bytes into the decoder never panic, and any packet survives an
//! encode/decode round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smp::codec::serial::{encode, Decoder, Event, MAX_FRAME};

fuzz_target!(|data: &[u8]| {
    let mut d = Decoder::new([0u8; 600]);
    for &b in data {
        let _ = d.push(b);
    }
    if data.is_empty() || data.len() > 596 {
        return;
    }
    let mut d = Decoder::new([0u8; 600]);
    let mut got = false;
    encode(data, |line| {
        assert!(line.len() <= MAX_FRAME);
        for &b in line {
            if d.push(b) == Event::Packet {
                assert_eq!(d.packet(), data);
                got = true;
            }
        }
    });
    assert!(got);
});
