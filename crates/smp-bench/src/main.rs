//! `smp-bench`: measures smp-svr side by side with bare echo servers it starts itself, in one
//! run, with every process pinned to one CPU. It measures and asserts nothing: it prints
//! plain-text tables (bare baseline | smp-svr | ratio) and the command line that made them.
//!
//! `smp-bench` (no subcommand) runs the benchmark; `bare-udp-echo` and `bare-pty-echo` are the
//! baselines it starts as child processes of itself.

mod child;
mod client;
mod echo;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};

use crate::child::{Kid, Scratch};
use crate::client::PtyClient;
use crate::echo::Engine;

/// Benchmark of smp-svr against bare UDP and PTY echo servers, pinned to one CPU.
///
/// Starts, as child processes pinned to the same CPU as its own client threads, a bare UDP
/// echo (std, mio and tokio loops), a bare PTY echo and smp-svr (a release build, with a
/// scratch --state, --udp 127.0.0.1:0, --pty and --slot-size 0x140000), and prints for each
/// measure the bare baseline, smp-svr and their ratio. Server CPU is read from
/// /proc/PID/task/*/sched (se.sum_exec_runtime) before and after.
#[derive(Parser)]
#[command(name = "smp-bench")]
struct Args {
    #[command(subcommand)]
    command: Option<Cmd>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(clap::Args)]
struct RunArgs {
    /// The smp-svr binary [default: smp-svr next to this binary, i.e. target/release/smp-svr].
    #[arg(long, value_name = "PATH")]
    svr: Option<PathBuf>,
    /// Extra argument for smp-svr (repeatable), e.g. --svr-arg=--buf-count=8.
    #[arg(long = "svr-arg", value_name = "ARG", allow_hyphen_values = true)]
    svr_args: Vec<String>,
    /// MCUboot image to upload (e.g. signed by imgtool) [default: a 1 MiB image built here,
    /// header and SHA-256 TLV only].
    #[arg(long, value_name = "FILE")]
    image: Option<PathBuf>,
    /// Sequential UDP echoes per server (sections 1, 2 and 6).
    #[arg(long, default_value_t = 20000)]
    echoes: usize,
    /// Sequential PTY echoes per server (section 5).
    #[arg(long, default_value_t = 5000)]
    pty_echoes: usize,
    /// Seconds each server is driven by the pipelining clients (section 3).
    #[arg(long, default_value_t = 3.0)]
    pipeline_secs: f64,
    /// Uploads per chunk size (the median is printed) (section 4).
    #[arg(long, default_value_t = 3)]
    uploads: usize,
    /// The CPU everything is pinned to.
    #[arg(long, default_value_t = 0)]
    cpu: usize,
}

