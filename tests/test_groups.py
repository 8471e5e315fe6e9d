"""File system, statistics, shell, enumeration, settings and Zephyr-basic groups against
the real smp-svr, driven by real clients."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import socket
import subprocess
import time
import zlib
from pathlib import Path

import pytest
from smpclient.generics import error, success
from smpclient.requests import enumeration_management as enumreq
from smpclient.requests import file_management as fsreq
from smpclient.requests import settings_management as setreq
from smpclient.requests import shell_management as shreq
from smpclient.requests import statistics_management as statreq
from smpclient.requests import zephyr_management as zreq

from conftest import start_device
from smp_helpers import run, with_serial, with_udp
from test_console import console, read_until, shell  # noqa: F401  (fixture)


def smp(device, *reqs):
    """Sends requests with smpclient (strict models) over UDP; returns the responses."""

    async def go(client):
        return [await client.request(r) for r in reqs]

    return run(with_udp(device.udp_port, go))


# ---------------------------------------------------------------- file system


def test_one_mebibyte_file_round_trip(device, tmp_path):
    data = random.Random(7).randbytes(1024 * 1024)
    src, back = tmp_path / "big.bin", tmp_path / "back.bin"
    src.write_bytes(data)
    device.mcumgrctl("fs", "upload", "-q", str(src), "/lfs1/big.bin", timeout=600)
    assert (device.state / "fs" / "big.bin").read_bytes() == data
    device.mcumgrctl("fs", "download", "-q", "/lfs1/big.bin", str(back), timeout=600)
    assert back.read_bytes() == data
    crc = json.loads(device.mcumgrctl("--json", "fs", "checksum", "/lfs1/big.bin").stdout)
    assert int(crc["checksum"], 16) == zlib.crc32(data) and crc["type"] == "crc32"
    sha, crc2, status, types = smp(device,
                                   fsreq.FileHashChecksum(name="/lfs1/big.bin", type="sha256"),
                                   fsreq.FileHashChecksum(name="/lfs1/big.bin", type="crc32",
                                                          off=1000, len=5000),
                                   fsreq.FileStatus(name="/lfs1/big.bin"),
                                   fsreq.SupportedFileHashChecksumTypes())
    assert success(sha) and bytes(sha.output) == hashlib.sha256(data).digest()
    assert sha.len == len(data)
    assert success(crc2) and crc2.output == zlib.crc32(data[1000:6000]) and crc2.off == 1000
    assert success(status) and status.len == len(data)
    assert success(types) and set(types.types) == {"crc32", "sha256"}


def test_smpmgr_file_download(device, tmp_path):
    (device.state / "fs" / "notes.txt").write_text("hello from the device\n")
    out = tmp_path / "notes.txt"
    r = subprocess.run([shutil.which("smpmgr"), "--port", str(device.pty), "file", "download",
                        "/lfs1/notes.txt", str(out)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert out.read_text() == "hello from the device\n"


def test_device_log_can_be_downloaded(tmp_path):
    d = start_device(tmp_path, "--log-file", "log.txt")
    try:
        d.mcumgrctl("os", "echo", "leave a trace")
        out = tmp_path / "log.txt"
        d.mcumgrctl("fs", "download", "-q", "/lfs1/log.txt", str(out))
        text = out.read_text()
        assert "boot #1" in text and "udp transport" in text
    finally:
        assert d.stop() == 0


def test_missing_file_and_bad_requests(device):
    st, dl = smp(device, fsreq.FileStatus(name="/lfs1/nope"),
                 fsreq.FileDownload(name="/lfs1/nope", off=0))
    assert error(st) and error(dl)
    r = device.mcumgrctl("fs", "status", "/lfs1/nope", check=False)
    assert r.returncode != 0 and "NOT_FOUND" in r.stderr, r.stderr


def test_upload_is_visible_at_once_and_keeps_data_when_abandoned(device):
    # As Zephyr over LittleFS: the file is created at the first chunk (size as last synced,
    # 0), and a transfer abandoned for another one keeps what was written.
    name = "/lfs1/partial.bin"
    part = b"P" * 700
    up, st, h = smp(device, fsreq.FileUpload(name=name, off=0, data=part, len=5000),
                    fsreq.FileStatus(name=name),
                    fsreq.FileHashChecksum(name=name, type="sha256"))
    assert success(up) and up.off == len(part), up
    assert success(st) and st.len == 0, st
    assert error(h), h  # FILE_EMPTY, not FILE_NOT_FOUND
    r = device.mcumgrctl("fs", "checksum", name, check=False)
    assert r.returncode != 0 and "FILE_EMPTY" in r.stderr, r.stderr
    # A download is another transfer: it closes the upload, and reads what was written.
    [dl, st2] = smp(device, fsreq.FileDownload(name=name, off=0), fsreq.FileStatus(name=name))
    assert success(dl) and bytes(dl.data) == part and dl.len == len(part), dl
    assert success(st2) and st2.len == len(part)
    assert (device.state / "fs" / "partial.bin").read_bytes() == part
    # An empty upload (len 0) creates the file at once.
    up0, st0 = smp(device, fsreq.FileUpload(name="/lfs1/empty.bin", off=0, data=b"", len=0),
                   fsreq.FileStatus(name="/lfs1/empty.bin"))
    assert success(up0) and success(st0) and st0.len == 0, st0
    # Abandoned by the idle timeout (4 s): the data stays.
    [up2] = smp(device, fsreq.FileUpload(name="/lfs1/idle.bin", off=0, data=b"abc", len=10))
    assert success(up2)
    time.sleep(4.5)
    assert (device.state / "fs" / "idle.bin").read_bytes() == b"abc"
    [st3] = smp(device, fsreq.FileStatus(name="/lfs1/idle.bin"))
    assert success(st3) and st3.len == 3


def test_fs_names_as_zephyrs_vfs(device):
    # fs_stat/fs_open refuse a name without a leading '/' or of length <= 1 with -EINVAL:
    # FILE_INVALID_NAME; an upload to the mount point is LittleFS's -EISDIR: UNKNOWN.
    for name in ["x", "/", "lfs1/x"]:
        r = device.mcumgrctl("fs", "status", name, check=False)
        assert r.returncode != 0 and "FILE_INVALID_NAME" in r.stderr, (name, r.stderr)
    [up] = smp(device, fsreq.FileUpload(name="/lfs1", off=0, data=b"x", len=1))
    assert error(up) and up.err.rc == 1, up


def snapshot(path: Path) -> dict[str, bytes]:
    out = {}
    for p in sorted(path.rglob("*")):
        if p.is_file() and not p.is_symlink():
            out[str(p.relative_to(path))] = p.read_bytes()
        else:
            out[str(p.relative_to(path))] = b"<dir or link>"
    return out


ESCAPES = [
    "/lfs1/../../outside/pwn1.txt",            # dot-dot out of the root
    "/lfs1/./../../outside/pwn2.txt",          # dot then dot-dot
    "/lfs1//..//..//outside/pwn3.txt",         # doubled separators
    "/lfs1/sub/../../../outside/pwn4.txt",     # descend then climb out
    "/lfs1/link_dir/pwn5.txt",                 # symlink to a directory outside
    "/lfs1/link_file",                         # symlink to a file outside
    "/lfs1/a\x00/../../outside/pwn6.txt",      # NUL byte
    "/lfs1/" + "a" * 100,                      # longer than the path limit
    "/etc/pwn7.txt",                           # absolute, outside the mount point
    "lfs1/pwn8.txt",                           # relative name
    "/lfs2/pwn9.txt",                          # another mount point
    "/lfs1/..",                                # the parent itself
    "/lfs1/.smp-upload/pwn10.txt",             # the staging area
    "",                                        # empty name
]


def test_path_escapes_are_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    d = start_device(tmp_path)
    try:
        root = d.state / "fs"
        (root / "sub").mkdir(parents=True, exist_ok=True)
        os.symlink(outside, root / "link_dir")
        os.symlink(outside / "secret.txt", root / "link_file")
        before_out, before_state = snapshot(outside), snapshot(tmp_path / "state")
        for name in ESCAPES:
            up, down, status = smp(d,
                                   fsreq.FileUpload(name=name, off=0, data=b"pwned", len=5),
                                   fsreq.FileDownload(name=name, off=0),
                                   fsreq.FileStatus(name=name))
            assert error(up), f"upload to {name!r} accepted: {up}"
            assert error(down), f"download of {name!r} accepted: {down}"
            assert error(status), f"status of {name!r} accepted: {status}"
        # Also through a second real client.
        r = d.mcumgrctl("fs", "download", "/lfs1/../../outside/secret.txt",
                        str(tmp_path / "stolen"), check=False)
        assert r.returncode != 0 and not (tmp_path / "stolen").exists()
        assert snapshot(outside) == before_out
        after_state = snapshot(tmp_path / "state")
        changed = {k for k in set(before_state) | set(after_state)
                   if before_state.get(k) != after_state.get(k)}
        assert all(not k.startswith("fs/") or ".smp-upload" in k for k in changed), changed
        assert not list(tmp_path.rglob("pwn*"))
        log = d.log.read_text()
        assert log.count("WARN") >= len(ESCAPES), "each refusal is logged"
    finally:
        assert d.stop() == 0


# ---------------------------------------------------------------- statistics


def test_statistics_follow_traffic(device):
    def get(group):
        return json.loads(device.mcumgrctl("--json", "stats", "get", group).stdout)[group]

    groups = device.mcumgrctl("stats", "list-groups").stdout
    for g in ["smp_svr_stats", "smp_udp0", "smp_uart1", "smp_grp", "flash"]:
        assert g in groups, groups
    before, grp_before = get("smp_udp0"), get("smp_grp")
    for i in range(5):
        device.mcumgrctl("os", "echo", f"ping {i}")
    after, grp_after = get("smp_udp0"), get("smp_grp")
    assert after["rx_pkts"] >= before["rx_pkts"] + 5
    assert after["tx_bytes"] > before["tx_bytes"]
    assert grp_after["os_mgmt"] >= grp_before["os_mgmt"] + 5
    ticks = get("smp_svr_stats")["ticks"]
    time.sleep(1.2)
    assert get("smp_svr_stats")["ticks"] > ticks
    # Flash counters move with an image upload (an unsigned, hash-only image).
    flash = get("flash")
    app, img = device.state.parent / "app.bin", device.state.parent / "app.img"
    app.write_bytes(random.Random(1).randbytes(5000))
    r = subprocess.run([shutil.which("imgtool"), "sign", "--header-size", "0x200", "--pad-header",
                        "--align", "8", "--version", "1.0.0", "--slot-size", "0x60000",
                        str(app), str(img)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    device.mcumgrctl("image", "upload", "-q", str(img))
    flash2 = get("flash")
    assert flash2["bytes_written"] >= flash["bytes_written"] + img.stat().st_size - 8
    assert flash2["erases"] > flash["erases"]
    names, show, missing = smp(device, statreq.ListOfGroups(),
                               statreq.GroupData(name="smp_udp0"),
                               statreq.GroupData(name="nope"))
    assert success(names) and "smp_udp0" in names.stat_list
    assert success(show) and show.name == "smp_udp0" and "rx_pkts" in show.fields
    assert error(missing)


# ---------------------------------------------------------------- shell


def test_shell_exec_equals_console_output(device, console):  # noqa: F811
    for line in ["kernel version", "device list", "help", "nonsense"]:
        [rsp] = smp(device, shreq.Execute(argv=line.split()))
        assert success(rsp), rsp
        assert rsp.o == shell(console, line), line
    [rsp] = smp(device, shreq.Execute(argv=["nonsense"]))
    assert rsp.ret == -8
    r = device.mcumgrctl("shell", "kernel", "version")
    assert r.stdout.strip() == "Zephyr version 4.2.0"


def test_shell_exec_errors(device):
    # smpclient's shell error enum stops at 2; Zephyr's EMPTY_COMMAND is 3: ask mcumgrctl.
    r = device.mcumgrctl("raw", "write", "9", "0", '{"argv": []}', check=False)
    assert r.returncode != 0 and "EMPTY_COMMAND" in r.stderr, r.stderr
    r = device.mcumgrctl("raw", "write", "9", "0", '{"argv": "not an array"}', check=False)
    assert r.returncode != 0
    # As Zephyr's shell_mgmt_exec: the line ends at the first element that is not text ...
    out = json.loads(device.mcumgrctl("--json", "raw", "write", "9", "0",
                                      '{"argv": ["kernel", "version", 1, "x"]}').stdout)
    assert out == {"o": "Zephyr version 4.2.0\r\n", "ret": 0}, out
    # ... and a first element that is not text is EMPTY_COMMAND (group 9, rc 3).
    r = device.mcumgrctl("raw", "write", "9", "0", '{"argv": [1, "kernel"]}', check=False)
    assert r.returncode != 0 and "EMPTY_COMMAND" in r.stderr, r.stderr


def udp_exchange(device, packet: bytes) -> bytes:
    """Sends one raw SMP packet over UDP; returns the response packet."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(packet, ("127.0.0.1", device.udp_port))
        return s.recv(4096)


