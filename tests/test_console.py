"""The serial console on the PTY: a Zephyr-style shell and SMP frames on one line, and SMP v1
through mcumgr-client-wrapper."""

from __future__ import annotations

import os
import select
import time

import pytest


def read_until(fd: int, marker: bytes, timeout: float = 5.0) -> bytes:
    buf = b""
    deadline = time.monotonic() + timeout
    while marker not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out waiting for {marker!r}; got {buf!r}")
        r, _, _ = select.select([fd], [], [], left)
        if r:
            buf += os.read(fd, 4096)
    return buf


def shell(fd: int, line: str) -> str:
    """Types `line` and returns what the console printed up to the next prompt, without the
    echo of the line itself."""
    os.write(fd, line.encode() + b"\r")
    out = read_until(fd, b"\r\nuart:~$ ")
    text = out.decode()
    echo = line + "\r\n"
    assert text.startswith(echo), text
    return text[len(echo):text.rindex("uart:~$ ")]


@pytest.fixture
def console(device):
    fd = os.open(device.pty, os.O_RDWR | os.O_NOCTTY)
    try:
        # Sync on a prompt: an empty line always produces one.
        os.write(fd, b"\r")
        read_until(fd, b"uart:~$ ")
        time.sleep(0.1)
        while select.select([fd], [], [], 0.05)[0]:
            os.read(fd, 4096)
        yield fd
    finally:
        os.close(fd)


def test_shell_commands_on_the_console(console):
    assert shell(console, "kernel version") == "Zephyr version 4.2.0\r\n"
    up = shell(console, "kernel uptime")
    assert up.startswith("Uptime: ") and up.endswith(" ms\r\n"), up
    assert "kernel" in shell(console, "help")
    assert "(READY)" in shell(console, "device list")
    assert shell(console, "frobnicate") == "frobnicate: command not found\r\n"


def test_shell_line_editing(console):
    os.write(console, b"kernel versiom\x7fn\r")
    out = read_until(console, b"uart:~$ ").decode()
    assert "Zephyr version 4.2.0" in out


def test_shell_tab_completion(console):
    os.write(console, b"ker\t")
    assert read_until(console, b"kernel ") == b"kernel "
    os.write(console, b"\t")
    listing = read_until(console, b"\r\nuart:~$ kernel ")
    assert listing == b"\r\n  reboot  threads  uptime  version\r\nuart:~$ kernel ", listing
    os.write(console, b"ver\t")
    assert read_until(console, b"version ") == b"version "
    os.write(console, b"\r")
    assert b"Zephyr version 4.2.0\r\n" in read_until(console, b"uart:~$ ")


def test_shell_history_and_line_kill(console):
    assert shell(console, "kernel version") == "Zephyr version 4.2.0\r\n"
    assert "kernel" in shell(console, "help")
    # Up twice: the older line comes back, and runs.
    os.write(console, b"\x1b[A\x1b[A\r")
    out = read_until(console, b"Zephyr version 4.2.0\r\nuart:~$ ").decode()
    assert "\r\x1b[Kuart:~$ kernel version\r\n" in out, out
    # Ctrl-U drops the line; Ctrl-W the last word.
    os.write(console, b"frobnicate\x15kernel bogus\x17uptime\r")
    out = read_until(console, b" ms\r\nuart:~$ ").decode()
    assert "Uptime: " in out and "not found" not in out and "unknown" not in out, out


def test_smp_and_text_share_the_line(device, console):
    # A frame arriving between shell lines is answered; the shell keeps working.
    assert device.mcumgrctl("os", "echo", "framed", serial=True).stdout.strip() == "framed"
    assert shell(console, "kernel version") == "Zephyr version 4.2.0\r\n"


def test_reboot_from_the_shell(device, console):
    os.write(console, b"kernel reboot cold\r")
    out = read_until(console, b" ***\r\nuart:~$ ", timeout=5)
    assert b"kernel reboot cold" in out
    assert b"*** Booting Zephyr OS build smp-svr" in out
    # The next prompt follows the banner; none comes before it.
    before = out[out.index(b"kernel reboot cold"):out.index(b"*** Booting")]
    assert before == b"kernel reboot cold\r\n", out
    assert device.wait_ready() == 2
    assert device.mcumgrctl("os", "echo", "rebooted").stdout.strip() == "rebooted"


def test_smp_v1_with_mcumgr_client_wrapper(device):
    import mcumgr_client

    session = mcumgr_client.SerialSession(str(device.pty), initial_timeout_s=5)
    # Reset is the OS command this SMP v1 client has; the device must answer it and come back.
    session.reset()
    deadline = time.monotonic() + 10
    while device.mcumgrctl("os", "echo", "v1 ok", check=False).returncode != 0:
        assert time.monotonic() < deadline
    log = device.log.read_text()
    assert "ver 0 group 0 cmd 5" in log  # the request really was SMP v1
    assert "boot #2" in log


def test_raw_serial_protocol(tmp_path):
    from conftest import start_device

    d = start_device(tmp_path, "--raw")
    try:
        r = d.mcumgrctl("--raw", "os", "echo", "raw mode", serial=True)
        assert r.stdout.strip() == "raw mode"
        big = "r" * 1500
        assert d.mcumgrctl("--raw", "os", "echo", big, serial=True).stdout.strip() == big
        # The framed protocol is not understood on a raw line.
        r = d.mcumgrctl("os", "echo", "framed", serial=True, check=False, ctl_timeout_ms=500,
                        retries=0)
        assert r.returncode != 0 and "imeout" in r.stderr, r.stderr
    finally:
        assert d.stop() == 0


def test_serial_device_option(tmp_path):
    """--serial DEV on an existing tty: one end of a socat-linked PTY pair."""
    import shutil
    import subprocess

    from conftest import SMP_SVR, Device

    socat = shutil.which("socat")
    assert socat, "socat is needed for this test (installed by .ci/run)"
    dev_side, client_side = tmp_path / "dev", tmp_path / "client"
    link = subprocess.Popen([socat, f"pty,raw,echo=0,link={dev_side}",
                             f"pty,raw,echo=0,link={client_side}"],
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not (dev_side.exists() and client_side.exists()):
            assert time.monotonic() < deadline, "socat did not create the PTY pair"
            time.sleep(0.05)
        log = tmp_path / "svr.log"
        proc = subprocess.Popen([SMP_SVR, "--state", str(tmp_path / "state"), "--no-udp",
                                 "--serial", str(dev_side)], stdout=subprocess.PIPE,
                                stderr=open(log, "wb"), text=True)
        d = Device(proc, tmp_path / "state", 0, client_side, log, [])
        try:
            assert proc.stdout.readline().startswith("smp-svr: serial ")
            assert proc.stdout.readline().strip() == "smp-svr: ready (boot #1)"
            r = d.mcumgrctl("os", "echo", "over a real tty", serial=True)
            assert r.stdout.strip() == "over a real tty"
        finally:
            assert d.stop() == 0
    finally:
        link.terminate()
        link.wait()
