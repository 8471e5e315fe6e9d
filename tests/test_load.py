"""Load: many real clients at once, over UDP and the PTY. Nothing may be lost and every reply
must match its request (issue 10). Nothing here is timed: each client has a 2 s timeout and
no retries (where the client lets them be turned off), so one dropped datagram fails its
client and the test names it.

The clients are the real ones: smpclient's asyncio UDP transport (several clients in one
event loop), mcumgr-toolkit's `MCUmgrClient` (one thread each; UDP and serial) and
`mcumgrctl` processes.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import subprocess
import sys
import threading

from smpclient import SMPClient
from smpclient.generics import success
from smpclient.requests.file_management import FileHashChecksum
from smpclient.requests.os_management import EchoWrite

from conftest import MCUMGRCTL
from smp_helpers import UDP

TIMEOUT_S = 2.0


# mcumgr-toolkit's calls hold Python's GIL while they wait for a reply, so its clients run in
# processes of their own (one client each): threads of this process would run one request
# at a time and stall smpclient's asyncio loop for as long as each waits. A worker prints
# `ready`, waits for a line on stdin, runs, and prints one JSON line: {"done", "error"}.
TOOLKIT_WORKER = r"""
import json, sys
import mcumgr_toolkit
op, where, name, arg, timeout_ms = sys.argv[1:6]
timeout_ms = int(timeout_ms)
if op == "pty-echo":
    c = mcumgr_toolkit.MCUmgrClient.serial(where, 115200, timeout_ms)
else:
    c = mcumgr_toolkit.MCUmgrClient.udp("127.0.0.1", int(where), timeout_ms)
c.set_retries(0)
print("ready", flush=True)
sys.stdin.readline()
done, error = 0, None
try:
    if op == "upload":
        c.use_auto_frame_size()
        c.fs_file_upload(name, open(arg, "rb").read())
        done = 1
    else:
        for i in range(int(arg)):
            msg = f"{name}-{i:03d}"
            got = c.os_echo(msg)
            if got != msg:
                raise AssertionError(f"sent {msg!r}, got {got!r}")
            done += 1
except Exception as e:
    error = " ".join(f"{type(e).__name__}: {e}".split())
print(json.dumps({"done": done, "error": error}), flush=True)
"""


class Toolkit:
    """mcumgr-toolkit clients, one process each (see `TOOLKIT_WORKER`)."""

    def __init__(self):
        self.procs: dict[str, subprocess.Popen] = {}

    def add(self, label: str, op: str, where, name: str, arg) -> None:
        p = subprocess.Popen([sys.executable, "-c", TOOLKIT_WORKER, op, str(where), name,
                              str(arg), str(int(TIMEOUT_S * 1000))],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.procs[label] = p

    def go(self) -> None:
        """Waits until every client is connected, then starts them all at once."""
        for label, p in self.procs.items():
            line = p.stdout.readline().strip()
            assert line == "ready", f"{label}: toolkit worker did not start: {line!r}"
        for p in self.procs.values():
            p.stdin.write("go\n")
            p.stdin.flush()

    def results(self) -> dict[str, dict]:
        out = {}
        for label, p in self.procs.items():
            line, _ = p.communicate(timeout=120)
            try:
                out[label] = json.loads(line.strip().splitlines()[-1])
            except (IndexError, ValueError):
                out[label] = {"done": 0, "error": f"worker exited {p.returncode}: {line!r}"}
        return out


class PtyEchoes:
    """A PTY client that keeps sending echoes (each a distinct string) while the load runs:
    one `mcumgrctl -s` process per echo, from a thread. Bounded: at most `limit` echoes, and
    it stops at the first failure."""

    def __init__(self, pty, limit: int = 500):
        self.pty, self.limit = str(pty), limit
        self.done = 0
        self.failure: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        tag = f"{random.getrandbits(32):08x}"
        try:
            while not self._stop.is_set() and self.done < self.limit:
                msg = f"pty-{self.done}-{tag}"
                r = subprocess.run([MCUMGRCTL, "-s", self.pty, "-t", str(int(TIMEOUT_S * 1000)),
                                    "--retries", "0", "os", "echo", msg],
                                   capture_output=True, text=True, timeout=30)
                if r.returncode != 0:
                    raise RuntimeError(f"mcumgrctl exit {r.returncode}: {r.stderr.strip()}")
                if r.stdout.strip() != msg:
                    raise AssertionError(f"sent {msg!r}, got {r.stdout.strip()!r}")
                self.done += 1
        except Exception as e:  # noqa: BLE001 - reported by check()
            self.failure = f"PTY client (mcumgrctl -s), echo #{self.done}: {type(e).__name__}: {e}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(60)

    def check(self, at_least: int):
        assert self.failure is None, self.failure
        assert self.done >= at_least, f"PTY client ran only {self.done} echoes during the load"


def transport_stats(device) -> dict:
    """The device's counters of every transport (`smp_udp<N>`, `smp_uart<N>`)."""
    groups = json.loads(device.mcumgrctl("--json", "stats", "list-groups").stdout)
    out = {}
    for g in groups:
        if g.startswith(("smp_udp", "smp_uart")):
            out[g] = json.loads(device.mcumgrctl("--json", "stats", "get", g).stdout)[g]
    assert any(g.startswith("smp_uart") for g in out) and "smp_udp0" in out, groups
    return {"dropped": sum(c["dropped"] for c in out.values()), **out}