def test_shell_exec_first_argv_wins(device):
    # {"argv": ["kernel", "version"], "argv": ["x"], 1: 2}: no JSON client can send a
    # duplicate key, so the bytes go out raw. Zephyr reads up to the first argv only.
    body = bytes.fromhex("a3 64 61 72 67 76 82 66 6b 65 72 6e 65 6c 67 76 65 72 73 69 6f 6e"
                         " 64 61 72 67 76 81 61 78 01 02")
    rsp = udp_exchange(device, bytes([0x0a, 0, 0, len(body), 0, 9, 0x33, 0]) + body)
    assert rsp[:8] == bytes([0x0b, 0, 0, len(rsp) - 8, 0, 9, 0x33, 0]), rsp.hex()
    o = "Zephyr version 4.2.0\r\n".encode()
    assert rsp[8:] == (b"\xbf\x61o" + bytes([0x60 + len(o)]) + o + b"\x63ret\x00\xff"), rsp.hex()


# ---------------------------------------------------------------- enumeration


def test_enumeration_is_the_registry(device):
    count, lst, first, last, details = smp(device, enumreq.CountSupportedGroups(),
                                           enumreq.ListSupportedGroups(),
                                           enumreq.GroupId(index=0), enumreq.GroupId(index=7),
                                           enumreq.GroupDetails())
    assert success(count) and count.count == 8
    # Zephyr's order: mcumgr_handlers_init walks the handlers sorted by name (enum_mgmt,
    # fs_mgmt, img_mgmt, os_mgmt, settings_mgmt, shell_mgmt, stat_mgmt, zephyr_basic_mgmt).
    assert success(lst) and list(lst.groups) == [10, 8, 1, 0, 3, 9, 2, 63]
    assert success(first) and first.group == 10 and not first.end
    assert success(last) and last.group == 63 and last.end
    assert success(details)
    names = {g.group: g.name for g in details.groups}
    assert names[0] == "os mgmt" and names[1] == "img mgmt" and names[63] == "zephyr basic mgmt"
    # Zephyr's fs and shell groups set no mg_group_name: their details name is "".
    assert names[8] == "" and names[9] == ""
    [beyond] = smp(device, enumreq.GroupId(index=8))
    assert error(beyond)
    out = device.mcumgrctl("enum", "list-groups").stdout
    assert "MGMT_GROUP_ID_FS" in out and "ZEPHYR_MGMT_GRP_BASIC" in out


