"""Bluetooth LE: smp-svr serves Zephyr's SMP GATT service over trouble-host on a Bumble virtual
controller; smpclient's Bumble transport drives it from another controller on the same
simulated link (tests/ble_harness.py)."""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path

import pytest
from smpclient import SMPClient
from smpclient.generics import error, success
from smpclient.requests import file_management as fsreq
from smpclient.requests import image_management as imgreq
from smpclient.requests import os_management as osreq
from smpclient.requests import statistics_management as statreq
from smpclient.transport.bumble import SMPBumbleTransport, SMPBumbleTransportDeviceNotFound

from ble_harness import Controllers
from conftest import start_device
from test_img import _smpclient_dfu, keys, make_image, tlv_hash  # noqa: F401  (fixture)

NAME = "smp-svr-ble"


@pytest.fixture
def radio(tmp_path):
    """Fresh virtual controllers: `dev` for smp-svr, `a` and `b` for clients."""
    c = Controllers(tmp_path, ["dev", "a", "b"])
    yield c
    c.stop()


def start_ble(tmp_path: Path, radio: Controllers, *extra: str, state: Path | None = None):
    return start_device(tmp_path, "--ble", radio.spec("dev"), "--ble-name", NAME, *extra,
                        state=state)


@pytest.fixture
def ble(tmp_path, radio):
    d = start_ble(tmp_path, radio)
    yield d
    assert d.stop() == 0, d.log.read_text()[-4000:]


def client(radio: Controllers, name: str = "a", mtu: int = 498, timeout_s: float = 10,
           **kw) -> SMPClient:
    from smpclient.transport.bumble.keystore import InMemory

    # Bonds in memory: smpclient's default keystore is one file in the system's temporary
    # directory, shared by every client and every run, and the device's address follows
    # its state directory, so a bond from another run would be tried (and fail).
    kw.setdefault("keystore", InMemory())
    t = SMPBumbleTransport(hci=radio.spec(name), preferred_mtu=mtu, **kw)
    return SMPClient(t, NAME, timeout_s=timeout_s)


