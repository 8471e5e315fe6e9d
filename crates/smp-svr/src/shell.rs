//! The device's command shell: one command table, used by the serial console and by the
//! shell management group alike.
//!
//! Output lines end in `\r\n`, as Zephyr's shell writes them, so what the console prints
//! and what `shell exec` returns are the same bytes.

use std::fmt::Write;
use std::rc::Rc;

use smp::platform::{ResetRequest, Shell};

use crate::board::{self, Board};

/// `-ENOEXEC`, what Zephyr's shell returns for an unknown command.
const ENOEXEC: i32 = -8;
/// `-EINVAL`.
const EINVAL: i32 = -22;
/// `SHELL_CMD_HELP_PRINTED`: a command group was called without a subcommand.
const HELP_PRINTED: i32 = 1;

type Handler = fn(&HostShell, &[&str], &mut dyn Write) -> i32;

struct Cmd {
    name: &'static str,
    help: &'static str,
    run: Option<Handler>,
    sub: &'static [Cmd],
}

const KERNEL: &[Cmd] = &[
    Cmd {
        name: "reboot",
        help: "Reboot the device: reboot [warm|cold]",
        run: Some(cmd_reboot),
        sub: &[],
    },
    Cmd {
        name: "threads",
        help: "List threads",
        run: Some(cmd_threads),
        sub: &[],
    },
    Cmd {
        name: "uptime",
        help: "Kernel uptime",
        run: Some(cmd_uptime),
        sub: &[],
    },
    Cmd {
        name: "version",
        help: "Kernel version",
        run: Some(cmd_version),
        sub: &[],
    },
];

const DEVICE: &[Cmd] = &[Cmd {
    name: "list",
    help: "List configured devices",
    run: Some(cmd_device_list),
    sub: &[],
}];

const ROOT: &[Cmd] = &[
    Cmd {
        name: "device",
        help: "Device commands",
        run: None,
        sub: DEVICE,
    },
    Cmd {
        name: "help",
        help: "Prints the help message.",
        run: Some(cmd_help),
        sub: &[],
    },
    Cmd {
        name: "kernel",
        help: "Kernel commands",
        run: None,
        sub: KERNEL,
    },
];

/// The host shell.
pub struct HostShell {
    board: Rc<Board>,
}

impl HostShell {
    /// A shell for one boot.
    pub fn new(board: Rc<Board>) -> Self {
        HostShell { board }
    }
}

impl Shell for HostShell {
    fn exec(&mut self, line: &str, out: &mut dyn Write) -> i32 {
        let argv: Vec<&str> = line.split_whitespace().collect();
        if argv.is_empty() {
            return 0;
        }
        let mut table = ROOT;
        let mut path: Vec<&str> = Vec::new();
        let mut i = 0;
        loop {
            let Some(cmd) = argv
                .get(i)
                .and_then(|a| table.iter().find(|c| c.name == *a))
            else {
                if i == 0 {
                    let _ = write!(out, "{}: command not found\r\n", argv[0]);
                    return ENOEXEC;
                }
                if let Some(arg) = argv.get(i) {
                    let _ = write!(out, "{}: unknown parameter: {arg}\r\n", path.join(" "));
                    return ENOEXEC;
                }
                print_subcommands(&path, table, out);
                return HELP_PRINTED;
            };
            path.push(cmd.name);
            i += 1;
            if let Some(run) = cmd.run {
                return run(self, &argv[i..], out);
            }
            table = cmd.sub;
        }
    }
}

/// What Tab does to a partly typed line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Completion {
    /// Text to append to the line: the rest of the only match (and a space), or the prefix
    /// every match shares.
    pub append: String,
    /// The commands that match, when there are several (to be listed).
    pub candidates: Vec<&'static str>,
}

/// Completes the last word of `line` against the command table, as Zephyr's shell does on
/// Tab: the words before it must name commands (a group's subcommands are completed after
/// the group's name); nothing is completed after a command that takes arguments.
pub fn complete(line: &str) -> Completion {
    complete_in(ROOT, line)
}

fn complete_in(root: &'static [Cmd], line: &str) -> Completion {
    let words: Vec<&str> = line.split_whitespace().collect();
    let new_word = line.is_empty() || line.ends_with(char::is_whitespace);
    let (done, partial) = match (new_word, words.split_last()) {
        (false, Some((last, done))) => (done, *last),
        _ => (&words[..], ""),
    };
    let mut table = root;
    for w in done {
        match table.iter().find(|c| c.name == *w) {
            Some(c) if !c.sub.is_empty() => table = c.sub,
            _ => return Completion::default(),
        }
    }
    let matches: Vec<&'static str> = table
        .iter()
        .map(|c| c.name)
        .filter(|n| n.starts_with(partial))
        .collect();
    match matches.as_slice() {
        [] => Completion::default(),
        [one] => Completion {
            append: format!("{} ", &one[partial.len()..]),
            candidates: Vec::new(),
        },
        [first, rest @ ..] => {
            let mut common = first.len();
            for m in rest {
                common = common.min(
                    first
                        .bytes()
                        .zip(m.bytes())
                        .take_while(|(a, b)| a == b)
                        .count(),
                );
            }
            Completion {
                append: first[partial.len()..common].to_string(),
                candidates: matches,
            }
        }
    }
}

