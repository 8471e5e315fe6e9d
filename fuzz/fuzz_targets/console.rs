//! The serial console line discipline as the host device's console runs it
//! (`crates/smp-svr/src/console.rs`): the core's serial decoder separates SMP lines from
//! shell text; packets go to the dispatcher (every group, `smp_fuzz::Device`), text goes
//! through a line editor to the shell. `smp-svr` is a binary crate, so its editor cannot be
//! linked here: the editor below keeps the part of its behaviour the line discipline
//! depends on (CR/LF/CR LF ends a line, Backspace/Delete erase, printable bytes echoed, the
//! 255-byte limit). The host editor's own keys (history, Tab completion, Ctrl-U/Ctrl-W,
//! escape sequences) are covered by the unit tests in `crates/smp-svr/src/console.rs`, not
//! by this target.
//!
//! What must hold: the marker bytes 0x04 and 0x06 never reach the shell as text; a packet
//! the decoder delivers is non-empty, fits its buffer and survives an encode/decode round
//! trip; every response passes `smp_fuzz::check_response` and is sent as lines of at
//! most `MAX_FRAME` bytes (marker, Base64, `\n`) that a client's decoder turns back into
//! exactly that response and no text; the editor's lines hold only printable ASCII, at
//! most `MAX_LINE` bytes, and its echo only printable bytes, CR LF and backspace-erase.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smp::codec::serial::{encode, Decoder, Event, MARKER_FRAG, MARKER_PKT, MAX_FRAME};
use smp::platform::Shell;
use smp::server::Meta;
use smp::testing::FakeShell;
use smp_fuzz::{check_response, flash, request_headers, Device, BUF_SIZE};

/// `MAX_LINE` of the host console.
const MAX_LINE: usize = 255;

/// The line-ending, erase and echo rules of the host console's `LineEditor`.
#[derive(Default)]
struct LineEditor {
    line: String,
    last_cr: bool,
}

impl LineEditor {
    fn push(&mut self, b: u8, echo: &mut Vec<u8>) -> Option<String> {
        let was_cr = std::mem::replace(&mut self.last_cr, b == b'\r');
        match b {
            b'\n' if was_cr => None,
            b'\r' | b'\n' => {
                echo.extend_from_slice(b"\r\n");
                Some(std::mem::take(&mut self.line))
            }
            0x08 | 0x7f => {
                if self.line.pop().is_some() {
                    echo.extend_from_slice(b"\x08 \x08");
                }
                None
            }
            0x20..=0x7e => {
                if self.line.len() < MAX_LINE {
                    self.line.push(b as char);
                    echo.push(b);
                }
                None
            }
            _ => None,
        }
    }
}

/// A client's view of one response: the lines must decode to `rsp` and nothing else.
fn check_framing(rsp: &[u8]) {
    let mut client = Decoder::new([0u8; BUF_SIZE + 4]);
    let mut got = 0;
    let mut lines = 0;
    encode(rsp, |line| {
        lines += 1;
        assert!(line.len() <= MAX_FRAME, "line of {} bytes", line.len());
        let marker = if lines == 1 { MARKER_PKT } else { MARKER_FRAG };
        assert_eq!(line[..2], marker);
        assert_eq!(line.last(), Some(&b'\n'));
        assert!(line[2..line.len() - 1]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || b"+/=".contains(c)));
        for &b in line {
            match client.push(b) {
                Event::None => {}
                Event::Packet => {
                    assert_eq!(client.packet(), rsp);
                    got += 1;
                }
                e => panic!("client decoder: {e:?}"),
            }
        }
    });
    assert_eq!(got, 1, "response not decoded");
}

fuzz_target!(|data: &[u8]| {
    let flash = flash();
    let mut dev = Device::new(&flash);
    let mut shell = FakeShell::default();
    let mut decoder = Decoder::new([0u8; BUF_SIZE]);
    let mut editor = LineEditor::default();
    let mut tx = [0u8; BUF_SIZE];
    let mut now = 0;
    for &b in data {
        let mut echo = Vec::new();
        match decoder.push(b) {
            Event::Text(t) => {
                assert!(t != MARKER_PKT[0] && t != MARKER_FRAG[0], "marker as text");
                if let Some(line) = editor.push(t, &mut echo) {
                    assert!(line.len() <= MAX_LINE);
                    assert!(line.bytes().all(|c| (0x20..=0x7e).contains(&c)));
                    let mut out = String::new();
                    shell.exec(&line, &mut out);
                    assert_eq!(shell.last, line.as_str());
                }
            }
            Event::Packet => {
                let p = decoder.packet();
                assert!(!p.is_empty() && p.len() <= BUF_SIZE - 4);
                let mut p2 = Decoder::new([0u8; BUF_SIZE]);
                let mut again = false;
                encode(p, |l| {
                    for &c in l {
                        again |= p2.push(c) == Event::Packet && p2.packet() == p;
                    }
                });
                assert!(again, "packet does not survive a round trip");
                let reqs = request_headers(p);
                let mut k = 0;
                now += 10;
                let mut server = dev.server(true);
                server.process(
                    Meta {
                        transport: 0,
                        now_ms: now,
                    },
                    p,
                    &mut tx,
                    |rsp| {
                        check_response(&reqs[k], rsp, BUF_SIZE);
                        check_framing(rsp);
                        k += 1;
                    },
                );
                drop(server);
                dev.check();
            }
            Event::Dropped | Event::None => {}
        }
        let mut i = 0;
        while i < echo.len() {
            match &echo[i..] {
                [b'\r', b'\n', ..] | [0x08, b' ', 0x08, ..] => {
                    i += if echo[i] == b'\r' { 2 } else { 3 }
                }
                [c, ..] if (0x20..=0x7e).contains(c) => i += 1,
                _ => panic!("bad echo {echo:02x?}"),
            }
        }
    }
});
