//! Shell management group (9), after Zephyr's `shell_mgmt.c`.
//!
//! | id | command | op | request | response |
//! |---|---|---|---|---|
//! | 0 | execute | W | `argv`: array of tstr | `o`: tstr (captured output), `ret`: int (exit code) |
//!
//! The arguments are joined with single spaces and run through the platform
//! [`Shell`] (the same command table the serial console uses). The joined line must stay
//! shorter than `LINE` bytes (`CONFIG_SHELL_CMD_BUFF_SIZE`, 256) or the reply is group
//! error 2. Decoding follows Zephyr's `shell_mgmt_exec`: the first `argv` key wins and
//! nothing after it is read (a second `argv`, other keys, even malformed bytes); the line
//! ends at the first element that is not text, so `["echo", 1]` runs `echo`; an array with
//! no text element first (`[]`, `[1]`) is group error 3; a missing `argv`, one that is not
//! an array, or a key that is not text before it, is `rc` 3. Output beyond `OUT − 1` bytes
//! is dropped, as Zephyr's dummy
//! shell backend (`CONFIG_SHELL_BACKEND_DUMMY_BUF_SIZE`, 300) does (cut at a UTF-8
//! character boundary here, so the reply stays a valid text string).
//!
//! Group error codes ([`ShellMgmtErr`]) and their SMP v1 translation: 1 unknown → 1, 2 command too
//! long → 3, 3 empty command → 3.

use core::fmt;

use minicbor::data::Type;
use minicbor::Decoder;

use crate::platform::Shell;
use crate::server::{group_error, Ctx, Error, Group, Response};
use crate::wire::{group, Rc};

/// Command ids.
pub mod cmd {
    /// Execute a command line.
    pub const EXEC: u8 = 0;
}

/// Shell group error codes (`shell_mgmt_err_code_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum ShellMgmtErr {
    /// Unknown error.
    Unknown = 1,
    /// The joined command line is too long.
    CommandTooLong = 2,
    /// `argv` is empty.
    EmptyCommand = 3,
}

group_error!(ShellMgmtErr, group::SHELL);

/// Translates a shell group error for SMP v1.
pub fn v1_rc(rc: u16) -> Rc {
    match rc {
        2 | 3 => Rc::Inval,
        _ => Rc::Unknown,
    }
}

/// Build options of the shell group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Config {
    /// `MCUMGR_GRP_SHELL_LEGACY_RC_RETURN_CODE`: send the exit code as `rc` instead of `ret`.
    pub legacy_rc: bool,
}

/// Captured output, truncated at `max` bytes on a character boundary.
struct Capture<'a, const OUT: usize> {
    buf: &'a mut heapless::String<OUT>,
    max: usize,
}

impl<const OUT: usize> fmt::Write for Capture<'_, OUT> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.max.saturating_sub(self.buf.len());
        let mut end = s.len().min(room);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        // Never fails: `end` fits the remaining room.
        let _ = self.buf.push_str(&s[..end]);
        Ok(())
    }
}

/// Builds the command line from a request body as Zephyr's `shell_mgmt_exec` does
/// (subsys/mgmt/mcumgr/grp/shell_mgmt/src/shell_mgmt.c @1714a88861db): the map's entries
/// are walked until the first `argv` key, whatever follows it is never read (a second
/// `argv`, an integer key, malformed bytes); before it, every key must be a text string and
/// every value is skipped. `argv` must be an array; its text elements are joined with single
/// spaces up to the first element that is not text (or the end), so `["echo", 1]` runs
/// `echo`. Returns the group error to answer instead (too long, or no text element first),
/// or an `rc` 3 error for a body that is not such a map.
fn compose<const LINE: usize>(
    payload: &[u8],
    line: &mut heapless::String<LINE>,
) -> Result<Option<ShellMgmtErr>, Error> {
    line.clear();
    let mut d = Decoder::new(payload);
    let entries = d.map()?;
    let mut seen = 0u64;
    loop {
        match entries {
            Some(n) if seen == n => return Err(Rc::Inval.into()),
            None if d.datatype()? == Type::Break => return Err(Rc::Inval.into()),
            _ => {}
        }
        seen += 1;
        if d.str()? == "argv" {
            break;
        }
        crate::cbor::skip(&mut d)?;
    }
    let elems = d.array()?;
    let mut args = 0u64;
    loop {
        match elems {
            Some(n) if args == n => break,
            _ => {}
        }
        // A break (indefinite end), a non-text item or an undecodable one ends the line.
        let Ok(arg) = d.str() else { break };
        args += 1;
        // Zephyr's buffer holds each argument followed by a space (the last one becomes the
        // terminator): `len` counts those separators.
        let len = if args > 1 { line.len() + 1 } else { 0 };
        if len + arg.len() >= LINE {
            return Ok(Some(ShellMgmtErr::CommandTooLong));
        }
        if args > 1 {
            let _ = line.push(' ');
        }
        let _ = line.push_str(arg);
    }
    if args == 0 {
        return Ok(Some(ShellMgmtErr::EmptyCommand));
    }
    Ok(None)
}

