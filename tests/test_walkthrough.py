"""README.md as a first-time user follows it: the set-up command, then the firmware-update
walkthrough, its commands taken from README.md itself and run as written, in order, in the
same directory (so this test fails when the README drifts).

The directory is a fresh "clone": symlinks to the repository's files, with the repository's
target/ (the release build is shared) but no smp-svr-state. Each step runs in a network
namespace of its own (`unshare -rn`) where available, so that the README's fixed port
127.0.0.1:1337 does not meet other devices on this machine.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

from conftest import MCUMGRCTL, ROOT


def sh_blocks_after(heading: str) -> list[str]:
    """The ```sh blocks of README.md's section `heading` (up to the next heading)."""
    text = (ROOT / "README.md").read_text()
    start = text.index(f"\n{heading}\n")
    rest = text[start + len(heading) + 2:]
    end = re.search(r"^#{1,3} ", rest, re.M)
    section = rest[:end.start()] if end else rest
    return re.findall(r"```sh\n(.*?)```", section, re.S)


def isolated() -> list[str]:
    """A prefix that runs a command in a private network namespace (loopback up)."""
    probe = subprocess.run(["unshare", "-rn", "ip", "link", "set", "lo", "up"],
                           capture_output=True)
    return ["unshare", "-rn"] if probe.returncode == 0 else []


def clone(tmp: Path) -> Path:
    d = tmp / "clone"
    d.mkdir()
    for entry in ROOT.iterdir():
        if entry.name in {"smp-svr-state", ".git"}:
            continue
        (d / entry.name).symlink_to(entry)
    return d


def bash(script: str) -> list[str]:
    # `ip link set lo up` only matters (and only works) inside the private namespace.
    return ["bash", "-c", f"ip link set lo up 2>/dev/null || true\n{script}"]


def test_readme_walkthrough_after_the_set_up_command(tmp_path):
    [setup] = sh_blocks_after("## The two commands")[:1]
    setup = setup.strip()
    assert setup.startswith("cargo run --release -p smp-svr")
    [walk] = sh_blocks_after("### A firmware update against the host device")
    repo = clone(tmp_path)
    env = {**os.environ, "TMPDIR": str(tmp_path),
           "PATH": os.pathsep.join([str(Path(MCUMGRCTL).parent), str(ROOT / ".venv/bin"),
                                    os.environ["PATH"]])}
    prefix = isolated()
    # The build the set-up command does, first and outside the namespace (it may need the
    # network for a fresh cargo cache).
    subprocess.run(["nice", "-n", "10", "cargo", "build", "--release", "-p", "smp-svr"],
                   cwd=repo, env=env, check=True, timeout=1800)

    # Step 1, as written: the host device boots the built-in image into ./smp-svr-state.
    first = subprocess.Popen([*prefix, *bash(f"exec {setup}")], cwd=repo, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in first.stdout:
            lines.append(line)
            if line.startswith("smp-svr: ready"):
                break
        assert lines and lines[-1].strip() == "smp-svr: ready (boot #1)", lines
        # Ctrl-C, as the README says before the walkthrough.
        first.send_signal(signal.SIGINT)
        assert first.wait(30) == 0, first.stderr.read()
    finally:
        if first.poll() is None:
            first.kill()
    assert (repo / "smp-svr-state/flash/slot0.bin").exists()

    # The walkthrough, in the same directory, every command checked (set -e).
    t0 = time.monotonic()
    r = subprocess.run([*prefix, *bash(f"set -euo pipefail\nset -x\n{walk}")], cwd=repo,
                       env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"walkthrough failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    assert time.monotonic() - t0 < 300
    out, err = r.stdout, r.stderr
    assert "signature: ecdsa-p256 (verified: signed by an accepted key)" in out
    # The scratch directory is under TMPDIR, the repository is left alone.
    [scratch] = [p for p in tmp_path.iterdir() if p.name.startswith("tmp.")]
    assert not (repo / "key.pem").exists() and not (repo / "state").exists()
    ready = (scratch / "ready.txt").read_text().splitlines()
    assert "smp-svr: udp 127.0.0.1:1337" in ready
    assert [ln for ln in ready if "ready" in ln] == ["smp-svr: ready (boot #1)",
                                                    "smp-svr: ready (boot #2)"]
    # After the reset 2.0.0 runs unconfirmed; the downloaded log shows the whole story.
    assert "2.0.0" in out
    log = (scratch / "device-log.txt").read_text()
    assert "flashed v1.bin into image 0's blank primary slot" in log
    assert re.search(r"image upload: \d+ % \(\d+ of \d+ bytes, \d+ KiB/s\)", log), log
    assert "image upload: done" in log
    assert "swap Test; booting version 2.0.0" in log
    assert "boot #2" in log
    assert "ERROR" not in err
    shutil.rmtree(scratch / "state", ignore_errors=True)
