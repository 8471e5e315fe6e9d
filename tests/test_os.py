"""The OS group (0) against the real smp-svr, driven by real clients."""

from __future__ import annotations

import datetime as dt
import json
import re
import time

import pytest
from smp import header as smphdr
from smpclient.generics import error, error_v2, success
from smpclient.requests import os_management as osreq

from conftest import SWAP_MODE, start_device
from smp_helpers import run, with_serial, with_udp

TRANSPORTS = ["udp", "pty"]
# `os bootloader info`'s mode for the swap mode the devices run in (enum mcuboot_mode).
MODE_NUMBER = {"move": 3, "journal": 1, "offset": 9, "scratch": 1, "overwrite": 2}[SWAP_MODE]


def ctl_json(device, *args, serial=False):
    r = device.mcumgrctl("--json", *args, serial=serial)
    return json.loads(r.stdout)


# ---------------------------------------------------------------- mcumgrctl, every command


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_echo(device, transport):
    serial = transport == "pty"
    for msg in ["hello", "", "ünïcødé ✓", "x" * 1500]:
        r = device.mcumgrctl("os", "echo", msg, serial=serial)
        assert r.stdout.rstrip("\n") == msg


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_task_statistics(device, transport):
    tasks = ctl_json(device, "os", "task-statistics", serial=transport == "pty")
    assert "smp_work" in tasks, tasks
    tids = sorted(t["tid"] for t in tasks.values())
    assert tids == list(range(len(tasks)))
    for t in tasks.values():
        assert isinstance(t["prio"], int) and isinstance(t["state"], int)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_memory_pool_statistics(device, transport):
    pools = ctl_json(device, "os", "memory-pool-statistics", serial=transport == "pty")
    assert set(pools) == {"0"}
    p = pools["0"]
    assert p["nblks"] >= p["nfree"] >= p["min"] >= 0
    assert p["nblks"] > 0


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_datetime_set_and_get(device, transport):
    serial = transport == "pty"
    device.mcumgrctl("os", "set-datetime", "2031-02-03T04:05:06", serial=serial)
    got = device.mcumgrctl("os", "get-datetime", serial=serial).stdout.strip()
    t = dt.datetime.fromisoformat(got)
    delta = (t - dt.datetime(2031, 2, 3, 4, 5, 6)).total_seconds()
    assert 0 <= delta < 10, got


def test_datetime_rejects_bad_input(device):
    for bad in ["2031-13-03T04:05:06", "2031-02-03T24:05:06", "2031-02-03", "not a date at all!!"]:
        r = device.mcumgrctl("raw", "write", "0", "4", json.dumps({"datetime": bad}), check=False)
        assert r.returncode != 0, bad
        # rc 3 at the top level (not a group error), as mcumgrctl 0.20 names it.
        assert device_error(r.stderr) == "MGMT_ERR_EINVAL", r.stderr
    # February 30th passes the field checks but the RTC refuses it: OS error 5.
    r = device.mcumgrctl("raw", "write", "0", "4", '{"datetime":"2031-02-30T04:05:06"}',
                         check=False)
    assert r.returncode != 0, r.stderr
    assert device_error(r.stderr) == "OS_MGMT_ERR_RTC_COMMAND_FAILED", r.stderr


def device_error(stderr: str) -> str | None:
    """The error name in mcumgrctl's last cause line, `Device returned error code: NAME`."""
    found = re.findall(r"Device returned error code: (\w+)\s*$", stderr, re.M)
    return found[-1] if len(found) == 1 else None


def test_rtc_unset_until_set_and_host_mode(tmp_path):
    # Default --rtc unset: as native_sim's RTC emulator, a read before any set is OS error 4.
    for sub in ("unset", "host"):
        (tmp_path / sub).mkdir()
    d = start_device(tmp_path / "unset")
    try:
        r = d.mcumgrctl("raw", "read", "0", "4", "{}", check=False)
        assert r.returncode != 0 and "RTC_NOT_SET" in r.stderr, r.stderr
    finally:
        assert d.stop() == 0
    d = start_device(tmp_path / "host", "--rtc", "host")
    try:
        got = json.loads(d.mcumgrctl("--json", "raw", "read", "0", "4", "{}").stdout)
        t = dt.datetime.fromisoformat(got["datetime"])
        assert abs((t - dt.datetime.now(dt.timezone.utc).replace(tzinfo=None))
                   .total_seconds()) < 60, got
    finally:
        assert d.stop() == 0


def test_datetime_with_milliseconds(tmp_path):
    d = start_device(tmp_path, "--datetime-ms")
    try:
        d.mcumgrctl("raw", "write", "0", "4", '{"datetime":"2031-02-03T04:05:06.5"}')
        got = json.loads(d.mcumgrctl("--json", "raw", "read", "0", "4", "{}").stdout)
        assert got["datetime"].startswith("2031-02-03T04:05:0"), got
        assert len(got["datetime"].split(".")[1]) == 3, got
    finally:
        assert d.stop() == 0


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_mcumgr_parameters(device, transport):
    p = ctl_json(device, "os", "mcumgr-parameters", serial=transport == "pty")
    assert p == {"buf_size": 2048, "buf_count": 4}


