//! Zephyr's dummy shell backend (`src/smp_port_shell.c`), for the shell group
//! ([`ZephyrShell`]) and the console's text lines ([`shell_exec`]).

use core::fmt;

use smp::platform::Shell;

use super::{check32, sys, utf8_prefix, PortError};

/// Runs one shell command line on Zephyr's dummy shell backend, writing its output into
/// `out`. Returns the output length and the command's return value.
pub fn shell_exec(line: &str, out: &mut [u8]) -> Result<(usize, i32), PortError> {
    let (mut out_len, mut ret) = (0usize, 0i32);
    // SAFETY: `line` and `out` are valid for their lengths; the out pointers are valid,
    // exclusive locals; the C side copies at most `out.len()` bytes.
    let rc = unsafe {
        sys::smp_port_shell_exec(
            line.as_ptr(),
            line.len(),
            out.as_mut_ptr(),
            out.len(),
            &mut out_len,
            &mut ret,
        )
    };
    check32(rc)?;
    Ok((out_len.min(out.len()), ret))
}

/// Zephyr's shell, for the shell group and the console.
#[derive(Debug, Default)]
pub struct ZephyrShell {
    _private: (),
}

impl ZephyrShell {
    /// A new handle (the shell itself is global).
    pub fn new() -> Self {
        ZephyrShell { _private: () }
    }
}

/// Longest shell output passed through [`ZephyrShell`].
const SHELL_OUT_MAX: usize = 256;

impl Shell for ZephyrShell {
    fn exec(&mut self, line: &str, out: &mut dyn fmt::Write) -> i32 {
        let mut buf = [0u8; SHELL_OUT_MAX];
        match shell_exec(line, &mut buf) {
            Ok((n, ret)) => {
                // Output that does not fit the caller is cut, as Zephyr's shell group does.
                let _ = out.write_str(utf8_prefix(&buf[..n]));
                ret
            }
            // -ENOEXEC, as Zephyr's shell reports a command it cannot run.
            Err(_) => -8,
        }
    }
}
