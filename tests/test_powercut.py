"""The power-cut sweep: a power cut (`--power-cut-after N`) at every flash operation of a
test-and-revert update, each followed by a restart, must never brick the device, never lose
the confirmed image, and always let the update sequence finish in the uncut run's state.

The sequence: upload the new image, mark it for test, reset (MCUboot swaps, the new image
runs unconfirmed), reset again (MCUboot reverts to the old, confirmed image). A clean run
counts its flash operations, T; then for every N in 1..=T a fresh copy of the pre-sequence
state runs the sequence with the cut after operation N, is restarted without the option and
checked, and the sequence is continued from the step the cut interrupted.

With `SMP_SVR_SWAP_MODE=overwrite` (MCUboot's overwrite-only) the first reset copies the new
image over the old one and nothing can revert: the sequence ends with the new image running,
and what must survive a cut is a bootable image, the old one or the new one."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

from smpclient.generics import success
from smpclient.requests import os_management as osreq

from conftest import MCUMGRCTL, READY, SMP_SVR, SWAP_MODE, stdout_lines, swap_args
from smp_helpers import run, with_udp
from test_img import keys, make_image, tlv_hash  # noqa: F401  (fixture)

# A small flash: 8 sectors of 4 KiB per slot, an image of 3 sectors (12000 bytes).
SLOT = 0x8000
ERASE = 4096
IMAGE_BYTES = 12000

STEPS = ["upload", "test", "reset (test swap)", "reset (revert)"]
# Overwrite-only: the test request acts as permanent, the second reset reverts nothing.
OVERWRITE = SWAP_MODE == "overwrite"
IMAGE_MAGIC = bytes.fromhex("3db8f396")
CUT_LINE = re.compile(r"^smp-svr: power cut after flash operation (\d+)$")
TOTAL_LINE = re.compile(r"no power cut \(--power-cut-after \d+\): (\d+) flash operations")


class Dev:
    """One smp-svr process on a state directory (UDP on a free port, info log)."""

    def __init__(self, state: Path, log: Path, pub: Path, *extra: str):
        self.log = log
        args = [SMP_SVR, "--state", str(state), "--udp", "127.0.0.1:0", "--key", str(pub),
                "--slot-size", hex(SLOT), "--erase-size", str(ERASE), *extra, *swap_args(extra)]
        with open(log, "ab") as logf:
            self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=logf, text=True,
                                         env={**os.environ, "RUST_LOG": "info"})
        self.lines = stdout_lines(self.proc)
        self.port = None
        self.boot = 0

    def next_boot(self, timeout: float = 15) -> bool:
        """Waits for the next ready line (True) or the end of the process (False)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                return False
            if not line:
                self.proc.wait(10)
                return False
            if line.startswith("smp-svr: udp "):
                self.port = int(line.rsplit(":", 1)[1])
            m = READY.match(line.strip())
            if m:
                self.boot = int(m.group(1))
                return True

    def alive(self) -> bool:
        return self.proc.poll() is None

    def mcumgrctl(self, *args: str) -> str | None:
        """Runs mcumgrctl; its output, or None if the device died meanwhile."""
        c = subprocess.Popen([MCUMGRCTL, "--udp", f"127.0.0.1:{self.port}", "-t", "3000",
                              *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        while True:
            try:
                out, err = c.communicate(timeout=0.02)
                break
            except subprocess.TimeoutExpired:
                if not self.alive():
                    c.kill()
                    c.communicate()
                    return None
        if c.returncode != 0:
            try:
                self.proc.wait(2)
                return None
            except subprocess.TimeoutExpired:
                pass
            raise AssertionError(f"mcumgrctl {' '.join(args)} failed: {out}{err}")
        return out

    def reset(self) -> bool:
        """Resets through smpclient; whether the device came back (ready again)."""
        rsp = run(with_udp(self.port, lambda c: c.request(osreq.ResetWrite())))
        assert success(rsp), rsp
        return self.next_boot()

    def state(self) -> dict:
        out = self.mcumgrctl("--json", "image", "get-state")
        assert out is not None, "device died reading its state"
        keep = ("version", "hash", "active", "confirmed", "pending", "permanent")
        return {i["slot"]: {k: i.get(k) for k in keep} for i in json.loads(out)}

    def stop(self) -> int:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(10)
        return self.proc.returncode


def step(d: Dev, k: int, v2: Path, h2: str) -> bool:
    """Runs step `k` of the sequence; False if the device died in it."""
    if k == 0:
        return d.mcumgrctl("image", "upload", "-q", str(v2)) is not None
    if k == 1:
        return d.mcumgrctl("image", "set-state", "--hash", h2) is not None
    return d.reset()


def perm_resume(files: list[bytes], want: list[bytes]) -> bool:
    """Whether `files` are the uncut end state but for the primary's swap_info byte, 3
    (permanent) where the uncut revert left 4 (revert), in swap-using-move mode: a revert cut
    before its first move resumes as a permanent swap of the same images, because MCUboot's
    `fixup_revert` has already written image_ok and magic into the secondary (mcu-tools/mcuboot
    2d4bacc3, boot/bootutil/src/swap_move.c). swap_info sits 40 bytes before the slot's end
    with BOOT_MAX_ALIGN 8 (docs/mcuboot.md)."""
    if SWAP_MODE != "move":
        return False
    info = len(want[0]) - 40
    fixed = bytearray(files[0])
    if fixed[info] != 0x03 or want[0][info] != 0x04:
        return False
    fixed[info] = 0x04
    return [bytes(fixed), files[1]] == want


def overwrite_leftover(files: list[bytes], want: list[bytes]) -> bool:
    """Whether `files` are the uncut end state of an overwrite but for the secondary slot,
    which holds no image header either: a cut after MCUboot erased the secondary's header
    sector and before it erased its last (trailer) sector leaves that trailer, which every
    later boot finds no image for (mcu-tools/mcuboot 2d4bacc3, boot/bootutil/src/loader.c
    boot_copy_image)."""
    return OVERWRITE and files[0] == want[0] and files[1][:4] != IMAGE_MAGIC


def hexhash(h) -> str:
    return h if isinstance(h, str) else bytes(h).hex()


def test_power_cut_at_every_flash_operation(tmp_path, keys, capsys):  # noqa: F811
    key, pub, _ = keys
    v1 = make_image(tmp_path, key, "1.0.0", IMAGE_BYTES, SLOT)
    v2 = make_image(tmp_path, key, "2.0.0", IMAGE_BYTES, SLOT)
    h1, h2 = tlv_hash(v1), tlv_hash(v2)
    old = v1.read_bytes()
    # What must stay intact somewhere after a cut: the confirmed image, or in overwrite-only
    # mode (which gives the old image up by design) either image.
    keep = [old, v2.read_bytes()] if OVERWRITE else [old]
    log = tmp_path / "smp-svr.log"

    # The state before the sequence: v1 flashed and booted once.
    template = tmp_path / "template"
    d = Dev(template, log, pub, "--image", str(v1))
    assert d.next_boot(), log.read_text()[-3000:]
    assert d.stop() == 0

    state = tmp_path / "state"

    def fresh():
        shutil.rmtree(state, ignore_errors=True)
        shutil.copytree(template, state)

    # The uncut run: its flash-operation count and its final state.
    fresh()
    d = Dev(state, log, pub, "--power-cut-after", str(10**12))
    assert d.next_boot(), log.read_text()[-3000:]
    for k in range(len(STEPS)):
        assert step(d, k, v2, h2), f"uncut run died in {STEPS[k]}"
    want = d.state()
    assert want[0]["confirmed"] and want[0]["active"], want
    if OVERWRITE:
        # v2 copied over v1 for good; MCUboot erased the secondary's header after the copy.
        assert hexhash(want[0]["hash"]) == h2 and 1 not in want, want
    else:
        assert want[0]["version"] == "1.0.0", want
        assert hexhash(want[0]["hash"]) == h1 and hexhash(want[1]["hash"]) == h2
    assert d.stop() == 0
    m = TOTAL_LINE.search(log.read_text())
    assert m, log.read_text()[-3000:]
    total = int(m.group(1))
    want_files = [(state / "flash" / f"slot{n}.bin").read_bytes() for n in (0, 1)]
    # Upload, test marking and two whole-slot swaps: far more than a handful of cuts.
    assert total > 20, total

    bricked, lost, mismatched = [], [], []
    resumed_as_perm = 0
    leftover_trailers = 0
    died_in = [0] * len(STEPS)
    reverted_at_restart = 0
    started = time.monotonic()
    for n in range(1, total + 1):
        fresh()
        log.write_text("")
        d = Dev(state, log, pub, "--power-cut-after", str(n))
        assert d.next_boot(), f"N={n}: no first boot\n{log.read_text()[-3000:]}"
        k = 0
        while k < len(STEPS) and step(d, k, v2, h2):
            k += 1
        assert k < len(STEPS), f"N={n} <= {total} but the sequence ran through"
        assert d.proc.wait(10) == -signal.SIGKILL, f"N={n}: {d.proc.returncode}"
        last = log.read_text().splitlines()[-1]
        cut = CUT_LINE.match(last)
        assert cut and int(cut.group(1)) == n, f"N={n}: last log line {last!r}"
        died_in[k] += 1

        # Power back: the device must boot, run v1 or v2, and hold v1 intact somewhere.
        d = Dev(state, log, pub)
        if not d.next_boot():
            bricked.append((n, STEPS[k]))
            d.stop()
            continue
        try:
            st = d.state()
            active = [s for s in st.values() if s["active"]]
            assert len(active) == 1, (n, st)
            running = hexhash(active[0]["hash"])
            assert running in (h1, h2), (n, st)
            slots = [(state / "flash" / f"slot{s}.bin").read_bytes() for s in (0, 1)]
            if not any(s.startswith(img) for s in slots for img in keep):
                lost.append((n, STEPS[k]))
            # Continue where the cut struck. The restart was a reset: if v2 now runs under
            # test, only the revert is left; otherwise the steps from the interrupted one.
            if OVERWRITE:
                # Once v2 runs (copied at a reset, or copied again at the restart after a
                # cut in the copy) only the last reset is left, which changes nothing.
                rest = [3] if running == h2 else list(range(k, len(STEPS)))
            elif running == h2 and not active[0]["confirmed"]:
                if k == 3:
                    mismatched.append((n, STEPS[k], "revert lost"))
                    continue
                rest = [3]
            elif k <= 1:
                rest = list(range(k, len(STEPS)))
            elif k == 2:
                # v1 runs after a cut in the test swap only if the swap had finished: its
                # last write (copy-done) leaves no status to resume, and MCUboot reverts the
                # unconfirmed image at the next boot (mcu-tools/mcuboot 2d4bacc3,
                # boot/bootutil/src/loader.c boot_perform_update; swap_scratch.c
                # boot_status_tables[0]). The restart was that revert.
                after = log.read_text().split(cut.group(0), 1)[1]
                if "swap Revert" not in after:
                    mismatched.append((n, STEPS[k], "test swap lost"))
                    continue
                reverted_at_restart += 1
                rest = []
            else:
                rest = []
            for j in rest:
                assert step(d, j, v2, h2), f"N={n}: died in {STEPS[j]} without a cut"
            got = d.state()
            files = [(state / "flash" / f"slot{s}.bin").read_bytes() for s in (0, 1)]
            if got != want:
                mismatched.append((n, STEPS[k], got))
            elif overwrite_leftover(files, want_files) and files != want_files:
                leftover_trailers += 1
            elif files != want_files and not perm_resume(files, want_files):
                mismatched.append((n, STEPS[k], "slot bytes differ"))
            elif files != want_files:
                resumed_as_perm += 1
        finally:
            assert d.stop() == 0, log.read_text()[-3000:]
        assert not (state / "flash" / "swap0.journal").exists(), n

    secs = time.monotonic() - started
    summary = (f"power-cut sweep ({SWAP_MODE}): {total} cuts tried in {secs:.0f} s "
               f"(by step: {dict(zip(STEPS, died_in))}; a finished test swap reverted at "
               f"the restart: {reverted_at_restart}; reverts resumed as permanent swaps: "
               f"{resumed_as_perm}; overwrites leaving the secondary's trailer: "
               f"{leftover_trailers}); bricked {len(bricked)}, "
               f"lost confirmed images {len(lost)}, mismatching end states {len(mismatched)}")
    with capsys.disabled():
        print("\n" + summary)
    assert not bricked and not lost and not mismatched, (summary, bricked, lost, mismatched)


def test_a_settings_save_is_a_flash_operation(tmp_path, keys):  # noqa: F811
    """Settings live in flash on a board: a save counts, and the cut follows it."""
    from smpclient.requests import settings_management as setreq

    key, pub, _ = keys
    v1 = make_image(tmp_path, key, "1.0.0", IMAGE_BYTES, SLOT)
    state, log = tmp_path / "state", tmp_path / "smp-svr.log"
    d = Dev(state, log, pub, "--image", str(v1), "--power-cut-after", "1")
    assert d.next_boot(), log.read_text()[-3000:]

    rsp = run(with_udp(d.port, lambda c: c.request(setreq.WriteSetting(name="app/cut",
                                                                        val=b"kept"))))
    assert success(rsp), rsp
    # The save is flash operation 1: the device dies before it answers.
    with contextlib.suppress(TimeoutError):
        run(with_udp(d.port, lambda c: c.request(setreq.SaveSettings(), timeout_s=1.0)))
    assert d.proc.wait(10) == -signal.SIGKILL
    assert log.read_text().splitlines()[-1] == "smp-svr: power cut after flash operation 1"
    d = Dev(state, log, pub)
    assert d.next_boot(), log.read_text()[-3000:]
    try:
        rsp = run(with_udp(d.port, lambda c: c.request(setreq.ReadSetting(name="app/cut"))))
        assert success(rsp) and rsp.val == b"kept", rsp
    finally:
        assert d.stop() == 0
