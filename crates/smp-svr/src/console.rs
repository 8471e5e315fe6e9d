//! The serial console: SMP frames and a text shell on one line, as on a Zephyr console.
//!
//! Bytes from the line go through the serial codec: SMP lines (`06 09` / `04 14` … `\n`)
//! become packets for the SMP core, everything else is shell input, echoed and edited
//! like Zephyr's shell does. Responses are written as whole framed lines, never interleaved
//! with shell output.
//!
//! A console has two halves the event loop drives: [`ConsoleIn`] decodes what the line
//! delivers, [`ConsoleOut`] queues what the device writes and sends it without ever
//! blocking the loop (the file descriptor is non-blocking; what the line cannot take yet
//! waits in the queue until the descriptor is writable again).

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::termios::{self, SetArg};
use smp::codec::raw;
use smp::codec::serial::{self, Decoder, Event};

/// The shell prompt.
pub const PROMPT: &str = "uart:~$ ";

/// Longest shell line kept (Zephyr's `CONFIG_SHELL_CMD_BUFF_SIZE` default is 256).
const MAX_LINE: usize = 255;

/// Output a console queues before it stops reading its input: a client that sends
/// requests without reading the responses is throttled instead of growing the queue.
pub const OUTPUT_HIGH_WATER: usize = 64 * 1024;

/// Output a console queues at most. Beyond it (nobody has read the line for a long time:
/// boot banners and echo piling up) new output is discarded, as a UART's bytes are when
/// nobody listens.
const OUTPUT_MAX: usize = 1024 * 1024;

/// The writing half of a console.
pub struct ConsoleOut {
    name: String,
    file: File,
    raw: bool,
    /// Bytes not yet taken by the line; `queue[sent..]` is still to go.
    queue: Vec<u8>,
    sent: usize,
    /// Bytes discarded because the queue was full (logged once per overflow).
    discarded: u64,
}

impl ConsoleOut {
    /// A console writing to `file` (made non-blocking by the event loop). A raw console
    /// (`CONFIG_MCUMGR_TRANSPORT_RAW_UART`) carries bare SMP packets and no shell.
    pub fn new(name: impl Into<String>, file: File, raw: bool) -> Self {
        ConsoleOut {
            name: name.into(),
            file,
            raw,
            queue: Vec::new(),
            sent: 0,
            discarded: 0,
        }
    }

    /// The console's name (for logs).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Bytes queued and not yet written.
    pub fn backlog(&self) -> usize {
        self.queue.len() - self.sent
    }

    /// Queues `bytes` whole (or not at all when the queue is full), then writes what the
    /// line takes now.
    fn push(&mut self, bytes: &[u8]) {
        if self.backlog() + bytes.len() > OUTPUT_MAX {
            if self.discarded == 0 {
                log::warn!("{}: nobody reads the console: output discarded", self.name);
            }
            self.discarded += bytes.len() as u64;
            return;
        }
        self.queue.extend_from_slice(bytes);
        self.flush();
    }

    /// Writes queued bytes until the line would block. Returns whether anything is left.
    pub fn flush(&mut self) -> bool {
        while self.sent < self.queue.len() {
            match self.file.write(&self.queue[self.sent..]) {
                Ok(0) => break,
                Ok(n) => self.sent += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    log::debug!("{}: write failed: {e}", self.name);
                    // The line is gone (a hung-up tty): what was queued cannot be sent.
                    self.sent = self.queue.len();
                }
            }
        }
        if self.sent == self.queue.len() {
            self.queue.clear();
            self.sent = 0;
            if self.discarded > 0 {
                log::info!(
                    "{}: output resumed ({} bytes were discarded)",
                    self.name,
                    self.discarded
                );
                self.discarded = 0;
            }
        }
        self.backlog() > 0
    }

    /// Writes shell text (nothing on a raw console, which has no shell).
    pub fn write_text(&mut self, s: &str) {
        if !self.raw {
            self.push(s.as_bytes());
        }
    }

    /// The line.
    pub fn file(&self) -> &File {
        &self.file
    }

    /// Writes shell echo bytes (nothing on a raw console).
    pub fn write_echo(&mut self, b: &[u8]) {
        if !self.raw && !b.is_empty() {
            self.push(b);
        }
    }

    /// Writes one SMP packet: as framed lines queued at once, or bare on a raw console.
    pub fn write_smp(&mut self, packet: &[u8]) {
        if self.raw {
            self.push(packet);
            return;
        }
        let need = packet.len() * 4 / 3 + 64;
        if self.backlog() + need > OUTPUT_MAX {
            // Too big to queue: let push() count and log the discard.
            self.push(&vec![0; need]);
            return;
        }
        serial::encode(packet, |l| self.queue.extend_from_slice(l));
        self.flush();
    }
}