# ---------------------------------------------------------------- settings and storage erase


def test_settings_survive_a_restart_and_storage_erase_empties_them(tmp_path):
    state = tmp_path / "state"
    d = start_device(tmp_path, state=state)
    try:
        d.mcumgrctl("settings", "write", "app/name", "cafe01")
        w, r1, c, s = smp(d, setreq.WriteSetting(name="app/blob", val=b"\x01\x02\x03"),
                          setreq.ReadSetting(name="app/blob"), setreq.CommitSettings(),
                          setreq.SaveSettings())
        assert success(w) and success(c) and success(s)
        assert success(r1) and r1.val == b"\x01\x02\x03"
    finally:
        assert d.stop() == 0
    d = start_device(tmp_path, state=state)
    try:
        out = d.mcumgrctl("--json", "settings", "read", "app/name").stdout
        assert "cafe01" in out.replace(" ", "").lower() or json.loads(out), out
        [r2] = smp(d, setreq.ReadSetting(name="app/name"))
        assert success(r2) and r2.val == b"\xca\xfe\x01"
        # settings_delete removes the persisted value only: the handler keeps its running
        # value, and a key that was never saved deletes fine.
        dl, kept, again = smp(d, setreq.DeleteSetting(name="app/name"),
                              setreq.ReadSetting(name="app/name"),
                              setreq.DeleteSetting(name="app/never"))
        assert success(dl) and success(again)
        assert success(kept) and kept.val == b"\xca\xfe\x01"
        [ld] = smp(d, setreq.LoadSettings())
        assert success(ld)
        # Storage erase wipes what was saved: after a reset, app/blob is gone.
        [er] = smp(d, zreq.EraseStorage())
        assert success(er)
        d.mcumgrctl("os", "system-reset")
        time.sleep(0.5)
        deadline = time.monotonic() + 10
        while d.mcumgrctl("os", "echo", "x", check=False).returncode != 0:
            assert time.monotonic() < deadline
        [after] = smp(d, setreq.ReadSetting(name="app/blob"))
        assert error(after), after
        r = d.mcumgrctl("zephyr", "erase-storage")
        assert r.returncode == 0
    finally:
        assert d.stop() == 0


