"""Injected input faults (`--fault`): clients that retry get through drops, duplicates and
delays; a client that does not retry sees them. The device logs every fault it injects, so
each test also checks that the faults really happened."""

from __future__ import annotations

import os
import random

import pytest
from conftest import start_device


def faults_logged(device, kind: str) -> int:
    return sum(1 for line in device.log.read_text().splitlines()
               if f"fault: t" in line and f"request {kind}" in line)


@pytest.fixture
def lossy(tmp_path):
    d = start_device(tmp_path, "--fault", "drop=25%", "--fault-seed", "3")
    yield d
    assert d.stop() == 0


def test_retrying_client_gets_through_drops(lossy, tmp_path):
    """mcumgrctl (5 retries) does echoes and an fs round trip through 25 % lost requests."""
    for i in range(20):
        r = lossy.mcumgrctl("os", "echo", f"e{i}", ctl_timeout_ms=300)
        assert r.stdout.strip() == f"e{i}"
    data = random.Random(5).randbytes(24 * 1024)
    src, back = tmp_path / "src.bin", tmp_path / "back.bin"
    src.write_bytes(data)
    lossy.mcumgrctl("fs", "upload", "-q", str(src), "/lfs1/lossy.bin", ctl_timeout_ms=300)
    lossy.mcumgrctl("fs", "download", "-q", "/lfs1/lossy.bin", str(back), ctl_timeout_ms=300)
    assert back.read_bytes() == data
    assert faults_logged(lossy, "dropped") >= 5


def test_client_without_retries_sees_the_drops(lossy):
    """The same faults fail a client that does not retry: the drops are real."""
    failed = sum(lossy.mcumgrctl("os", "echo", f"x{i}", check=False, retries=0,
                                 ctl_timeout_ms=200).returncode != 0 for i in range(30))
    assert 1 <= failed <= 20, failed
    # Each mcumgrctl run first asks for the buffer parameters; a lost one of those does not
    # fail the run (it falls back to its default frame size), a lost echo does.
    assert faults_logged(lossy, "dropped") >= failed


def test_duplicated_requests_do_not_confuse_clients(tmp_path):
    """Half the requests are processed twice (two responses with the same sequence
    number): a file upload over UDP and PTY echoes still end right.

    A duplicated upload chunk arrives at an offset the file has passed: the fs group
    answers the offset mismatch and closes its context, keeping what was written, and the
    client's next chunk continues on a fresh one (Zephyr's fs_mgmt does the same). That
    context no longer knows the total length, so the file is complete once the transfer
    is closed: here by the download, which every client does to check an upload."""
    d = start_device(tmp_path, "--fault", "duplicate=50%", "--fault-seed", "11")
    try:
        src, back = tmp_path / "f.bin", tmp_path / "back.bin"
        src.write_bytes(random.Random(2).randbytes(40 * 1024))
        d.mcumgrctl("fs", "upload", "-q", str(src), "/lfs1/dup.bin")
        d.mcumgrctl("fs", "download", "-q", "/lfs1/dup.bin", str(back))
        assert back.read_bytes() == src.read_bytes()
        assert (d.state / "fs" / "dup.bin").read_bytes() == src.read_bytes()
        for i in range(10):
            assert d.mcumgrctl("os", "echo", f"p{i}", serial=True).stdout.strip() == f"p{i}"
        assert faults_logged(d, "duplicated") >= 10
    finally:
        assert d.stop() == 0


def test_delay_longer_than_the_client_timeout(tmp_path):
    """A 400 ms delay: a client waiting 2 s gets its answer, one waiting 100 ms without
    retries does not."""
    d = start_device(tmp_path, "--fault", "delay=400")
    try:
        assert d.mcumgrctl("os", "echo", "slow", ctl_timeout_ms=2000).stdout.strip() == "slow"
        r = d.mcumgrctl("os", "echo", "hasty", check=False, retries=0, ctl_timeout_ms=100)
        assert r.returncode != 0
        assert faults_logged(d, "delayed") >= 2
    finally:
        assert d.stop() == 0


def test_bad_fault_spec_is_refused(tmp_path):
    import subprocess

    from conftest import SMP_SVR
    r = subprocess.run([SMP_SVR, "--state", str(tmp_path / "s"), "--fault", "drop=150%"],
                       capture_output=True, text=True, timeout=30,
                       env={**os.environ, "RUST_LOG": "info"})
    assert r.returncode != 0
    assert "drop=P%, duplicate=P% (0 to 100) or delay=MS" in r.stderr
