//! The servers under test as child processes: started pinned (they inherit this process's CPU
//! affinity), watched through their stdout, measured through /proc, and always ended: on
//! drop (a normal exit or a panic), on SIGINT/SIGTERM/SIGHUP (a handler thread), and when
//! this process dies any other way (`PR_SET_PDEATHSIG`).

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Pids of the running children, for the signal handler.
static KIDS: Mutex<Vec<u32>> = Mutex::new(Vec::new());
/// The scratch directory, for the signal handler.
static SCRATCH: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Pins the calling thread (and every thread and process it starts afterwards) to `cpu`.
pub fn pin(cpu: usize) -> io::Result<()> {
    // SAFETY: `cpu_set_t` is plain old data for which all-zero bytes are the empty set;
    // CPU_SET bounds-checks `cpu` against the set's size, and sched_setaffinity only reads
    // the set of the size we pass.
    let rc = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A scratch directory removed on drop (and by the signal handler).
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new() -> io::Result<Scratch> {
        let dir = std::env::temp_dir().join(format!("smp-bench.{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        *SCRATCH.lock().unwrap_or_else(|e| e.into_inner()) = Some(dir.clone());
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Starts the thread that ends the children and removes the scratch directory when this
/// process is asked to stop.
pub fn handle_signals() -> io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(sig) = signals.forever().next() {
                let pids = KIDS.lock().unwrap_or_else(|e| e.into_inner()).clone();
                for &pid in &pids {
                    signal(pid, libc::SIGTERM);
                }
                std::thread::sleep(Duration::from_millis(300));
                for &pid in &pids {
                    signal(pid, libc::SIGKILL);
                    // SAFETY: waitpid(2) on our own child, with no status pointer.
                    unsafe {
                        libc::waitpid(pid as libc::pid_t, std::ptr::null_mut(), 0);
                    }
                }
                if let Some(dir) = SCRATCH.lock().unwrap_or_else(|e| e.into_inner()).take() {
                    let _ = std::fs::remove_dir_all(dir);
                }
                eprintln!("smp-bench: signal {sig}: children ended, stopping");
                std::process::exit(128 + sig);
            }
        })?;
    Ok(())
}

fn signal(pid: u32, sig: libc::c_int) {
    // SAFETY: kill(2) takes plain integers; the pid is one of our own children (at worst
    // already reaped, when the call fails harmlessly or hits nobody we own).
    unsafe {
        libc::kill(pid as libc::pid_t, sig);
    }
}

/// One server under test.
pub struct Kid {
    pub name: String,
    pub pid: u32,
    child: Child,
    lines: Receiver<String>,
    log: PathBuf,
}

impl Kid {
    /// Starts `cmd` with stdout piped (read line by line) and stderr in `log`.
    pub fn spawn(name: &str, mut cmd: Command, log: &Path) -> Result<Kid, String> {
        let err = File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(err);
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: the closure runs in the forked child before exec and calls only prctl(2)
        // and getppid(2), which are async-signal-safe, and allocates nothing; it reads a
        // copied integer only.
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(io::Error::last_os_error());
                }
                // The parent died before prctl took effect: nobody would end this child.
                if libc::getppid() != parent {
                    return Err(io::Error::from_raw_os_error(libc::ESRCH));
                }
                Ok(())
            });
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {name} ({:?}): {e}", cmd.get_program()))?;
        let pid = child.id();
        KIDS.lock().unwrap_or_else(|e| e.into_inner()).push(pid);
        let out = child.stdout.take().expect("stdout is piped");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            // Reads to the end, so that the child never blocks on a full pipe.
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        Ok(Kid {
            name: name.to_string(),
            pid,
            child,
            lines,
            log: log.to_path_buf(),
        })
    }

    /// Waits for a stdout line starting with `prefix`; returns the rest of it.
    pub fn expect_line(&self, prefix: &str, timeout: Duration) -> Result<String, String> {
        let end = Instant::now() + timeout;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix(prefix) {
                        return Ok(rest.to_string());
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!(
                        "{}: no line `{prefix}...` within {timeout:?}; its log:\n{}",
                        self.name,
                        self.log_tail()
                    ))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(format!(
                        "{} ended before printing `{prefix}...`; its log:\n{}",
                        self.name,
                        self.log_tail()
                    ))
                }
            }
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// CPU time the process's threads have run, in ns: the sum of `se.sum_exec_runtime`
    /// (milliseconds with 6 decimals) over /proc/PID/task/*/sched.
    pub fn cpu_ns(&self) -> Result<u64, String> {
        cpu_ns(self.pid).map_err(|e| format!("{}: /proc/{}/task: {e}", self.name, self.pid))
    }

    /// The number of threads, from /proc/PID/task.
    pub fn threads(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/task", self.pid)).map_or(0, |d| d.count())
    }

    /// `Cpus_allowed_list` from /proc/PID/status: shows the pinning.
    pub fn cpus_allowed(&self) -> String {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
            .map_or_else(|| "?".into(), |v| v.trim().to_string())
    }
}

impl Drop for Kid {
    fn drop(&mut self) {
        signal(self.pid, libc::SIGTERM);
        let end = Instant::now() + Duration::from_secs(3);
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        KIDS.lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|&p| p != self.pid);
    }
}

/// See [`Kid::cpu_ns`].
pub fn cpu_ns(pid: u32) -> io::Result<u64> {
    let mut total = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let Ok(sched) = std::fs::read_to_string(task?.path().join("sched")) else {
            continue; // the thread ended meanwhile
        };
        let line = sched
            .lines()
            .find(|l| l.starts_with("se.sum_exec_runtime"))
            .ok_or_else(|| io::Error::other("no se.sum_exec_runtime in sched"))?;
        let ms = line
            .split(':')
            .nth(1)
            .map(str::trim)
            .and_then(|v| v.parse::<f64>().ok())
            .ok_or_else(|| io::Error::other(format!("cannot parse `{line}`")))?;
        total += (ms * 1e6).round() as u64;
    }
    Ok(total)
}