def test_settings_unregistered_roots_are_root_key_not_found(device):
    # Only the handler "app" is registered (the default --settings-root): "t/a" and "zz" have
    # no handler, so settings_runtime_set/get fail: err {group 3, rc 5} ROOT_KEY_NOT_FOUND.
    for name in ["t/a", "zz"]:
        r = device.mcumgrctl("settings", "write", name, "01", check=False)
        assert r.returncode != 0 and "ROOT_KEY_NOT_FOUND" in r.stderr, r.stderr
        r = device.mcumgrctl("settings", "read", name, check=False)
        assert r.returncode != 0 and "ROOT_KEY_NOT_FOUND" in r.stderr, r.stderr
    device.mcumgrctl("settings", "write", "app/t/a", "01")
    assert "01" in device.mcumgrctl("settings", "read", "app/t/a").stdout


def test_settings_roots_follow_the_flag(tmp_path):
    d = start_device(tmp_path, "--settings-root", "t", "--settings-root", "net")
    try:
        d.mcumgrctl("settings", "write", "t/a", "02")
        d.mcumgrctl("settings", "write", "net/ip", "03")
        r = d.mcumgrctl("settings", "write", "app/x", "01", check=False)
        assert r.returncode != 0 and "ROOT_KEY_NOT_FOUND" in r.stderr, r.stderr
    finally:
        assert d.stop() == 0