def test_mcumgr_parameters_follow_flags(tmp_path):
    d = start_device(tmp_path, "--buf-size", "512", "--buf-count", "2")
    try:
        assert json.loads(d.mcumgrctl("--json", "os", "mcumgr-parameters").stdout) == {
            "buf_size": 512, "buf_count": 2}
        # The buffer size is real: an echo that cannot fit 512 bytes is refused (rc 7)
        # and a datagram larger than the buffer is dropped (the client times out).
        r = d.mcumgrctl("--smp-frame-size", "2048", "os", "echo", "y" * 600, check=False)
        assert r.returncode != 0
        assert d.mcumgrctl("os", "echo", "z" * 400).stdout.strip() == "z" * 400
    finally:
        assert d.stop() == 0


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_application_info(device, transport):
    serial = transport == "pty"
    out = device.mcumgrctl("--json", "raw", "read", "0", "7", "{}", serial=serial).stdout
    assert json.loads(out) == {"output": "Zephyr"}
    out = json.loads(device.mcumgrctl("--json", "raw", "read", "0", "7", '{"format":"a"}',
                                      serial=serial).stdout)["output"]
    fields = out.split(" ")
    assert fields[0] == "Zephyr" and fields[-1] == "Zephyr"
    assert "4.2.0" in fields and "posix" in fields and "native_sim/native" in fields
    # Order is fixed (s n r v b m p i o) whatever the request order.
    out = json.loads(device.mcumgrctl("--json", "raw", "read", "0", "7", '{"format":"ovs"}',
                                      serial=serial).stdout)["output"]
    assert out == "Zephyr 4.2.0 Zephyr"
    r = device.mcumgrctl("os", "application-info", serial=serial)
    assert "Zephyr" in r.stdout


def test_application_info_invalid_format(device):
    r = device.mcumgrctl("raw", "read", "0", "7", '{"format":"sx"}', check=False)
    assert r.returncode != 0 and "OS_MGMT_ERR_INVALID_FORMAT" in r.stderr
    # 'b' is invalid without build date/time support.
    r = device.mcumgrctl("raw", "read", "0", "7", '{"format":"b"}', check=False)
    assert r.returncode != 0 and "OS_MGMT_ERR_INVALID_FORMAT" in r.stderr


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_bootloader_info(device, transport):
    serial = transport == "pty"
    assert ctl_json(device, "raw", "read", "0", "8", "{}", serial=serial) == {
        "bootloader": "MCUboot"}
    # The emulated MCUboot's mode (MCUboot's enum mcuboot_mode): swap using move, 3, unless
    # the tests run with SMP_SVR_SWAP_MODE=journal (reported as swap using scratch, 1) or
    # =offset (swap using offset, 9).
    assert ctl_json(device, "raw", "read", "0", "8", '{"query":"mode"}', serial=serial) == {
        "mode": MODE_NUMBER}
    # A query with no answer: the OS group's error 3, {"err": {"group": 0, "rc": 3}}.
    r = device.mcumgrctl("raw", "read", "0", "8", '{"query":"colour"}', serial=serial,
                         check=False)
    assert r.returncode != 0 and "OS_MGMT_ERR_QUERY_YIELDS_NO_ANSWER" in r.stderr, r.stderr
    assert "MCUboot" in device.mcumgrctl("os", "bootloader-info", serial=serial).stdout


def test_bootloader_info_reports_downgrade_prevention(tmp_path):
    d = start_device(tmp_path, "--downgrade-prevention")
    try:
        assert json.loads(d.mcumgrctl("--json", "raw", "read", "0", "8",
                                      '{"query":"mode"}').stdout) == {
            "mode": MODE_NUMBER, "no-downgrade": True}
    finally:
        assert d.stop() == 0


@pytest.mark.parametrize("mode,number", [("journal", 1), ("move", 3), ("offset", 9),
                                         ("scratch", 1), ("overwrite", 2)])
def test_bootloader_info_reports_the_swap_mode(tmp_path, mode, number):
    # MCUboot's enum mcuboot_mode: 1 swap using scratch (what the journal emulation has
    # always reported), 2 upgrade only (overwrite-only), 3 swap using move, 9 swap using
    # offset (mcu-tools/mcuboot boot/bootutil/include/bootutil/boot_status.h @2d4bacc3).
    d = start_device(tmp_path, "--swap-mode", mode)
    try:
        assert json.loads(d.mcumgrctl("--json", "raw", "read", "0", "8",
                                      '{"query":"mode"}').stdout) == {"mode": number}
    finally:
        assert d.stop() == 0


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_reset_restarts_the_device(device, transport):
    serial = transport == "pty"
    device.mcumgrctl("os", "system-reset", serial=serial)
    # The device answers again after the reset...
    deadline = time.monotonic() + 10
    while True:
        r = device.mcumgrctl("os", "echo", "back", serial=serial, check=False)
        if r.returncode == 0:
            break
        assert time.monotonic() < deadline, r.stderr
    assert r.stdout.strip() == "back"
    # ...and it really rebooted: the log shows a second boot.
    assert "boot #2" in device.log.read_text()