/// The shell group over a shell `S`; `LINE` is the command-line buffer, `OUT` the output
/// buffer (both held in the group, not on the stack).
pub struct ShellGroup<S: Shell, const LINE: usize = 256, const OUT: usize = 300> {
    shell: S,
    config: Config,
    line: heapless::String<LINE>,
    out: heapless::String<OUT>,
}

impl<S: Shell, const LINE: usize, const OUT: usize> ShellGroup<S, LINE, OUT> {
    /// A new shell group.
    pub fn new(shell: S, config: Config) -> Self {
        ShellGroup {
            shell,
            config,
            line: heapless::String::new(),
            out: heapless::String::new(),
        }
    }

    /// The shell.
    pub fn shell(&self) -> &S {
        &self.shell
    }

    /// The shell, mutably.
    pub fn shell_mut(&mut self) -> &mut S {
        &mut self.shell
    }

    fn exec(&mut self, ctx: &Ctx<'_>, rsp: &mut Response<'_>) -> Result<(), Error> {
        if let Some(e) = compose::<LINE>(ctx.payload, &mut self.line)? {
            return Err(e.into());
        }
        self.out.clear();
        let mut cap = Capture {
            buf: &mut self.out,
            max: OUT.saturating_sub(1),
        };
        let ret = self.shell.exec(&self.line, &mut cap);
        let key = if self.config.legacy_rc { "rc" } else { "ret" };
        rsp.enc().str("o")?.str(&self.out)?.str(key)?.i32(ret)?;
        Ok(())
    }
}

impl<S: Shell, const LINE: usize, const OUT: usize> Group for ShellGroup<S, LINE, OUT> {
    fn id(&self) -> u16 {
        group::SHELL
    }

    // No name: Zephyr's shell_mgmt_group sets no `mg_group_name`, so the enumeration
    // details report "" for it (shell_mgmt.c @b8f5c4d9).

    fn handlers(&self) -> u8 {
        cmd::EXEC + 1
    }

    fn handle(&mut self, ctx: &Ctx<'_>, rsp: &mut Response<'_>) -> Result<(), Error> {
        match (ctx.header.id, ctx.is_read()) {
            (cmd::EXEC, false) => self.exec(ctx, rsp),
            _ => Err(Rc::NotSup.into()),
        }
    }

