//! Serial line discipline of the UART and console transports: SMP frame reassembly
//! (`smp::codec::serial`) and, on the console, text lines run as shell commands.

use smp::codec::serial;
use smp::server::{Meta, Server};

use crate::{port, MAX_GROUPS};

/// Longest console text line run as a shell command.
const TEXT_LINE_MAX: usize = 128;

/// One serial line discipline: SMP frame reassembly plus, on the console, shell text.
pub(crate) struct Console {
    decoder: serial::Decoder<&'static mut [u8]>,
    /// Console text run as shell commands; `None` where text is ignored.
    text: Option<heapless::Vec<u8, TEXT_LINE_MAX>>,
    text_overflow: bool,
    dropped: u32,
}

impl Console {
    /// A line discipline reassembling into `buf`; `shell` runs text lines as commands.
    pub(crate) fn new(buf: &'static mut [u8], shell: bool) -> Self {
        Console {
            decoder: serial::Decoder::new(buf),
            text: shell.then(heapless::Vec::new),
            text_overflow: false,
            dropped: 0,
        }
    }

    /// Forgets any partial frame or text line.
    pub(crate) fn reset(&mut self) {
        self.decoder.reset();
        if let Some(t) = self.text.as_mut() {
            t.clear();
        }
        self.text_overflow = false;
    }

    /// Feeds bytes until the input is exhausted or one output is ready; returns (bytes
    /// consumed, bytes written to `out`).
    pub(crate) fn feed(
        &mut self,
        server: &mut Server<'static, MAX_GROUPS>,
        scratch: &mut [u8],
        transport: u8,
        data: &[u8],
        out: &mut [u8],
    ) -> (usize, usize) {
        for (i, &b) in data.iter().enumerate() {
            match self.decoder.push(b) {
                serial::Event::None => {}
                serial::Event::Dropped => {
                    self.dropped = self.dropped.wrapping_add(1);
                    log::debug!("serial frame dropped ({} so far)", self.dropped);
                }
                serial::Event::Packet => {
                    let mut written = 0usize;
                    let mut overflow = false;
                    let meta = Meta {
                        transport,
                        now_ms: port::uptime_ms(),
                    };
                    server.process(meta, self.decoder.packet(), scratch, |rsp| {
                        // Encode a whole response or nothing: a cut frame is useless to a client.
                        let mut need = 0;
                        serial::encode(rsp, |line| need += line.len());
                        if written + need > out.len() {
                            overflow = true;
                            return;
                        }
                        serial::encode(rsp, |line| {
                            out[written..written + line.len()].copy_from_slice(line);
                            written += line.len();
                        });
                    });
                    if overflow {
                        log::warn!("serial SMP response dropped: output buffer too small");
                    }
                    return (i + 1, written);
                }
                serial::Event::Text(t) => {
                    let Some(text) = self.text.as_mut() else {
                        continue;
                    };
                    if t != b'\n' && t != b'\r' {
                        if text.push(t).is_err() {
                            self.text_overflow = true;
                        }
                        continue;
                    }
                    if text.is_empty() {
                        continue;
                    }
                    let written = if self.text_overflow {
                        log::warn!("console line longer than {TEXT_LINE_MAX} bytes ignored");
                        0
                    } else {
                        match core::str::from_utf8(text) {
                            Ok(line) => run_shell_line(line, out),
                            Err(_) => 0,
                        }
                    };
                    text.clear();
                    self.text_overflow = false;
                    return (i + 1, written);
                }
            }
        }
        (data.len(), 0)
    }
}

/// Runs a console text line on the shell; returns the output length written to `out`.
#[cfg(smp_console_shell)]
fn run_shell_line(line: &str, out: &mut [u8]) -> usize {
    port::shell::shell_exec(line, out)
        .map(|(n, _)| n)
        .unwrap_or(0)
}

/// Without `CONFIG_SMP_RS_CONSOLE_SHELL` no line discipline collects text (`Console::new`
/// is given `shell = false`), so no line ever reaches here; the shell port is not built.
#[cfg(not(smp_console_shell))]
fn run_shell_line(_line: &str, _out: &mut [u8]) -> usize {
    0
}
