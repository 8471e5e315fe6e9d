"""smp-svr's command line: help, clear errors, clean stop."""

from __future__ import annotations

import signal
import socket
import subprocess

from conftest import SMP_SVR, start_device


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