    fn v1_rc(&self, rc: u16) -> Rc {
        v1_rc(rc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::{Config as ServerConfig, Meta, Server};
    use crate::testing::{body, exchange, hex, packet, Bytes, FakeShell};

    fn run<const L: usize, const O: usize>(
        g: &mut ShellGroup<FakeShell, L, O>,
        req: &[u8],
    ) -> Bytes {
        let mut s: Server<'_, 1> = Server::new(ServerConfig::default());
        s.register(g).unwrap();
        exchange(&mut s, Meta::default(), req)
    }

    fn argv(args: &[&str], ov: u8) -> Bytes {
        packet(
            ov,
            9,
            6,
            0,
            &body(|e| {
                e.str("argv")?.begin_array()?;
                for a in args {
                    e.str(a)?;
                }
                e.end()?;
                Ok(())
            }),
        )
    }

    #[test]
    fn exec_kernel_uptime() {
        let mut g: ShellGroup<FakeShell> = ShellGroup::new(FakeShell::default(), Config::default());
        // the request vector of a Zephyr-compatible client
        let req = hex("0a 00 00 17 00 09 06 00 bf 64 61 72 67 76 9f 66 6b 65 72 6e 65 6c 66 75 70 74 69 6d 65 ff ff");
        assert_eq!(req, argv(&["kernel", "uptime"], 0x0a));
        // {"o":"Uptime: 1234 ms\n","ret":0}
        assert_eq!(
            run(&mut g, &req),
            hex("0b 00 00 1a 00 09 06 00 bf 61 6f 70 55 70 74 69 6d 65 3a 20 31 32 33 34 20 6d 73 0a
                 63 72 65 74 00 ff")
        );
        assert_eq!(g.shell().last.as_str(), "kernel uptime");
    }

    #[test]
    fn exec_failure_code_and_legacy_rc() {
        let mut g: ShellGroup<FakeShell> = ShellGroup::new(FakeShell::default(), Config::default());
        // {"o":"nope: command not found\n","ret":-8}
        let rsp = run(&mut g, &argv(&["nope"], 0x0a));
        assert_eq!(&rsp[rsp.len() - 6..], &hex("63 72 65 74 27 ff")[..]);
        g.config.legacy_rc = true;
        let rsp = run(&mut g, &argv(&["nope"], 0x0a));
        assert_eq!(&rsp[rsp.len() - 5..], &hex("62 72 63 27 ff")[..]);
    }

    #[test]
    fn output_is_truncated_to_the_buffer() {
        let mut g: ShellGroup<FakeShell, 256, 8> =
            ShellGroup::new(FakeShell::default(), Config::default());
        let rsp = run(&mut g, &argv(&["echo", "0123456789"], 0x0a));
        // 7 bytes kept: {"o":"0123456","ret":0}
        assert_eq!(
            &rsp[8..],
            &hex("bf 61 6f 67 30 31 32 33 34 35 36 63 72 65 74 00 ff")[..]
        );
        // never in the middle of a character
        let rsp = run(&mut g, &argv(&["echo", "ééééé"], 0x0a));
        assert_eq!(&rsp[8..19], &hex("bf 61 6f 67 c3 a9 c3 a9 c3 a9 0a")[..]);
    }

    #[test]
    fn empty_arguments_are_joined_as_zephyr_does() {
        // Zephyr copies every argument followed by a space (the last one dropped), so a
        // leading empty argument still costs its separator.
        let mut g: ShellGroup<FakeShell, 16, 64> =
            ShellGroup::new(FakeShell::default(), Config::default());
        run(&mut g, &argv(&["", "echo", "hi"], 0x0a));
        assert_eq!(g.shell().last.as_str(), " echo hi");
        // " echo 012345678" is 15 bytes and fits 16; one more byte does not.
        assert_eq!(
            run(&mut g, &argv(&["", "echo", "012345678"], 0x0a))[8..11],
            hex("bf 61 6f")[..]
        );
        assert_eq!(
            run(&mut g, &argv(&["", "echo", "0123456789"], 0x0a)),
            hex("0b 00 00 13 00 09 06 00 bf 63 65 72 72 bf 65 67 72 6f 75 70 09 62 72 63 02 ff ff")
        );
    }

    #[test]
    fn errors() {
        let mut g: ShellGroup<FakeShell, 16, 64> =
            ShellGroup::new(FakeShell::default(), Config::default());
        let err = |rc: u8| {
            let mut v = hex(
                "0b 00 00 13 00 09 06 00 bf 63 65 72 72 bf 65 67 72 6f 75 70 09 62 72 63 00 ff ff",
            );
            v[24] = rc;
            v
        };
        // joined length 15 ("echo 0123456789") fits 16; 16 does not
        assert_eq!(
            run(&mut g, &argv(&["echo", "0123456789"], 0x0a)).len(),
            8 + 21
        );
        assert_eq!(run(&mut g, &argv(&["echo", "01234567890"], 0x0a)), err(2));
        assert_eq!(run(&mut g, &argv(&[], 0x0a)), err(3));
        // v1: both translate to rc 3
        assert_eq!(
            run(&mut g, &argv(&[], 0x02)),
            hex("03 00 00 06 00 09 06 00 bf 62 72 63 03 ff")
        );
        let rc3 = hex("0b 00 00 06 00 09 06 00 bf 62 72 63 03 ff");
        // missing argv, argv not an array, non-text element
        assert_eq!(run(&mut g, &packet(0x0a, 9, 6, 0, &hex("bf ff"))), rc3);
        assert_eq!(
            run(
                &mut g,
                &packet(0x0a, 9, 6, 0, &hex("bf 64 61 72 67 76 01 ff"))
            ),
            rc3
        );
        // a first element that is not text: EMPTY_COMMAND (see `argv_decoding_as_zephyr`)
        assert_eq!(
            run(
                &mut g,
                &packet(0x0a, 9, 6, 0, &hex("a1 64 61 72 67 76 81 01"))
            ),
            err(3)
        );
        // definite array and an unknown key are fine
        let rsp = run(
            &mut g,
            &packet(
                0x0a,
                9,
                6,
                0,
                &hex("a2 61 78 01 64 61 72 67 76 82 64 65 63 68 6f 61 7a"),
            ),
        );
        assert_eq!(&rsp[8..], &hex("bf 61 6f 62 7a 0a 63 72 65 74 00 ff")[..]);
        // read op: rc 8
        let mut req = argv(&["echo"], 0x08);
        req[0] = 0x08;
        assert_eq!(&run(&mut g, &req)[8..], &hex("bf 62 72 63 08 ff")[..]);
    }

    /// Zephyr's `shell_mgmt_exec` (subsys/mgmt/mcumgr/grp/shell_mgmt/src/shell_mgmt.c
    /// @1714a88861db): the first `argv` key wins and nothing after it is read; the line
    /// ends at the first element that is not text; no text element first is EMPTY_COMMAND.
    #[test]
    fn argv_decoding_as_zephyr() {
        let mut g: ShellGroup<FakeShell> = ShellGroup::new(FakeShell::default(), Config::default());
        // {"o": "hi\n", "ret": 0}
        let ran_hi = hex("0b 00 00 0d 00 09 06 00 bf 61 6f 63 68 69 0a 63 72 65 74 00 ff");
        // {"argv": ["echo", "hi"], "argv": ["x"]}: the second argv is never looked at
        let two = hex("a2 64 61 72 67 76 82 64 65 63 68 6f 62 68 69 64 61 72 67 76 81 61 78");
        assert_eq!(run(&mut g, &packet(0x0a, 9, 6, 0, &two)), ran_hi);
        assert_eq!(g.shell().last.as_str(), "echo hi");
        // {"argv": ["echo", "hi"], 1: 2}: an integer key after argv does not matter
        let int_after = hex("a2 64 61 72 67 76 82 64 65 63 68 6f 62 68 69 01 02");
        assert_eq!(run(&mut g, &packet(0x0a, 9, 6, 0, &int_after)), ran_hi);
        // {1: 2, "argv": [...]}: before argv, a key that is not text is rc 3
        let int_before = hex("a2 01 02 64 61 72 67 76 82 64 65 63 68 6f 62 68 69");
        assert_eq!(
            run(&mut g, &packet(0x0a, 9, 6, 0, &int_before)),
            hex("0b 00 00 06 00 09 06 00 bf 62 72 63 03 ff")
        );
        // {"argv": ["echo", "hi", 1, "x"]}: the line ends at the integer
        let stop = hex("a1 64 61 72 67 76 84 64 65 63 68 6f 62 68 69 01 61 78");
        assert_eq!(run(&mut g, &packet(0x0a, 9, 6, 0, &stop)), ran_hi);
        assert_eq!(g.shell().last.as_str(), "echo hi");
        // {"argv": [_ "echo", "hi", 1, <never read>: a truncated item]}
        let indef = hex("a1 64 61 72 67 76 9f 64 65 63 68 6f 62 68 69 01 7f");
        assert_eq!(run(&mut g, &packet(0x0a, 9, 6, 0, &indef)), ran_hi);
        // {"argv": [1, "echo"]}: EMPTY_COMMAND, err {9, 3}
        let first_int = hex("a1 64 61 72 67 76 82 01 64 65 63 68 6f");
        assert_eq!(
            run(&mut g, &packet(0x0a, 9, 6, 0, &first_int)),
            hex("0b 00 00 13 00 09 06 00 bf 63 65 72 72 bf 65 67 72 6f 75 70 09 62 72 63 03 ff ff")
        );
    }
}