/// What a console's input produced.
pub enum ConsoleEvent<'a> {
    /// A complete SMP packet.
    Packet(&'a [u8]),
    /// A shell line, without its terminator.
    Line(String),
    /// A frame that could not be decoded (or did not fit the buffer) was dropped.
    Dropped(&'static str),
    /// The shell's echo of what was typed, to write back on the console.
    Echo(&'a [u8]),
}

/// Lines the shell remembers for the arrow keys.
const HISTORY: usize = 32;

/// Where the line editor is in an escape sequence (the arrow keys send `ESC [ A` ..
/// `ESC [ D`, or `ESC O A` ..).
#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum Esc {
    #[default]
    None,
    Start,
    Csi,
}

/// Line editing of the shell input, with the keys of Zephyr's shell (`state_collect` and
/// `ctrl_metakeys_handle` in zephyrproject-rtos/zephyr `subsys/shell/shell.c`, commit
/// 01c9007782770cd83990c801c45bfdcb4bfa115d): printable characters are echoed,
/// Backspace/Delete erase one, Ctrl-U the whole line, Ctrl-W the previous word, Tab
/// completes a command or subcommand (listing the choices when there are several), and
/// Up/Down (or Ctrl-P/Ctrl-N) walk the history of entered lines. Unlike Zephyr's, the
/// cursor stays at the end of the line: Left/Right, Home/End are ignored.
#[derive(Default)]
pub struct LineEditor {
    line: String,
    last_cr: bool,
    esc: Esc,
    history: Vec<String>,
    /// Index into `history` while walking it; `None` while editing a new line.
    pos: Option<usize>,
    /// The new line being edited when the walk began.
    saved: String,
}

impl LineEditor {
    /// Feeds one text byte; returns the echo to write and a completed line, if any.
    fn push(&mut self, b: u8, echo: &mut Vec<u8>) -> Option<String> {
        let was_cr = std::mem::replace(&mut self.last_cr, b == b'\r');
        match (self.esc, b) {
            (Esc::Start, b'[' | b'O') => {
                self.esc = Esc::Csi;
                return None;
            }
            (Esc::Csi, b'0'..=b'9' | b';') => return None,
            (Esc::Csi, b'A') => {
                self.esc = Esc::None;
                self.history_up(echo);
                return None;
            }
            (Esc::Csi, b'B') => {
                self.esc = Esc::None;
                self.history_down(echo);
                return None;
            }
            (Esc::Start | Esc::Csi, _) => {
                // Any other sequence (Left, Right, Home, ...) is ignored whole.
                self.esc = Esc::None;
                return None;
            }
            (Esc::None, _) => {}
        }
        match b {
            0x1b => self.esc = Esc::Start,
            b'\n' if was_cr => {}
            b'\r' | b'\n' => {
                echo.extend_from_slice(b"\r\n");
                let line = std::mem::take(&mut self.line);
                self.pos = None;
                let trimmed = line.trim();
                if !trimmed.is_empty() && self.history.last().map(String::as_str) != Some(trimmed) {
                    if self.history.len() == HISTORY {
                        self.history.remove(0);
                    }
                    self.history.push(trimmed.to_string());
                }
                return Some(line);
            }
            0x08 | 0x7f if self.line.pop().is_some() => {
                echo.extend_from_slice(b"\x08 \x08");
            }
            0x10 => self.history_up(echo),
            0x0e => self.history_down(echo),
            0x15 => self.replace_line(String::new(), echo),
            0x17 => {
                let kept = self.line.trim_end().len();
                let word = self.line[..kept].rfind(' ').map_or(0, |i| i + 1);
                let mut line = std::mem::take(&mut self.line);
                line.truncate(word);
                self.replace_line(line, echo);
            }
            b'\t' => self.complete(echo),
            0x20..=0x7e if self.line.len() < MAX_LINE => {
                self.line.push(b as char);
                echo.push(b);
            }
            _ => {}
        }
        None
    }

    /// Redraws the line as `line`: back to the prompt, clear to the end, print it again.
    fn replace_line(&mut self, line: String, echo: &mut Vec<u8>) {
        self.line = line;
        echo.extend_from_slice(b"\r\x1b[K");
        echo.extend_from_slice(PROMPT.as_bytes());
        echo.extend_from_slice(self.line.as_bytes());
    }

    fn complete(&mut self, echo: &mut Vec<u8>) {
        let c = crate::shell::complete(&self.line);
        if !c.append.is_empty() && self.line.len() + c.append.len() <= MAX_LINE {
            self.line.push_str(&c.append);
            echo.extend_from_slice(c.append.as_bytes());
        } else if !c.candidates.is_empty() {
            echo.extend_from_slice(b"\r\n");
            for name in &c.candidates {
                echo.extend_from_slice(format!("  {name}").as_bytes());
            }
            echo.extend_from_slice(b"\r\n");
            echo.extend_from_slice(PROMPT.as_bytes());
            echo.extend_from_slice(self.line.as_bytes());
        }
    }

    fn history_up(&mut self, echo: &mut Vec<u8>) {
        let next = match self.pos {
            None if self.history.is_empty() => return,
            None => {
                self.saved = self.line.clone();
                self.history.len() - 1
            }
            Some(0) => return,
            Some(i) => i - 1,
        };
        self.pos = Some(next);
        self.replace_line(self.history[next].clone(), echo);
    }

    fn history_down(&mut self, echo: &mut Vec<u8>) {
        let Some(i) = self.pos else {
            return;
        };
        if i + 1 < self.history.len() {
            self.pos = Some(i + 1);
            self.replace_line(self.history[i + 1].clone(), echo);
        } else {
            self.pos = None;
            let saved = std::mem::take(&mut self.saved);
            self.replace_line(saved, echo);
        }
    }
}

/// Idle gap after which a raw console drops a half-received packet
/// (`CONFIG_MCUMGR_TRANSPORT_RAW_UART_INPUT_TIMEOUT`).
const RAW_IDLE_RESET: Duration = Duration::from_millis(500);

/// The reading half of a console: the decoder of the line discipline.
pub enum ConsoleIn {
    /// SMP frames and shell text on one line.
    Framed {
        /// The serial codec.
        decoder: Decoder<Vec<u8>>,
        /// The shell's line editor.
        editor: Box<LineEditor>,
    },
    /// Bare SMP packets.
    Raw {
        /// The raw codec.
        decoder: raw::Decoder<Vec<u8>>,
        /// When the last bytes arrived.
        last: Instant,
    },
}

impl ConsoleIn {
    /// The decoder for a console with `buf_size`-byte SMP buffers.
    pub fn new(raw: bool, buf_size: usize) -> Self {
        if raw {
            ConsoleIn::Raw {
                decoder: raw::Decoder::new(vec![0u8; buf_size]),
                last: Instant::now(),
            }
        } else {
            ConsoleIn::Framed {
                decoder: Decoder::new(vec![0u8; buf_size]),
                editor: Box::default(),
            }
        }
    }

    /// Forgets a half-received frame or line (the board went down).
    pub fn reset(&mut self, buf_size: usize) {
        let raw = matches!(self, ConsoleIn::Raw { .. });
        let history = match self {
            ConsoleIn::Framed { editor, .. } => std::mem::take(&mut editor.history),
            ConsoleIn::Raw { .. } => Vec::new(),
        };
        *self = ConsoleIn::new(raw, buf_size);
        if let ConsoleIn::Framed { editor, .. } = self {
            editor.history = history;
        }
    }

    /// Decodes `bytes` into packets, lines, drops and the shell's echo, in line order.
    pub fn feed(&mut self, bytes: &[u8], mut sink: impl FnMut(ConsoleEvent<'_>)) {
        match self {
            ConsoleIn::Raw { decoder, last } => {
                if last.elapsed() > RAW_IDLE_RESET {
                    decoder.reset();
                }
                *last = Instant::now();
                for &b in bytes {
                    match decoder.push(b) {
                        raw::Event::Packet => sink(ConsoleEvent::Packet(decoder.packet())),
                        raw::Event::Dropped => sink(ConsoleEvent::Dropped("raw packet")),
                        raw::Event::None => {}
                    }
                }
            }
            ConsoleIn::Framed { decoder, editor } => {
                let mut echo = Vec::new();
                let flush = |echo: &mut Vec<u8>, sink: &mut dyn FnMut(ConsoleEvent<'_>)| {
                    if !echo.is_empty() {
                        sink(ConsoleEvent::Echo(echo));
                        echo.clear();
                    }
                };
                for &b in bytes {
                    match decoder.push(b) {
                        Event::Text(t) => {
                            if let Some(line) = editor.push(t, &mut echo) {
                                flush(&mut echo, &mut sink);
                                sink(ConsoleEvent::Line(line));
                            }
                        }
                        Event::Packet => {
                            flush(&mut echo, &mut sink);
                            sink(ConsoleEvent::Packet(decoder.packet()));
                        }
                        Event::Dropped => sink(ConsoleEvent::Dropped("malformed SMP frame")),
                        Event::None => {}
                    }
                }
                flush(&mut echo, &mut sink);
            }
        }
    }
}

/// Reads what `src` holds now into `buf`: `Ok(None)` when nothing is left (would block,
/// end of file, or a line without a peer).
pub fn read_some(mut src: impl Read, buf: &mut [u8]) -> io::Result<Option<usize>> {
    loop {
        return match src.read(buf) {
            Ok(0) => Ok(None),
            Ok(n) => Ok(Some(n)),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            // A PTY master reads EIO while no client holds the line open.
            Err(e) if e.raw_os_error() == Some(libc::EIO) => Ok(None),
            Err(e) => Err(e),
        };
    }
}

fn make_raw(fd: &impl std::os::fd::AsFd, speed: Option<termios::BaudRate>) -> nix::Result<()> {
    let mut t = termios::tcgetattr(fd)?;
    termios::cfmakeraw(&mut t);
    if let Some(s) = speed {
        termios::cfsetspeed(&mut t, s)?;
    }
    termios::tcsetattr(fd, SetArg::TCSANOW, &t)
}

/// An open pseudo-terminal: the master is the device's side, the slave is what clients open.
pub struct Pty {
    /// Master side, for reading.
    pub master: File,
    /// Path of the slave side.
    pub slave_path: PathBuf,
    /// The slave, held open so that the master never reads EIO between clients.
    _slave: OwnedFd,
}

/// Opens a pseudo-terminal in raw mode and points `link` at its slave.
pub fn open_pty(link: &Path) -> std::io::Result<Pty> {
    let pty = nix::pty::openpty(None, None)?;
    make_raw(&pty.slave, None)?;
    let slave_path = nix::unistd::ttyname(&pty.slave)?;
    match std::fs::symlink_metadata(link) {
        Ok(m) if m.file_type().is_symlink() => std::fs::remove_file(link)?,
        Ok(_) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a symlink", link.display()),
            ))
        }
        Err(_) => {}
    }
    std::os::unix::fs::symlink(&slave_path, link)?;
    Ok(Pty {
        master: File::from(pty.master),
        slave_path,
        _slave: pty.slave,
    })
}

