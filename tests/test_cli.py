"""smp-svr's command line: help, clear errors, clean stop."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
from pathlib import Path

from conftest import SMP_SVR, start_device
from test_img import imgtool, keys, make_image  # noqa: F401  (fixture)


def test_help_explains_itself():
    r = subprocess.run([SMP_SVR, "--help"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0
    for opt in ["--udp", "--pty", "--serial", "--state", "--buf-size", "--buf-count", "--raw"]:
        assert opt in r.stdout, opt
    assert "mcumgrctl" in r.stdout  # shows how to talk to it


def test_bad_arguments_are_refused_clearly(tmp_path):
    r = subprocess.run([SMP_SVR, "--udp", "not-an-address"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode != 0 and "--udp" in r.stderr
    r = subprocess.run([SMP_SVR, "--buf-size", "10"], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "--buf-size" in r.stderr
    r = subprocess.run([SMP_SVR, "--state", str(tmp_path), "--no-udp"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode != 0 and "no transport" in r.stderr


def test_port_in_use_is_an_error(tmp_path):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    try:
        r = subprocess.run([SMP_SVR, "--state", str(tmp_path), "--udp", f"127.0.0.1:{port}"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode != 0 and "cannot bind udp" in r.stderr
    finally:
        s.close()


def test_sigint_stops_cleanly_and_removes_the_pty_link(tmp_path):
    d = start_device(tmp_path)
    assert d.pty.is_symlink()
    d.proc.send_signal(signal.SIGINT)
    assert d.proc.wait(10) == 0
    assert not d.pty.exists()
    assert "stopping" in d.log.read_text()


# --- What a first-time user meets: every error says what happened and what to do. ---

def svr(*args: str, cwd=None, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([SMP_SVR, *args], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd)


def fatal(r: subprocess.CompletedProcess) -> str:
    """The one `smp-svr: ...` error line of a failed run (there must be exactly one, and no
    log line repeats it)."""
    assert r.returncode == 1, (r.returncode, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("smp-svr: ")]
    assert len(lines) == 1, r.stderr
    assert " ERROR " not in r.stderr, r.stderr
    return lines[0]


def blank(state: Path) -> bool:
    return all(set(f.read_bytes()) <= {0xff} for f in (state / "flash").glob("slot*.bin"))


def test_boot_failure_always_names_its_cause(tmp_path, keys):
    v1 = make_image(tmp_path, keys[0], "1.0.0", size=20000)
    size = v1.stat().st_size
    for n in range(4):  # the cause used to lose a race with "failed to boot"
        r = svr("--state", str(tmp_path / f"s{n}"), "--udp", "127.0.0.1:0", "--slot-size",
                "0x4000", "--image", str(v1))
        assert fatal(r) == (f"smp-svr: cannot install {v1}: image of {size} bytes does not "
                            f"fit slot of 16384 bytes")


def test_missing_files_are_named(tmp_path):
    r = svr("--state", str(tmp_path / "s"), "--udp", "127.0.0.1:0", "--key", "nope.pem",
            cwd=tmp_path)
    assert fatal(r) == "smp-svr: cannot read key file nope.pem: No such file or directory"
    r = svr("image-info", "nope.bin", cwd=tmp_path)
    assert fatal(r) == "smp-svr: cannot read image nope.bin: No such file or directory"
    r = svr("--state", str(tmp_path / "s"), "--udp", "127.0.0.1:0", "--image", "nope.bin",
            cwd=tmp_path)
    assert fatal(r) == "smp-svr: cannot read image nope.bin: No such file or directory"


def test_a_non_mcuboot_image_is_refused_before_it_is_written(tmp_path, keys):
    state = tmp_path / "s"
    raw = tmp_path / "app.bin"
    raw.write_bytes(b"\x12" * 5000)
    r = svr("--state", str(state), "--udp", "127.0.0.1:0", "--image", str(raw))
    assert fatal(r) == (f"smp-svr: cannot install {raw}: not an MCUboot image (bad magic): "
                        f"MCUboot would not boot it")
    assert blank(state)
    # Nothing was written, so the right image still installs on the same state.
    v1 = make_image(tmp_path, keys[0], "1.0.0")
    d = start_device(tmp_path, "--image", str(v1), "--key", str(keys[1]), state=state)
    assert d.stop() == 0
    assert "booting version 1.0.0" in d.log.read_text()


def test_image_ignored_on_a_used_state_says_so_and_how_to_flash(tmp_path, keys):
    key, pub, _ = keys
    state = tmp_path / "state"
    d = start_device(tmp_path, state=state)  # the built-in unsigned image
    assert d.stop() == 0
    v1 = make_image(tmp_path, key, "1.0.0")
    link = tmp_path / "tty"
    r = svr("--state", str(state), "--udp", "127.0.0.1:0", "--pty", str(link), "--image",
            str(v1), "--key", str(pub))
    assert fatal(r) == (
        "smp-svr: MCUboot: image 0's primary image is invalid (no signature by an accepted "
        f"key): nothing to boot; --image {v1} was not programmed: the slot already held "
        f"another image. To program it, run `smp-svr flash --state {state} --key PUB.pem "
        f"{v1}` (as `west flash` would), or start with a new --state directory")
    assert f"--image {v1} ignored" in r.stderr
    assert not link.exists() and not link.is_symlink(), "the --pty link is left dangling"
    # Following the advice works.
    r = svr("flash", "--state", str(state), "--key", str(pub), str(v1))
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"flashed {v1} (version 1.0.0) into image 0's primary slot in {state}\n"
    d = start_device(tmp_path, "--image", str(v1), "--key", str(pub), state=state)
    assert d.stop() == 0
    assert "already holds" in d.log.read_text() and "booting version 1.0.0" in d.log.read_text()


def test_flash_checks_the_image_with_the_keys(tmp_path, keys):
    key, pub, other = keys
    state = tmp_path / "state"
    evil = make_image(tmp_path, other, "1.0.0")
    r = svr("flash", "--state", str(state), "--key", str(pub), str(evil))
    assert fatal(r) == (f"smp-svr: cannot flash {evil}: no signature by an accepted key: "
                        f"MCUboot would not boot it")
    assert blank(state)


def test_a_state_directory_serves_one_device_at_a_time(tmp_path):
    d = start_device(tmp_path)
    try:
        r = svr("--state", str(d.state), "--udp", "127.0.0.1:0")
        assert fatal(r) == (f"smp-svr: state directory {d.state} is in use by another smp-svr "
                            f"(pid {d.proc.pid}): stop that one, or give this one another "
                            f"--state DIR")
        r = svr("flash", "--state", str(d.state), "nope.bin")
        assert "is in use by another smp-svr" in fatal(r)
        assert d.mcumgrctl("os", "echo", "still mine").stdout.strip() == "still mine"
    finally:
        assert d.stop() == 0
    # Once it has stopped, the state is free again.
    d = start_device(tmp_path, state=d.state)
    assert d.stop() == 0


def test_ready_after_every_reset_and_boots_counted_in_the_state(tmp_path):
    d = start_device(tmp_path)
    try:
        assert d.boot == 1
        d.mcumgrctl("os", "system-reset")
        assert d.wait_ready() == 2
        assert d.mcumgrctl("os", "echo", "back").stdout.strip() == "back"
    finally:
        assert d.stop() == 0
    d = start_device(tmp_path, state=d.state)
    try:
        assert d.boot == 3
        assert "boot #3" in d.log.read_text()
    finally:
        assert d.stop() == 0


def test_image_info_fails_on_a_bad_image_and_verifies_keys(tmp_path, keys):
    key, pub, other = keys
    img = make_image(tmp_path, key, "1.0.0")
    other_pub = tmp_path / "other.pub.pem"
    other_pub.write_text(imgtool("getpub", "-k", str(other), "-e", "pem"))
    r = svr("image-info", "--key", str(pub), str(img))
    assert r.returncode == 0, r.stderr
    assert "signature: ecdsa-p256 (verified: signed by an accepted key)\n" in r.stdout
    r = svr("image-info", "--key", str(other_pub), str(img))
    assert fatal(r) == f"smp-svr: {img}: no signature by an accepted key"
    assert "(NOT VERIFIED: no signature by an accepted key)" in r.stdout
    bad = tmp_path / "bad.bin"
    data = bytearray(img.read_bytes())
    data[0x300] ^= 0xff
    bad.write_bytes(bytes(data))
    r = svr("image-info", str(bad))
    assert fatal(r) == (f"smp-svr: {bad}: image hash mismatch: the file is corrupt or was "
                        f"modified after signing")
    assert "(MISMATCH)" in r.stdout
    cut = tmp_path / "cut.bin"
    cut.write_bytes(img.read_bytes()[:len(data) - 20])
    r = svr("image-info", str(cut))
    assert fatal(r) == (f"smp-svr: {cut}: truncated: {len(data) - 20} bytes, but its header, "
                        f"payload and TLVs take {len(data)} bytes")


def test_upload_progress_is_logged(tmp_path, keys):
    key, pub, _ = keys
    v1 = make_image(tmp_path, key, "1.0.0")
    v2 = make_image(tmp_path, key, "2.0.0", size=100_000)
    d = start_device(tmp_path, "--image", str(v1), "--key", str(pub))
    try:
        d.mcumgrctl("image", "upload", "-q", str(v2))
    finally:
        assert d.stop() == 0
    log = d.log.read_text()
    n = v2.stat().st_size
    assert f"INFO  smp_svr::device] image upload: {n} bytes" in log
    steps = re.findall(r"image upload: (\d+) % \((\d+) of (\d+) bytes, \d+ KiB/s\)", log)
    pcts = [int(p) for p, _, _ in steps]
    assert len(pcts) >= 8 and pcts == sorted(pcts) and pcts[0] >= 10, pcts
    assert all(int(t) == n for _, _, t in steps)
    assert re.search(rf"image upload: done, {n} bytes in [\d.]+ s \(\d+ KiB/s\)", log)