def run(coro, timeout: float = 90):
    """Runs a client coroutine; a hang fails the test instead of stalling the run."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def forget_dead_link(c: SMPClient) -> None:
    """After the device dropped the link, keep smpclient's teardown from unsubscribing and
    disconnecting over it (bumble waits for those answers without a timeout, as its
    controller has no supervision timeout): only the local device and transport close."""
    from smpclient.transport.bumble import Connecting

    s = c._transport._state
    c._transport._state = Connecting(transport=s.transport, device=s.device)


async def session(radio, fn, name="a", mtu=498, **kw):
    async with client(radio, name, mtu, **kw) as c:
        return await fn(c)


def stats_of(d, group: str) -> dict:
    import json
    out = d.mcumgrctl("--json", "raw", "read", "2", "0", f'{{"name":"{group}"}}').stdout
    return json.loads(out)["fields"]


@pytest.mark.parametrize("size", [5, 490, 1500, 2000])
def test_echo(ble, radio, size):
    text = "".join(chr(ord("a") + i % 26) for i in range(size))

    async def go(c):
        rsp = await c.request(osreq.EchoWrite(d=text))
        assert success(rsp), rsp
        return rsp.r

    assert run(session(radio, go)) == text


@pytest.mark.parametrize("mtu", [247, 65])
def test_a_full_buffer_at_a_small_mtu(ble, radio, mtu):
    """A request of the whole 2048-byte buffer arrives as a burst of writes (9 at MTU 247,
    34 at MTU 65) and the response as as many notifications: nothing is lost."""
    text = "m" * 2000

    async def go(c):
        out = []
        for _ in range(3):
            rsp = await c.request(osreq.EchoWrite(d=text))
            assert success(rsp), rsp
            out.append(rsp.r)
        return out

    assert run(session(radio, go, mtu=mtu)) == [text] * 3


def test_every_os_request_and_the_same_buffers(ble, radio):
    """Every OS request smpclient has a strict model for, over BLE; the reset (the last)
    drops the link and the device comes back advertising."""
    from test_os import _strict_sequence

    async def go(c):
        results = await _strict_sequence(c)
        # The reset drops the link: the client, still connected, sees the disconnection.
        await asyncio.wait_for(c._transport._disconnected_event.wait(), timeout=5)
        forget_dead_link(c)
        return results

    results = run(session(radio, go))
    assert results[0].r == "strict"
    # The same buffers as every other transport: `os mcumgr params` is one answer.
    assert results[5].buf_size == 2048 and results[5].buf_count == 4
    assert results[4].datetime.startswith("2032-05-06T07:08:")
    assert results[8].bootloader == "MCUboot"
    assert ble.wait_ready() == 2  # the reset really restarted the device
    assert "ble: reset: dropping connection 1" in ble.log.read_text()
    again = run(session(radio, lambda c: c.request(osreq.EchoWrite(d="again"))))
    assert success(again) and again.r == "again", again


def test_statistics_count_ble_and_bad_writes_are_dropped(ble, radio):
    """The transport has its statistics group; a write shorter than the SMP header and a
    packet announcing more than buf_size are dropped and counted, and the link goes on."""
    group = [g for g in ble.mcumgrctl("--json", "raw", "read", "2", "1", "{}").stdout.split('"')
             if g.startswith("smp_bt")]
    assert group, "no smp_bt statistics group"
    name = group[0]

    async def go(c):
        rsp = await c.request(osreq.EchoWrite(d="before"))
        assert success(rsp) and rsp.r == "before", rsp
        chr_ = c._transport._state.smp_characteristic
        await chr_.write_value(b"\x02\x00\x00")                      # no whole header
        await chr_.write_value(bytes([2, 0, 0x0b, 0xb8, 0, 0, 0, 0]))  # 3000 bytes > 2048
        await asyncio.sleep(0.2)
        rsp = await c.request(osreq.EchoWrite(d="after"))
        assert success(rsp) and rsp.r == "after", rsp

    run(session(radio, go))
    f = stats_of(ble, name)
    assert f["dropped"] == 2, f
    # MCUmgr parameters (smpclient's first request), two echoes.
    assert f["rx_pkts"] == 3 and f["tx_pkts"] == 3, f


def test_dfu_over_ble(tmp_path, radio, keys):
    """The seed's DFU flow: upload a signed image, list, test, reset; reconnect: the new
    image runs unconfirmed; confirm."""
    key, pub, _ = keys
    v1 = make_image(tmp_path, key, "1.0.0")
    v2 = make_image(tmp_path, key, "2.0.0", size=60000)
    d = start_ble(tmp_path, radio, "--image", str(v1), "--key", str(pub))
    try:
        h = run(session(radio, lambda c: _smpclient_dfu(c, v2)))
        assert bytes(h).hex() == tlv_hash(v2)
        assert d.wait_ready() == 2

        async def after(c):
            rsp = await c.request(imgreq.ImageStatesRead())
            assert success(rsp), rsp
            active = [i for i in rsp.images if i.active][0]
            assert active.version == "2.0.0" and not active.confirmed
            rsp = await c.request(imgreq.ImageStatesWrite(confirm=True))
            assert success(rsp), rsp
            return [i for i in rsp.images if i.active][0]

        confirmed = run(session(radio, after))
        assert confirmed.version == "2.0.0" and confirmed.confirmed
    finally:
        assert d.stop() == 0


def test_file_download(tmp_path, radio):
    state = tmp_path / "state"
    (state / "fs").mkdir(parents=True)
    content = bytes((i * 7) % 251 for i in range(5000))
    (state / "fs" / "blob.bin").write_bytes(content)
    d = start_ble(tmp_path, radio, state=state)
    try:
        got = run(session(radio, lambda c: c.download_file("/lfs1/blob.bin")))
        assert got == content
    finally:
        assert d.stop() == 0


def test_disconnect_mid_upload_and_resume(tmp_path, radio, keys):
    """A client leaves in the middle of an upload; a new connection resumes it where the
    device got to (same sha), and the image is complete and matches."""
    key, pub, _ = keys
    v1 = make_image(tmp_path, key, "1.0.0")
    v2 = make_image(tmp_path, key, "2.0.0", size=20000)
    data = v2.read_bytes()
    sha = hashlib.sha256(data).digest()
    n = 1024
    d = start_ble(tmp_path, radio, "--image", str(v1), "--key", str(pub))
    try:
        async def partial(c):
            rsp = await c.request(imgreq.ImageUploadWrite(off=0, data=data[:n], len=len(data),
                                                          sha=sha))
            assert success(rsp) and rsp.off == n, rsp
            for off in range(n, 4 * n, n):
                rsp = await c.request(imgreq.ImageUploadWrite(off=off, data=data[off:off + n]))
                assert success(rsp) and rsp.off == off + n, rsp
            return rsp.off  # the client disconnects here, mid-image

        assert run(session(radio, partial)) == 4 * n

        async def resume(c):
            rsp = await c.request(imgreq.ImageUploadWrite(off=0, data=data[:n], len=len(data),
                                                          sha=sha))
            assert success(rsp), rsp
            first = off = rsp.off
            while off < len(data):
                rsp = await c.request(imgreq.ImageUploadWrite(off=off, data=data[off:off + n]))
                assert success(rsp), rsp
                off = rsp.off
            st = await c.request(imgreq.ImageStatesRead())
            return first, rsp, st

        first, last, st = run(session(radio, resume, name="b"))
        assert first == 4 * n
        assert last.off == len(data) and last.match is True
        assert bytes([i for i in st.images if i.slot == 1][0].hash).hex() == tlv_hash(v2)
    finally:
        assert d.stop() == 0


def test_one_connection_at_a_time(ble, radio):
    """While a client is connected the device does not advertise: a second client does not
    find it; once the first leaves, the device advertises again and the second connects."""
    async def both():
        async with client(radio, "a") as c:
            rsp = await c.request(osreq.EchoWrite(d="first"))
            assert success(rsp), rsp
            second = SMPClient(SMPBumbleTransport(hci=radio.spec("b"), preferred_mtu=247),
                               NAME, timeout_s=3)
            with pytest.raises(SMPBumbleTransportDeviceNotFound):
                await second.connect()
            # The first connection is unaffected.
            rsp = await c.request(osreq.EchoWrite(d="still"))
            assert success(rsp) and rsp.r == "still", rsp
        async with client(radio, "b", mtu=247) as c:
            rsp = await c.request(osreq.EchoWrite(d="second"))
            assert success(rsp), rsp
            return rsp.r

    assert run(both()) == "second"


def test_encrypt_refuses_an_unpaired_client_and_serves_a_paired_one(tmp_path, radio):
    """--ble-security encrypt: the CCC descriptor and the characteristic need an encrypted
    link; a client that does not pair is refused by the ATT server (its subscription
    fails); one that pairs (Just Works) is served."""
    d = start_ble(tmp_path, radio, "--ble-security", "encrypt")
    try:
        async def unpaired():
            c = client(radio, "a", timeout_s=5)
            with pytest.raises(Exception) as e:
                await c.connect()
            await c.disconnect()
            return e.value

        err = run(unpaired())
        assert "INSUFFICIENT" in str(err).upper() or "0x05" in str(err), repr(err)
        assert "refused" in d.log.read_text()

        from smpclient.transport.bumble.pairing import NoInputNoOutput

        async def paired(c):
            rsp = await c.request(osreq.EchoWrite(d="secret"))
            assert success(rsp), rsp
            return rsp.r

        assert run(session(radio, paired, name="b", pair_on_connect=NoInputNoOutput())) \
            == "secret"
    finally:
        assert d.stop() == 0


def test_authen_needs_a_passkey_pairing(tmp_path, radio):
    """--ble-security authen: Just Works pairing gives an encrypted but unauthenticated link,
    still refused; pairing with the passkey the device "displays" (its log) is served."""
    import re

    from smpclient.transport.bumble.pairing import KeyboardOnly, NoInputNoOutput

    d = start_ble(tmp_path, radio, "--ble-security", "authen")
    try:
        async def just_works():
            c = client(radio, "a", timeout_s=5, pair_on_connect=NoInputNoOutput())
            with pytest.raises(Exception) as e:
                await c.connect()
            await c.disconnect()
            return e.value

        err = run(just_works())
        assert "INSUFFICIENT" in str(err).upper(), repr(err)

        async def passkey() -> int:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                keys = re.findall(r"pairing passkey (\d{6})", d.log.read_text())
                if keys:
                    return int(keys[-1])
                await asyncio.sleep(0.05)
            raise AssertionError("the device showed no passkey")

        async def echo(c):
            rsp = await c.request(osreq.EchoWrite(d="authenticated"))
            assert success(rsp), rsp
            return rsp.r

        assert run(session(radio, echo, name="b", pair_on_connect=KeyboardOnly(passkey))) \
            == "authenticated"
        assert "EncryptedAuthenticated" in d.log.read_text()
    finally:
        assert d.stop() == 0


@pytest.mark.parametrize("kind", ["tcp", "pty"])
def test_controller_over_tcp_and_a_serial_line(tmp_path, kind):
    """`--ble tcp:HOST:PORT` and `--ble serial:DEV,BAUD` (a Bumble controller behind a PTY,
    as an hci_uart board's line) serve the same service."""
    radio = Controllers(tmp_path, ["dev", "a"], {"dev": kind})
    try:
        assert radio.spec("dev").startswith({"tcp": "tcp:", "pty": "serial:"}[kind])
        d = start_ble(tmp_path, radio)
        try:
            text = "x" * 700
            rsp = run(session(radio, lambda c: c.request(osreq.EchoWrite(d=text))))
            assert success(rsp) and rsp.r == text, rsp
        finally:
            assert d.stop() == 0
    finally:
        radio.stop()


@pytest.mark.parametrize("spec, message", [
    ("unix:/nonexistent/hci.sock", "cannot connect to the controller at unix:"),
    ("tcp:127.0.0.1:1", "cannot connect to the controller at tcp:127.0.0.1:1"),
    ("serial:/nonexistent/tty", "cannot open the controller's line"),
    ("bogus", "give unix:PATH, tcp:HOST:PORT, serial:DEV[,BAUD] or hciN"),
    # Here the kernel has no Bluetooth (or the adapter is missing, down or busy): each is
    # one clear line. CAP_NET_ADMIN and a busy adapter cannot be produced in CI.
    ("hci0", "hci0: "),
])
def test_bad_controller_specs_are_one_clear_error(tmp_path, spec, message):
    import subprocess

    from conftest import SMP_SVR

    r = subprocess.run([SMP_SVR, "--state", str(tmp_path / "s"), "--no-udp", "--ble", spec],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode != 0
    assert message in r.stderr, r.stderr