def test_settings_limits(device):
    long_name = "a/" + "b" * 40
    [w] = smp(device, setreq.WriteSetting(name=long_name, val=b"x"))
    assert error(w)
    [w] = smp(device, setreq.WriteSetting(name="", val=b"x"))
    assert error(w)


# ---------------------------------------------------------------- every group over the PTY


def test_every_group_over_the_pty_with_smpclient(device):
    async def go(client):
        reqs = [statreq.ListOfGroups(), enumreq.CountSupportedGroups(),
                fsreq.SupportedFileHashChecksumTypes(), shreq.Execute(argv=["kernel", "version"]),
                setreq.WriteSetting(name="app/pty", val=b"1"), setreq.ReadSetting(name="app/pty")]
        return [await client.request(r) for r in reqs]

    for rsp in run(with_serial(device.pty, go)):
        assert success(rsp), rsp


def test_mcumgrctl_every_command_of_the_new_groups(device, tmp_path):
    f = tmp_path / "small.txt"
    f.write_text("0123456789")
    c = device.mcumgrctl
    c("fs", "upload", "-q", str(f), "/lfs1/small.txt")
    assert "10" in c("fs", "status", "/lfs1/small.txt").stdout
    assert format(zlib.crc32(b"0123456789"), "08x") in c("fs", "checksum", "/lfs1/small.txt").stdout
    assert "sha256" in c("fs", "supported-checksums").stdout
    c("fs", "close")
    c("fs", "download", "-q", "/lfs1/small.txt", str(tmp_path / "back.txt"))
    assert (tmp_path / "back.txt").read_text() == "0123456789"
    assert "smp_grp" in c("stats", "list-groups").stdout
    assert "ticks" in c("stats", "get", "smp_svr_stats").stdout
    c("settings", "write", "app/k", "0a0b")
    assert "0a" in c("settings", "read", "app/k").stdout.lower()
    c("settings", "commit")
    c("settings", "save")
    c("settings", "load")
    c("settings", "delete", "app/k")
    assert "0a" in c("settings", "read", "app/k").stdout.lower()  # the running value stays
    assert c("settings", "read", "app/none", check=False).returncode != 0
    assert "Uptime" in c("shell", "kernel", "uptime").stdout
    assert "MGMT_GROUP_ID_OS" in c("enum", "list-groups").stdout
    assert "img mgmt" in c("enum", "show-group-details").stdout
    c("zephyr", "erase-storage")