def test_reset_with_force_flag(device):
    device.mcumgrctl("raw", "write", "0", "5", '{"force":true}')
    time.sleep(0.6)
    assert device.mcumgrctl("os", "echo", "again").stdout.strip() == "again"
    assert "force true" in device.log.read_text()


def test_unknown_group_and_command(device):
    r = device.mcumgrctl("raw", "read", "64", "0", "{}", check=False)
    assert r.returncode != 0 and ("NOTSUP" in r.stderr or "8" in r.stderr), r.stderr
    r = device.mcumgrctl("raw", "read", "0", "1", "{}", check=False)
    assert r.returncode != 0


# ---------------------------------------------------------------- smpclient, strict models


def _all_os_requests():
    return [
        osreq.EchoWrite(d="strict"),
        osreq.TaskStatisticsRead(),
        osreq.MemoryPoolStatisticsRead(),
        osreq.DateTimeWrite(datetime="2032-05-06T07:08:09"),
        osreq.DateTimeRead(),
        osreq.MCUMgrParametersRead(),
        osreq.OSApplicationInfoRead(),
        osreq.OSApplicationInfoRead(format="a"),
        osreq.BootloaderInformationRead(),
        osreq.ResetWrite(),
    ]


async def _strict_sequence(client):
    results = []
    for req in _all_os_requests():
        rsp = await client.request(req)
        assert success(rsp), f"{type(req).__name__}: {rsp}"
        results.append(rsp)
    return results


def test_smpclient_every_os_request_udp(device):
    results = run(with_udp(device.udp_port, _strict_sequence))
    assert results[0].r == "strict"
    assert results[5].buf_size == 2048 and results[5].buf_count == 4
    assert results[4].datetime.startswith("2032-05-06T07:08:")
    assert results[6].output == "Zephyr"
    assert results[8].bootloader == "MCUboot"


def test_smpclient_every_os_request_serial(device):
    results = run(with_serial(device.pty, _strict_sequence))
    assert results[0].r == "strict"


def test_smpclient_group_error_v2(device):
    async def go(client):
        return await client.request(osreq.OSApplicationInfoRead(format="8"))

    rsp = run(with_udp(device.udp_port, go))
    assert error(rsp) and error_v2(rsp), rsp
    assert rsp.err.group == smphdr.GroupId.OS_MANAGEMENT and int(rsp.err.rc) == 2


# ---------------------------------------------------------------- mcumgr-toolkit (Python)


def test_mcumgr_toolkit_os_commands(device):
    import mcumgr_toolkit

    c = mcumgr_toolkit.MCUmgrClient.udp("127.0.0.1", device.udp_port, 3000)
    c.use_auto_frame_size()
    assert c.os_echo("toolkit") == "toolkit"
    p = c.os_mcumgr_parameters()
    assert (p.buf_size, p.buf_count) == (2048, 4)
    assert "smp_work" in c.os_task_statistics()
    assert c.os_application_info("sv") == "Zephyr 4.2.0"
    c2 = mcumgr_toolkit.MCUmgrClient.serial(str(device.pty), 115200, 3000)
    assert c2.os_echo("over the pty") == "over the pty"


# ---------------------------------------------------------------- smpmgr (CLI over smpclient)


def test_smpmgr_cli_over_the_pty(device):
    import shutil
    import subprocess

    smpmgr = shutil.which("smpmgr")
    assert smpmgr, "smpmgr not installed"
    r = subprocess.run([smpmgr, "--port", str(device.pty), "os", "echo", "from smpmgr"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "r='from smpmgr'" in r.stdout, r.stdout
    r = subprocess.run([smpmgr, "--port", str(device.pty), "os", "reset"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    time.sleep(0.6)
    assert device.mcumgrctl("os", "echo", "up").stdout.strip() == "up"
    assert "boot #2" in device.log.read_text()


def test_concurrent_clients_on_every_transport(device):
    """Several clients at once, over UDP and the PTY: every request is answered, with its own
    payload (the single work queue keeps each client's responses in order)."""
    import threading

    import mcumgr_toolkit

    errors = []

    def worker(name, make):
        try:
            c = make()
            for i in range(60):
                msg = f"{name}-{i}"
                got = c.os_echo(msg)
                if got != msg:
                    errors.append(f"{name}: sent {msg!r}, got {got!r}")
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(f"{name}: {e}")

    makers = [(f"udp{n}", lambda: mcumgr_toolkit.MCUmgrClient.udp("127.0.0.1", device.udp_port,
                                                                 3000)) for n in range(3)]
    makers.append(("pty", lambda: mcumgr_toolkit.MCUmgrClient.serial(str(device.pty), 115200,
                                                                     3000)))
    threads = [threading.Thread(target=worker, args=m) for m in makers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:5]
    rx = json.loads(device.mcumgrctl("--json", "stats", "get", "smp_udp0").stdout)["smp_udp0"]
    assert rx["rx_pkts"] >= 180