#[derive(Subcommand)]
enum Cmd {
    /// A bare UDP echo: recv_from, then send_to of the same bytes (a baseline).
    BareUdpEcho {
        #[arg(long, value_enum, default_value = "std")]
        engine: Engine,
        #[arg(long, default_value = "127.0.0.1:0")]
        addr: SocketAddr,
    },
    /// A bare PTY echo: writes back to the master what it reads (a baseline).
    BarePtyEcho {
        /// Symlink made to the slave side.
        #[arg(long)]
        link: PathBuf,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match args.command {
        Some(Cmd::BareUdpEcho { engine, addr }) => {
            echo::udp(engine, addr).map_err(|e| e.to_string())
        }
        Some(Cmd::BarePtyEcho { link }) => echo::pty(&link).map_err(|e| e.to_string()),
        None => run(args.run),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("smp-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

const READY: Duration = Duration::from_secs(20);
const PIPE_CLIENTS: usize = 4;
const PIPE_DEPTH: usize = 8;
const ROUNDS: usize = 4;
const ECHO_TEXT: &str = "hello";

fn us(ns: f64) -> String {
    format!("{:.1} µs", ns / 1e3)
}

fn ratio(a: f64, b: f64) -> String {
    if a > 0.0 {
        format!("{:.2}×", b / a)
    } else {
        "-".into()
    }
}

/// The `p`-th percentile of sorted samples.
fn pct(sorted: &[u64], p: usize) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[(sorted.len() - 1) * p / 100] as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Prints a plain-text table with a title.
fn table(title: &str, rows: &[Vec<String>]) {
    println!("\n{title}");
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let width: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for (i, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, s)| format!("{s:<w$}", w = width[c]))
            .collect();
        println!("| {} |", cells.join(" | "));
        if i == 0 {
            let rule: Vec<String> = width.iter().map(|&w| "-".repeat(w)).collect();
            println!("|-{}-|", rule.join("-|-"));
        }
    }
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|s| s.to_string()).collect()
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// Starts one bare UDP echo; returns it and its address.
fn start_udp_echo(me: &Path, engine: Engine, scratch: &Path) -> Result<(Kid, SocketAddr), String> {
    let mut cmd = Command::new(me);
    cmd.args(["bare-udp-echo", "--engine", engine.name()]);
    let name = format!("bare UDP echo ({})", engine.name());
    let kid = Kid::spawn(
        &name,
        cmd,
        &scratch.join(format!("udp-{}.log", engine.name())),
    )?;
    let addr = kid.expect_line("smp-bench: udp ", READY)?;
    kid.expect_line("smp-bench: ready", READY)?;
    let addr = addr
        .parse()
        .map_err(|e| format!("{name}: address {addr}: {e}"))?;
    Ok((kid, addr))
}

/// A 1 MiB MCUboot image: header (magic, 0x200 header size, image size, version 1.0.0),
/// pseudo-random payload, and an unprotected TLV area holding the SHA-256 of header and
/// payload (the layout of smp::mcuboot::image).
fn built_image() -> Vec<u8> {
    use sha2::Digest;
    use smp::mcuboot::image::{tlv, IMAGE_MAGIC, TLV_INFO_MAGIC};
    const HDR: usize = 0x200;
    const PAYLOAD: usize = 1 << 20;
    let mut img = vec![0u8; HDR];
    img[0..4].copy_from_slice(&IMAGE_MAGIC.to_le_bytes());
    img[8..10].copy_from_slice(&(HDR as u16).to_le_bytes());
    img[12..16].copy_from_slice(&(PAYLOAD as u32).to_le_bytes());
    img[20] = 1; // version 1.0.0
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    img.extend((0..PAYLOAD).map(|_| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x as u8
    }));
    let hash: [u8; 32] = sha2::Sha256::digest(&img).into();
    img.extend_from_slice(&TLV_INFO_MAGIC.to_le_bytes());
    img.extend_from_slice(&(4u16 + 4 + 32).to_le_bytes());
    img.extend_from_slice(&tlv::SHA256.to_le_bytes());
    img.extend_from_slice(&32u16.to_le_bytes());
    img.extend_from_slice(&hash);
    img
}

/// Sequential round trips and server CPU of several servers, interleaved in rounds so that
/// a change of the machine's load hits all alike.
struct Seq {
    rtts: Vec<u64>,
    cpu_ns: u64,
    sent: usize,
    lost: usize,
}

impl Seq {
    fn new() -> Seq {
        Seq {
            rtts: Vec::new(),
            cpu_ns: 0,
            sent: 0,
            lost: 0,
        }
    }
    fn p(&mut self, p: usize) -> f64 {
        self.rtts.sort_unstable();
        pct(&self.rtts, p)
    }
    fn cpu_per(&self) -> f64 {
        self.cpu_ns as f64 / self.sent.max(1) as f64
    }
}

fn measure<T>(
    targets: &[(&Kid, T)],
    n: usize,
    mut go: impl FnMut(&T, usize, &mut Vec<u64>) -> Result<usize, String>,
) -> Result<Vec<Seq>, String> {
    let mut out: Vec<Seq> = targets.iter().map(|_| Seq::new()).collect();
    for (_, t) in targets {
        go(t, 500, &mut Vec::new())?; // warm-up
    }
    let per = n.div_ceil(ROUNDS);
    for _ in 0..ROUNDS {
        for (i, (kid, t)) in targets.iter().enumerate() {
            let c0 = kid.cpu_ns()?;
            let lost = go(t, per, &mut out[i].rtts)?;
            let c1 = kid.cpu_ns()?;
            out[i].cpu_ns += c1.saturating_sub(c0);
            out[i].sent += per;
            out[i].lost += lost;
        }
    }
    Ok(out)
}

fn pipelined(addr: SocketAddr, req: &[u8], secs: f64) -> Result<client::Pipelined, String> {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let results: Vec<_> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..PIPE_CLIENTS)
            .map(|_| s.spawn(move || client::udp_pipelined(addr, req, PIPE_DEPTH, deadline)))
            .collect();
        hs.into_iter().map(|h| h.join()).collect()
    });
    let mut total = client::Pipelined::default();
    for r in results {
        let p = r
            .map_err(|_| "a pipelining client panicked".to_string())?
            .map_err(|e| format!("pipelining client: {e}"))?;
        total.replies += p.replies;
        total.lost += p.lost;
    }
    Ok(total)
}

