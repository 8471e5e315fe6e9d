//! [`FakeShell`]: two commands and a "command not found".

/// A shell with two commands: `kernel uptime` and `echo ARGS...` (prints its arguments and
/// a newline); anything else prints `<cmd>: command not found` and returns -ENOEXEC (-8).
#[derive(Debug, Clone, Default)]
pub struct FakeShell {
    /// The last line executed.
    pub last: heapless::String<256>,
}

impl crate::platform::Shell for FakeShell {
    fn exec(&mut self, line: &str, out: &mut dyn core::fmt::Write) -> i32 {
        self.last.clear();
        let _ = self.last.push_str(line);
        if line == "kernel uptime" {
            let _ = out.write_str("Uptime: 1234 ms\n");
            return 0;
        }
        if let Some(rest) = line.strip_prefix("echo ") {
            let _ = out.write_str(rest);
            let _ = out.write_str("\n");
            return 0;
        }
        let cmd = line.split(' ').next().unwrap_or("");
        let _ = writeln!(out, "{cmd}: command not found");
        -8
    }
}