def assert_nothing_lost(failures: list[str], before: dict, after: dict, what: str):
    """No client failed, and the device's own count of requests it read and threw away (UDP
    and PTY) did not grow; that count is reported either way, to tell a loss in the device
    from one elsewhere."""
    dropped = after["dropped"] - before["dropped"]
    assert not failures and dropped == 0, (
        f"{what}: {len(failures)} client(s) failed; the device counted {dropped} dropped "
        f"request(s) ({after}):\n" + "\n".join(sorted(failures)))


# ------------------------------------------------------------------------- (a) echoes


SMPCLIENTS = 8  # in one asyncio loop
TOOLKITS = 8  # one process each
ECHOES = 300


def test_sixteen_udp_clients_times_300_echoes_with_a_pty_client(device):
    """16 UDP clients × 300 sequential echoes, each echo a distinct string: every reply's
    text is its request's. 8 clients are smpclient's in one asyncio loop (smpclient has no
    retries; it also checks each reply's sequence number), 8 are mcumgr-toolkit's
    (`set_retries(0)`), and all start at once. A PTY client (mcumgr-toolkit serial, 300
    echoes) runs at the same time."""
    failures: list[str] = []
    counts: dict[str, int] = {}
    tag = f"{random.getrandbits(32):08x}"

    async def smp_client(name: str):
        n = 0
        try:
            async with SMPClient(UDP(device.udp_port), "127.0.0.1", timeout_s=TIMEOUT_S) as c:
                for i in range(ECHOES):
                    m = f"{name}-{i:03d}"
                    rsp = await c.request(EchoWrite(d=m))
                    if not success(rsp) or rsp.r != m:
                        raise AssertionError(f"sent {m!r}, got {rsp!r}")
                    n += 1
        except Exception as e:  # noqa: BLE001 - collected
            failures.append(f"{name}, echo #{n}: {type(e).__name__}: {e}")
        counts[name] = n

    async def smp_clients():
        await asyncio.gather(*(smp_client(f"smpclient{k}-{tag}") for k in range(SMPCLIENTS)))

    before = transport_stats(device)
    tk = Toolkit()
    for k in range(TOOLKITS):
        tk.add(f"toolkit{k}", "echo", device.udp_port, f"toolkit{k}-{tag}", ECHOES)
    tk.add("pty", "pty-echo", device.pty, f"pty-{tag}", ECHOES)
    tk.go()
    asyncio.run(smp_clients())
    for label, r in tk.results().items():
        counts[label] = r["done"]
        if r["error"]:
            failures.append(f"{label} (mcumgr-toolkit), echo #{r['done']}: {r['error']}")
    assert_nothing_lost(failures, before, transport_stats(device), f"echoes done {counts}")
    assert sum(counts.values()) == (SMPCLIENTS + TOOLKITS + 1) * ECHOES


# ------------------------------------------------------------------------- (b) uploads