/// Opens an existing serial device in raw mode at 115200 baud.
pub fn open_serial(dev: &Path) -> std::io::Result<File> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(dev)?;
    make_raw(&f, Some(termios::BaudRate::B115200))?;
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_editor_echo_backspace_and_crlf() {
        let mut ed = LineEditor::default();
        let mut echo = Vec::new();
        let mut lines = Vec::new();
        for &b in b"kernex\x7fl up\x08\x08uptime\r\nhelp\n\r" {
            if let Some(l) = ed.push(b, &mut echo) {
                lines.push(l);
            }
        }
        assert_eq!(lines, vec!["kernel uptime", "help", ""]);
        assert!(echo.starts_with(b"kernex\x08 \x08l"));
    }

    /// Feeds `input`; returns the completed lines and the echo.
    fn feed(ed: &mut LineEditor, input: &[u8]) -> (Vec<String>, String) {
        let mut echo = Vec::new();
        let mut lines = Vec::new();
        for &b in input {
            if let Some(l) = ed.push(b, &mut echo) {
                lines.push(l);
            }
        }
        (lines, String::from_utf8(echo).unwrap())
    }

    #[test]
    fn line_editor_ctrl_u_and_ctrl_w() {
        let mut ed = LineEditor::default();
        let (lines, echo) = feed(&mut ed, b"garbage\x15kernel bogus  \x17uptime\r");
        assert_eq!(lines, vec!["kernel uptime"]);
        assert!(echo.contains("garbage\r\x1b[Kuart:~$ kernel"), "{echo:?}");
        assert!(echo.contains("\r\x1b[Kuart:~$ kernel uptime"), "{echo:?}");
        let (lines, _) = feed(&mut ed, b"one\x17\x17\x15\r");
        assert_eq!(lines, vec![""]);
    }

    #[test]
    fn line_editor_tab_completes() {
        let mut ed = LineEditor::default();
        let (lines, echo) = feed(&mut ed, b"ker\tup\t\r");
        assert_eq!(lines, vec!["kernel uptime "]);
        assert_eq!(echo, "kernel uptime \r\n");
        let (_, echo) = feed(&mut ed, b"kernel \t");
        assert_eq!(
            echo,
            "kernel \r\n  reboot  threads  uptime  version\r\nuart:~$ kernel "
        );
    }

    #[test]
    fn line_editor_history_with_arrow_keys() {
        let mut ed = LineEditor::default();
        feed(&mut ed, b"kernel version\rhelp\r\rhelp\r");
        assert_eq!(ed.history, vec!["kernel version", "help"]);
        // Up twice reaches the older line; Down comes back; Down again restores the draft.
        let (lines, echo) = feed(&mut ed, b"dra\x1b[A\x1b[A\x1b[B\x1b[B\x1bOA\r");
        assert_eq!(lines, vec!["help"]);
        assert!(
            echo.ends_with("\r\x1b[Kuart:~$ dra\r\x1b[Kuart:~$ help\r\n"),
            "{echo:?}"
        );
        // Ctrl-P / Ctrl-N are Up / Down.
        let (lines, _) = feed(&mut ed, b"\x10\x10\x0e\r");
        assert_eq!(lines, vec!["help"]);
        // Up stops at the oldest line; Left/Right sequences are ignored.
        let (lines, _) = feed(&mut ed, b"\x1b[A\x1b[A\x1b[A\x1b[D\x1b[C\r");
        assert_eq!(lines, vec!["kernel version"]);
    }

    #[test]
    fn pty_round_trip_of_a_frame() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("tty");
        let pty = open_pty(&link).unwrap();
        assert_eq!(std::fs::read_link(&link).unwrap(), pty.slave_path);
        let mut console = ConsoleOut::new("pty", pty.master.try_clone().unwrap(), false);
        let mut client = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&link)
            .unwrap();
        console.write_smp(&[0x03, 0, 0, 2, 0, 0, 1, 0, 0xbf, 0xff]);
        let mut buf = [0u8; 64];
        let n = client.read(&mut buf).unwrap();
        let mut d = Decoder::new(vec![0u8; 64]);
        let mut got = false;
        for &b in &buf[..n] {
            if d.push(b) == Event::Packet {
                assert_eq!(d.packet(), &[0x03, 0, 0, 2, 0, 0, 1, 0, 0xbf, 0xff]);
                got = true;
            }
        }
        assert!(got);
    }
}
