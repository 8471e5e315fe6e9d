"""Fixtures that start the real `smp-svr` binary and point real clients at it."""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The line smp-svr prints on stdout after every boot: `smp-svr: ready (boot #N)`.
READY = re.compile(r"^smp-svr: ready \(boot #(\d+)\)$")


def _find_bin(name: str, env: str, candidates: list[Path]) -> str:
    if os.environ.get(env):
        return os.environ[env]
    for c in candidates:
        if c.exists():
            return str(c)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} not found: set {env} or run scripts/test-all.sh")
    return found


SMP_SVR = _find_bin("smp-svr", "SMP_SVR", [ROOT / "target/debug/smp-svr"])

# `SMP_SVR_SWAP_MODE=journal` (or `offset`) runs every device these fixtures start with
# `--swap-mode journal` (`offset`) unless the test passes its own --swap-mode: the image
# tests in another mode.
# SWAP_MODE is the mode the devices run in: the variable's value, else smp-svr's default.
SWAP_MODE_ENV = os.environ.get("SMP_SVR_SWAP_MODE", "")
SWAP_MODE = SWAP_MODE_ENV or "move"


def swap_args(extra) -> list[str]:
    """`--swap-mode SMP_SVR_SWAP_MODE`, unless unset or `extra` names a mode already."""
    return ["--swap-mode", SWAP_MODE_ENV] if SWAP_MODE_ENV and "--swap-mode" not in extra \
        else []
MCUMGRCTL = _find_bin("mcumgrctl", "MCUMGRCTL", [ROOT / ".ci/tools/bin/mcumgrctl"])


@dataclass
class Device:
    """A running smp-svr and how to reach it."""

    proc: subprocess.Popen
    state: Path
    udp_port: int
    pty: Path
    log: Path
    args: list[str]
    boot: int = 0
    lines: queue.Queue | None = None

    def wait_ready(self, timeout: float = 20) -> int:
        """Waits for the next `smp-svr: ready (boot #N)` line on stdout; returns N."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, "no ready line"
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            assert line, f"smp-svr exited; log:\n{self.log.read_text()[-4000:]}"
            m = READY.match(line.strip())
            if m:
                self.boot = int(m.group(1))
                return self.boot

    @property
    def udp(self) -> str:
        return f"127.0.0.1:{self.udp_port}"

    def mcumgrctl(self, *args: str, serial: bool = False, check: bool = True,
                  timeout: float = 60, ctl_timeout_ms: int = 3000,
                  retries: int | None = None) -> subprocess.CompletedProcess:
        """Runs mcumgrctl against this device over UDP (default) or the PTY."""
        target = ["-s", str(self.pty)] if serial else ["--udp", self.udp]
        extra = ["--retries", str(retries)] if retries is not None else []
        r = subprocess.run([MCUMGRCTL, *target, "-t", str(ctl_timeout_ms), *extra, *args],
                           capture_output=True,
                           text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"mcumgrctl {' '.join(args)} failed ({r.returncode}):\n"
                                 f"{r.stdout}\n{r.stderr}")
        return r

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def start_device(tmp: Path, *extra: str, state: Path | None = None) -> Device:
    """Starts smp-svr on a free UDP port and a fresh PTY; waits until it is ready."""
    state = state or tmp / "state"
    link = tmp / f"tty{time.monotonic_ns()}"
    log = tmp / "smp-svr.log"
    args = [SMP_SVR, "--state", str(state), "--udp", "127.0.0.1:0", "--pty", str(link), *extra,
            *swap_args(extra)]
    logf = open(log, "ab")
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=logf, text=True,
                            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "debug")})
    lines = stdout_lines(proc)
    port = None
    boot = 0
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        if not line:
            break
        if line.startswith("smp-svr: udp "):
            port = int(line.rsplit(":", 1)[1])
        m = READY.match(line.strip())
        if m:
            boot = int(m.group(1))
            break
    if port is None or not boot:
        proc.kill()
        raise RuntimeError(f"smp-svr did not start; log:\n{log.read_text()}")
    return Device(proc, state, port, link, log, args, boot, lines)


def stdout_lines(proc: subprocess.Popen) -> queue.Queue:
    """Reads the process's stdout lines into a queue (an empty string at the end)."""
    q: queue.Queue = queue.Queue()

    def pump():
        for line in proc.stdout:
            q.put(line)
        q.put("")

    threading.Thread(target=pump, daemon=True).start()
    return q


@pytest.fixture
def device(tmp_path: Path):
    d = start_device(tmp_path)
    yield d
    rc = d.stop()
    assert rc == 0, f"smp-svr exited with {rc}; log:\n{d.log.read_text()[-4000:]}"
