"""Nothing lost on a crash: smp-svr is killed (SIGKILL) in the middle of transfers, then
started again on the same state."""

from __future__ import annotations

import hashlib

from smpclient.generics import error, success
from smpclient.requests import file_management as fsreq
from smpclient.requests import image_management as imgreq
from smpclient.requests import settings_management as setreq

from conftest import start_device
from smp_helpers import images, run, upload_test_reset, with_udp
from test_img import keys, make_image  # noqa: F401  (fixture)


def kill(d):
    d.proc.kill()
    d.proc.wait(10)


def test_crash_during_image_upload(tmp_path, keys):
    key, pub, _ = keys
    v1, v2 = make_image(tmp_path, key, "1.0.0"), make_image(tmp_path, key, "2.0.0")
    state = tmp_path / "state"
    d = start_device(tmp_path, "--image", str(v1), "--key", str(pub), state=state)
    data = v2.read_bytes()
    sha = hashlib.sha256(data).digest()

    async def half(client):
        rsp = await client.request(imgreq.ImageUploadWrite(off=0, data=data[:1024],
                                                           len=len(data), sha=sha))
        assert success(rsp), rsp
        rsp = await client.request(imgreq.ImageUploadWrite(off=1024, data=data[1024:2048]))
        assert success(rsp) and rsp.off == 2048, rsp

    run(with_udp(d.udp_port, half))
    kill(d)
    d = start_device(tmp_path, "--image", str(v1), "--key", str(pub), state=state)
    try:
        st = images(d)
        # The running image is intact; the half-written secondary is not an image.
        assert st[(0, 0)]["version"] == "1.0.0" and st[(0, 0)]["confirmed"]
        assert (0, 1) not in st
        # A new upload starts over (the session died with the process) and completes.
        assert upload_test_reset(d, v2)[(0, 0)]["version"] == "2.0.0"
    finally:
        assert d.stop() == 0


def test_crash_during_file_upload_keeps_the_old_file(tmp_path):
    state = tmp_path / "state"
    d = start_device(tmp_path, state=state)
    good = b"the good version\n" * 100
    new = b"N" * 10000

    async def go(client):
        off = 0
        while off < len(good):
            rsp = await client.request(fsreq.FileUpload(
                name="/lfs1/config.txt", off=off, data=good[off:off + 512],
                len=len(good) if off == 0 else None))
            assert success(rsp), rsp
            off = rsp.off
        # Start replacing it, and crash half-way.
        rsp = await client.request(fsreq.FileUpload(name="/lfs1/config.txt", off=0,
                                                    data=new[:1000], len=len(new)))
        assert success(rsp), rsp
        rsp = await client.request(fsreq.FileUpload(name="/lfs1/config.txt", off=1000,
                                                    data=new[1000:2000]))
        assert success(rsp) and rsp.off == 2000, rsp

    run(with_udp(d.udp_port, go))
    kill(d)
    # As LittleFS after a power cut: what was written since the file was opened is lost,
    # the file keeps its last synced content.
    assert (state / "fs" / "config.txt").read_bytes() == good
    d = start_device(tmp_path, state=state)
    try:
        async def check(client):
            return await client.request(fsreq.FileHashChecksum(name="/lfs1/config.txt",
                                                               type="sha256"))
        rsp = run(with_udp(d.udp_port, check))
        assert success(rsp) and bytes(rsp.output) == hashlib.sha256(good).digest()
    finally:
        assert d.stop() == 0


def test_crash_after_settings_save(tmp_path):
    state = tmp_path / "state"
    d = start_device(tmp_path, state=state)

    async def write(client):
        for r in [setreq.WriteSetting(name="app/crash/a", val=b"saved"), setreq.SaveSettings(),
                  setreq.WriteSetting(name="app/crash/b", val=b"unsaved")]:
            rsp = await client.request(r)
            assert success(rsp), rsp

    run(with_udp(d.udp_port, write))
    kill(d)
    d = start_device(tmp_path, state=state)
    try:
        async def read(client):
            return [await client.request(setreq.ReadSetting(name=n))
                    for n in ["app/crash/a", "app/crash/b"]]
        a, b = run(with_udp(d.udp_port, read))
        assert success(a) and a.val == b"saved"
        assert error(b)  # never saved: gone with the crash, as on a board
    finally:
        assert d.stop() == 0


def test_crash_during_new_file_upload_leaves_it_empty(tmp_path):
    # The file is created at the first chunk (LittleFS commits the entry at open); the data
    # of a transfer still open when the process dies was never synced.
    state = tmp_path / "state"
    d = start_device(tmp_path, state=state)

    async def go(client):
        rsp = await client.request(fsreq.FileUpload(name="/lfs1/new.bin", off=0,
                                                    data=b"x" * 512, len=4096))
        assert success(rsp) and rsp.off == 512, rsp

    run(with_udp(d.udp_port, go))
    kill(d)
    assert (state / "fs" / "new.bin").read_bytes() == b""
    d = start_device(tmp_path, state=state)
    try:
        async def status(client):
            return await client.request(fsreq.FileStatus(name="/lfs1/new.bin"))
        rsp = run(with_udp(d.udp_port, status))
        assert success(rsp) and rsp.len == 0, rsp
        assert not list((state / "fs" / ".smp-upload").iterdir())
    finally:
        assert d.stop() == 0