fn print_subcommands(path: &[&str], table: &[Cmd], out: &mut dyn Write) {
    let _ = write!(out, "{} - subcommands:\r\n", path.join(" "));
    for c in table {
        let _ = write!(out, "  {:<10}: {}\r\n", c.name, c.help);
    }
}

fn cmd_help(_: &HostShell, _: &[&str], out: &mut dyn Write) -> i32 {
    let _ = write!(
        out,
        "Please press the <Tab> button to see all available commands.\r\n\
         Available commands:\r\n"
    );
    for c in ROOT {
        let _ = write!(out, "  {:<10}: {}\r\n", c.name, c.help);
    }
    0
}

fn cmd_uptime(sh: &HostShell, _: &[&str], out: &mut dyn Write) -> i32 {
    let _ = write!(out, "Uptime: {} ms\r\n", sh.board.uptime_ms());
    0
}

fn cmd_version(_: &HostShell, _: &[&str], out: &mut dyn Write) -> i32 {
    let _ = write!(out, "Zephyr version {}\r\n", board::KERNEL_VERSION);
    0
}

fn cmd_reboot(sh: &HostShell, args: &[&str], out: &mut dyn Write) -> i32 {
    match args {
        [] | ["warm"] | ["cold"] => {
            sh.board.request_reset(ResetRequest::default());
            0
        }
        _ => {
            let _ = write!(out, "usage: kernel reboot [warm|cold]\r\n");
            EINVAL
        }
    }
}

fn cmd_threads(_: &HostShell, _: &[&str], out: &mut dyn Write) -> i32 {
    let _ = write!(out, "Threads:\r\n");
    for t in board::host_threads() {
        let _ = write!(
            out,
            " {:<16} options: 0x0, priority: {} state: {:#x}\r\n",
            t.name, t.nice, t.state
        );
    }
    0
}

fn cmd_device_list(_: &HostShell, _: &[&str], out: &mut dyn Write) -> i32 {
    let _ = write!(out, "devices:\r\n");
    for d in ["flash-controller", "rtc", "uart0"] {
        let _ = write!(out, "- {d} (READY)\r\n");
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::{Identity, Persist};

    fn shell() -> HostShell {
        let board = Rc::new(Board::new(
            Rc::new(Persist::default()),
            Identity {
                node_name: "n".into(),
                kernel_release: "r".into(),
                hardware_platform: "i".into(),
            },
        ));
        HostShell::new(board)
    }

    fn run(line: &str) -> (String, i32) {
        let mut out = String::new();
        let rc = shell().exec(line, &mut out);
        (out, rc)
    }

    #[test]
    fn commands() {
        let (o, rc) = run("kernel version");
        assert_eq!((o.as_str(), rc), ("Zephyr version 4.2.0\r\n", 0));
        let (o, rc) = run("  kernel   uptime ");
        assert!(o.starts_with("Uptime: ") && o.ends_with(" ms\r\n"), "{o}");
        assert_eq!(rc, 0);
        let (o, rc) = run("bogus");
        assert_eq!((o.as_str(), rc), ("bogus: command not found\r\n", ENOEXEC));
        let (o, rc) = run("kernel");
        assert!(o.contains("uptime"));
        assert_eq!(rc, HELP_PRINTED);
        let (o, rc) = run("kernel nope");
        assert_eq!(rc, ENOEXEC);
        assert!(o.contains("nope"));
        assert!(run("help").0.contains("kernel"));
        assert!(run("device list").0.contains("(READY)"));
        assert_eq!(run(""), (String::new(), 0));
    }

    #[test]
    fn tab_completes_commands_and_subcommands() {
        let c = |append: &str, candidates: &[&'static str]| Completion {
            append: append.into(),
            candidates: candidates.to_vec(),
        };
        assert_eq!(complete("ker"), c("nel ", &[]));
        assert_eq!(
            complete("kernel "),
            c("", &["reboot", "threads", "uptime", "version"])
        );
        assert_eq!(complete("kernel  up"), c("time ", &[]));
        assert_eq!(complete(""), c("", &["device", "help", "kernel"]));
        assert_eq!(complete("d"), c("evice ", &[]));
        assert_eq!(complete("device l"), c("ist ", &[]));
        assert_eq!(complete("x"), c("", &[]));
        assert_eq!(complete("kernel uptime "), c("", &[]));
        assert_eq!(complete("help "), c("", &[]));
    }

    #[test]
    fn completion_extends_to_the_common_prefix() {
        // Two subcommands sharing a prefix: only the shared part is appended.
        const T: &[Cmd] = &[
            Cmd {
                name: "read",
                help: "",
                run: None,
                sub: &[],
            },
            Cmd {
                name: "reboot",
                help: "",
                run: None,
                sub: &[],
            },
        ];
        const ROOT_T: &[Cmd] = &[Cmd {
            name: "x",
            help: "",
            run: None,
            sub: T,
        }];
        let got = complete_in(ROOT_T, "x r");
        assert_eq!(
            (got.append.as_str(), got.candidates),
            ("e", vec!["read", "reboot"])
        );
        assert_eq!(complete_in(ROOT_T, "x reb").append, "oot ");
    }

    #[test]
    fn reboot_requests_a_reset() {
        let mut sh = shell();
        let mut out = String::new();
        assert_eq!(sh.exec("kernel reboot cold", &mut out), 0);
        assert!(sh.board.pending_reset().is_some());
        assert_eq!(sh.exec("kernel reboot sideways", &mut out), EINVAL);
    }
}