fn run(args: RunArgs) -> Result<(), String> {
    // Before any thread or child exists: they all inherit the affinity.
    child::pin(args.cpu).map_err(|e| format!("cannot pin to CPU {}: {e}", args.cpu))?;
    child::handle_signals().map_err(|e| format!("signal handler: {e}"))?;
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let svr = match args.svr {
        Some(p) => p,
        None => me.with_file_name("smp-svr"),
    };
    if !svr.is_file() {
        return Err(format!(
            "{} not found: build it first with `cargo build --release -p smp-svr` \
             (scripts/bench.sh does), or give --svr PATH",
            svr.display()
        ));
    }
    let image = match &args.image {
        Some(p) => std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?,
        None => built_image(),
    };
    let scratch = Scratch::new().map_err(|e| format!("scratch directory: {e}"))?;
    let dir = scratch.0.clone();

    println!(
        "command: {}",
        std::env::args().collect::<Vec<_>>().join(" ")
    );
    println!(
        "pinned: this process, its client threads and every server to CPU {} (inherited \
         affinity); the machine is shared (load average {} at start): the pinned CPU is shared \
         with whatever else runs",
        args.cpu,
        loadavg()
    );

    let (bare, bare_addr) = start_udp_echo(&me, Engine::Std, &dir)?;
    let mut cmd = Command::new(&svr);
    let svr_tty = dir.join("svr-tty");
    cmd.arg("--state")
        .arg(dir.join("state"))
        .args(["--udp", "127.0.0.1:0", "--pty"])
        .arg(&svr_tty)
        .args(["--slot-size", "0x140000"])
        .args(&args.svr_args);
    let smp = Kid::spawn("smp-svr", cmd, &dir.join("smp-svr.log"))?;
    let svr_addr: SocketAddr = {
        let a = smp.expect_line("smp-svr: udp ", READY)?;
        a.parse()
            .map_err(|e| format!("smp-svr: address {a}: {e}"))?
    };
    smp.expect_line("smp-svr: pty ", READY)?;
    smp.expect_line("smp-svr: ready", READY)?;

    let bare_tty = dir.join("bare-tty");
    let mut cmd = Command::new(&me);
    cmd.arg("bare-pty-echo").arg("--link").arg(&bare_tty);
    let bare_pty = Kid::spawn("bare PTY echo", cmd, &dir.join("pty.log"))?;
    bare_pty.expect_line("smp-bench: ready", READY)?;
    let (mio, mio_addr) = start_udp_echo(&me, Engine::Mio, &dir)?;
    let (tokio, tokio_addr) = start_udp_echo(&me, Engine::Tokio, &dir)?;

    let req = client::echo_request(ECHO_TEXT);
    {
        // The server answers an echo with the text: check once, outside the timing.
        let sock =
            client::udp_client(svr_addr, client::REPLY_TIMEOUT).map_err(|e| e.to_string())?;
        let mut buf = vec![0u8; 4096];
        let n = client::udp_call(&sock, &req, &mut buf, false)
            .map_err(|e| e.to_string())?
            .ok_or("smp-svr does not answer os echo over UDP")?;
        let r = client::field_str(&buf[..n], "r");
        if r.as_deref() != Some(ECHO_TEXT) {
            return Err(format!("smp-svr answered os echo with {r:?}"));
        }
    }

    let mut kids = vec![vec![
        "process".to_string(),
        "pid".into(),
        "threads".into(),
        "Cpus_allowed_list".into(),
    ]];
    for k in [&bare, &smp, &bare_pty, &mio, &tokio] {
        kids.push(vec![
            k.name.clone(),
            k.pid.to_string(),
            k.threads().to_string(),
            k.cpus_allowed(),
        ]);
    }
    table("servers under test", &kids);

    // 1, 2: sequential UDP echo.
    let udp_go = |&(addr, bare_flag): &(SocketAddr, bool), n: usize, rtts: &mut Vec<u64>| {
        client::udp_rtts(addr, &req, n, bare_flag, rtts).map_err(|e| e.to_string())
    };
    let mut seqs = measure(
        &[(&bare, (bare_addr, true)), (&smp, (svr_addr, false))],
        args.echoes,
        udp_go,
    )?;
    let mut seq_svr = seqs.pop().expect("two targets");
    let mut seq_bare = seqs.pop().expect("two targets");
    let bare_cpu = seq_bare.cpu_per();
    table(
        &format!(
            "1. UDP echo round trip: 1 client, {} sequential os echo \"{ECHO_TEXT}\" ({} bytes; \
             the bare echo gets the same bytes), {ROUNDS} interleaved rounds",
            seq_svr.sent,
            req.len()
        ),
        &[
            row(&["measure", "bare UDP echo (std)", "smp-svr", "ratio"]),
            vec![
                "round trip p50".into(),
                us(seq_bare.p(50)),
                us(seq_svr.p(50)),
                ratio(seq_bare.p(50), seq_svr.p(50)),
            ],
            vec![
                "round trip p99".into(),
                us(seq_bare.p(99)),
                us(seq_svr.p(99)),
                ratio(seq_bare.p(99), seq_svr.p(99)),
            ],
            vec![
                "lost (no reply in 1 s)".into(),
                seq_bare.lost.to_string(),
                seq_svr.lost.to_string(),
                String::new(),
            ],
        ],
    );
    table(
        "2. server CPU per echo (sum of se.sum_exec_runtime over /proc/PID/task/*/sched, \
         after - before, / requests)",
        &[
            row(&["measure", "bare UDP echo (std)", "smp-svr", "ratio"]),
            vec![
                "server CPU per echo".into(),
                us(bare_cpu),
                us(seq_svr.cpu_per()),
                ratio(bare_cpu, seq_svr.cpu_per()),
            ],
        ],
    );

    // 3: pipelined.
    let pb = pipelined(bare_addr, &req, args.pipeline_secs)?;
    let ps = pipelined(svr_addr, &req, args.pipeline_secs)?;
    let (tb, ts) = (
        pb.replies as f64 / args.pipeline_secs,
        ps.replies as f64 / args.pipeline_secs,
    );
    table(
        &format!(
            "3. pipelined UDP echo: {PIPE_CLIENTS} client threads × {PIPE_DEPTH} requests in \
             flight each (distinct seq, replies matched by seq), {} s per server",
            args.pipeline_secs
        ),
        &[
            row(&["measure", "bare UDP echo (std)", "smp-svr", "ratio"]),
            vec![
                "throughput".into(),
                format!("{tb:.0} req/s"),
                format!("{ts:.0} req/s"),
                ratio(tb, ts),
            ],
            vec![
                "lost (no reply within 1 s)".into(),
                pb.lost.to_string(),
                ps.lost.to_string(),
                String::new(),
            ],
        ],
    );

    // 4: image upload.
    let sha_ns = {
        use sha2::Digest;
        let mut best = u128::MAX;
        for _ in 0..7 {
            let t0 = Instant::now();
            let d = sha2::Sha256::digest(&image);
            std::hint::black_box(d);
            best = best.min(t0.elapsed().as_nanos());
        }
        best as f64
    };
    let mut rows = vec![row(&[
        "chunk (data bytes per request)",
        "floor: SHA-256 + requests × bare CPU per datagram",
        "smp-svr server CPU",
        "ratio",
        "smp-svr wall time",
        "KiB/s",
    ])];
    let mut retries = 0;
    for chunk in [1396usize, 512] {
        let mut cpu = Vec::new();
        let mut wall = Vec::new();
        let mut requests = 0;
        for _ in 0..args.uploads.max(1) {
            client::img_erase(svr_addr)?;
            let c0 = smp.cpu_ns()?;
            let u = client::img_upload(svr_addr, &image, chunk)?;
            cpu.push(smp.cpu_ns()?.saturating_sub(c0) as f64);
            wall.push(u.wall.as_secs_f64());
            requests = u.requests - u.retries;
            retries += u.retries;
        }
        let floor = sha_ns + requests as f64 * bare_cpu;
        let (cpu, wall) = (median(cpu), median(wall));
        rows.push(vec![
            format!("{chunk} ({requests} requests)"),
            format!(
                "{:.2} + {requests} × {:.1} µs = {:.2} ms",
                sha_ns / 1e6,
                bare_cpu / 1e3,
                floor / 1e6
            ),
            format!("{:.2} ms", cpu / 1e6),
            ratio(floor, cpu),
            format!("{:.3} s", wall),
            format!("{:.0}", image.len() as f64 / 1024.0 / wall),
        ]);
    }
    table(
        &format!(
            "4. image upload over UDP, {} bytes ({}), img upload (group 1, cmd 1), one request \
             in flight, median of {}; SHA-256 of the image in-process (sha2) best of 7: {:.2} \
             ms; resent chunks: {retries}",
            image.len(),
            args.image
                .as_ref()
                .map_or("built by smp-bench".into(), |p| p.display().to_string()),
            args.uploads.max(1),
            sha_ns / 1e6
        ),
        &rows,
    );

    // 5: PTY.
    let pb = PtyClient::open(&bare_tty).map_err(|e| format!("{}: {e}", bare_tty.display()))?;
    let mut psv = PtyClient::open(&svr_tty).map_err(|e| format!("{}: {e}", svr_tty.display()))?;
    if !psv.call(&req, false).map_err(|e| e.to_string())? {
        return Err("smp-svr does not answer os echo over the PTY".into());
    }
    let mut ptys = [pb, psv];
    let mut seqs = measure(
        &[(&bare_pty, 0usize), (&smp, 1)],
        args.pty_echoes,
        |&i, n, rtts| {
            ptys[i]
                .rtts(&req, n, i == 0, rtts)
                .map_err(|e| e.to_string())
        },
    )?;
    let mut pty_svr = seqs.pop().expect("two targets");
    let mut pty_bare = seqs.pop().expect("two targets");
    let mut frame = Vec::new();
    smp::codec::serial::encode(&req, |l| frame.extend_from_slice(l));
    table(
        &format!(
            "5. PTY echo round trip: 1 client, {} sequential os echo in the serial framing \
             ({} bytes on the line), {ROUNDS} interleaved rounds",
            pty_svr.sent,
            frame.len()
        ),
        &[
            row(&["measure", "bare PTY echo", "smp-svr", "ratio"]),
            vec![
                "round trip p50".into(),
                us(pty_bare.p(50)),
                us(pty_svr.p(50)),
                ratio(pty_bare.p(50), pty_svr.p(50)),
            ],
            vec![
                "round trip p99".into(),
                us(pty_bare.p(99)),
                us(pty_svr.p(99)),
                ratio(pty_bare.p(99), pty_svr.p(99)),
            ],
            vec![
                "server CPU per echo".into(),
                us(pty_bare.cpu_per()),
                us(pty_svr.cpu_per()),
                ratio(pty_bare.cpu_per(), pty_svr.cpu_per()),
            ],
            vec![
                "lost (no reply in 1 s)".into(),
                pty_bare.lost.to_string(),
                pty_svr.lost.to_string(),
                String::new(),
            ],
        ],
    );

    // 6: engines.
    let mut eng = measure(
        &[
            (&bare, (bare_addr, true)),
            (&mio, (mio_addr, true)),
            (&tokio, (tokio_addr, true)),
        ],
        args.echoes,
        udp_go,
    )?;
    let (p50_std, cpu_std) = (eng[0].p(50), eng[0].cpu_per());
    let mut rows = vec![row(&[
        "engine",
        "round trip p50",
        "p99",
        "server CPU per echo",
        "p50 vs std",
        "CPU vs std",
    ])];
    for (name, s) in [
        "std (blocking loop)",
        "mio (edge-triggered, 1 thread)",
        "tokio (current_thread)",
    ]
    .iter()
    .zip(eng.iter_mut())
    {
        rows.push(vec![
            name.to_string(),
            us(s.p(50)),
            us(s.p(99)),
            us(s.cpu_per()),
            ratio(p50_std, s.p(50)),
            ratio(cpu_std, s.cpu_per()),
        ]);
    }
    table(
        &format!(
            "6. bare UDP echo engines: {} sequential echoes each, {ROUNDS} interleaved rounds",
            eng[0].sent
        ),
        &rows,
    );
    println!("\nload average at end: {}", loadavg());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use smp::mcuboot::Bytes;

    #[test]
    fn the_built_image_passes_the_cores_hash_check() {
        let img = built_image();
        let info = smp::mcuboot::image::check_hash(&mut Bytes(&img)).unwrap();
        assert_eq!(info.header.version.major, 1);
        assert!(img.len() > 1 << 20);
        // A flipped payload byte fails the same check.
        let mut bad = img.clone();
        bad[0x300] ^= 1;
        assert!(smp::mcuboot::image::check_hash(&mut Bytes(&bad)).is_err());
    }

    #[test]
    fn percentiles_pick_the_sorted_sample() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(pct(&v, 50), 50.0);
        assert_eq!(pct(&v, 99), 99.0);
        assert_eq!(pct(&v, 0), 1.0);
        assert_eq!(pct(&[], 50), 0.0);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
    }
}