def test_four_udp_clients_upload_four_files_at_once_with_a_pty_client(device, tmp_path):
    """4 clients upload 4 different files (64-256 KiB of distinct random bytes) at once over
    UDP: smpclient (`upload_file`), mcumgr-toolkit (`fs_file_upload`) and two `mcumgrctl fs
    upload` processes, none retrying. Then every file is downloaded by another client and
    compared, and its sha256 (`fs hash`) and its bytes in the fs root are checked too.

    Zephyr supports this: fs_mgmt.c (zephyrproject-rtos/zephyr, subsys/mgmt/mcumgr/grp/
    fs_mgmt/src/fs_mgmt.c at 0014f3dc4dda0142561b6495fc9213a4eacf8c27) keeps one file
    context; a chunk for another path closes it (`fs_mgmt_cleanup`, which keeps what was
    written), and a chunk at off > 0 of a path not open reopens the file and takes its size
    as the expected offset (`fs_mgmt_filelen`), so interleaved uploads of different files
    each go on where they were. A transfer resumed that way no longer knows its total
    length and stays open until another context or the idle timeout closes it, and file
    status and hash see a file as last closed: hence the downloads (each a new context)
    before the hashes. A PTY client (`mcumgrctl -s` processes) echoes all the while."""
    rng = random.Random()
    sizes = [64 * 1024 + 3, 100 * 1024 + 17, 180 * 1024 + 5, 256 * 1024]
    rng.shuffle(sizes)
    names = ["smpclient", "toolkit", "mcumgrctl0", "mcumgrctl1"]
    data = {n: rng.randbytes(s) for n, s in zip(names, sizes)}
    remote = {n: f"/lfs1/load-{n}.bin" for n in names}
    for n in names:
        (tmp_path / n).write_bytes(data[n])
    failures: list[str] = []

    async def smp_upload():
        try:
            async with SMPClient(UDP(device.udp_port), "127.0.0.1", timeout_s=TIMEOUT_S) as c:
                async for _off in c.upload_file(data["smpclient"], remote["smpclient"]):
                    pass
        except Exception as e:  # noqa: BLE001 - collected
            failures.append(f"smpclient upload: {type(e).__name__}: {e}")

    before = transport_stats(device)
    tk = Toolkit()
    tk.add("toolkit", "upload", device.udp_port, remote["toolkit"], tmp_path / "toolkit")
    with PtyEchoes(device.pty) as pty:
        tk.go()
        procs = {n: subprocess.Popen([MCUMGRCTL, "--udp", device.udp, "-t",
                                      str(int(TIMEOUT_S * 1000)), "--retries", "0", "fs",
                                      "upload", "-q", str(tmp_path / n), remote[n]],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for n in names[2:]}
        asyncio.run(smp_upload())
        for n, p in procs.items():
            out, err = p.communicate(timeout=120)
            if p.returncode != 0:
                failures.append(f"{n} upload: exit {p.returncode}: {err.strip()} {out.strip()}")
        r = tk.results()["toolkit"]
        if r["error"]:
            failures.append(f"toolkit upload: {r['error']}")
    assert_nothing_lost(failures, before, transport_stats(device), "uploads")
    pty.check(at_least=1)

    # Each file read back by a client other than its uploader: mcumgrctl for the smpclient's
    # and the toolkit's, smpclient for mcumgrctl's.
    got = {}
    for n in names[:2]:
        back = tmp_path / f"back-{n}"
        r = subprocess.run([MCUMGRCTL, "--udp", device.udp, "-t", "3000", "fs", "download",
                            "-q", remote[n], str(back)], capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 0, r.stderr
        got[n] = back.read_bytes()

    async def downloads():
        async with SMPClient(UDP(device.udp_port), "127.0.0.1", timeout_s=3.0) as c:
            for n in names[2:]:
                got[n] = await c.download_file(remote[n])
            return {n: await c.request(FileHashChecksum(name=remote[n], type="sha256"))
                    for n in names}

    hashes = asyncio.run(downloads())
    for n in names:
        assert len(got[n]) == len(data[n]), f"{n}: {len(got[n])} bytes back, {len(data[n])} sent"
        assert got[n] == data[n], f"{n}: downloaded bytes differ from what was uploaded"
        assert success(hashes[n]), hashes[n]
        assert bytes(hashes[n].output) == hashlib.sha256(data[n]).digest(), f"{n}: sha256"
        assert (device.state / "fs" / remote[n].removeprefix("/lfs1/")).read_bytes() == data[n]
