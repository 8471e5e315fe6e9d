"""Slow flash (`--flash-timing`): an upload's first chunk is answered only after the erase of
what the image covers, as on a board, and real clients still get their uploads through.

Times are measured with the client's clock and checked as lower bounds only: a loaded host
makes everything slower, never faster."""

from __future__ import annotations

import hashlib
import math
import time

from smpclient.generics import success
from smpclient.requests import image_management as imgreq

from conftest import start_device
from smp_helpers import images, run, tlv_hash, with_udp
from test_img import keys, make_image  # noqa: F401  (fixture)

SECTOR = 4096  # smp-svr's default --erase-size


def erase_lower_bound(image, erase_s: float) -> float:
    """The first chunk erases at least the sectors the image will cover (the core's image
    group also erases the trailer's sectors, which only adds to it)."""
    return math.ceil(image.stat().st_size / SECTOR) * erase_s


def nrf52840_lower_bound(image) -> float:
    """The nrf52840 profile: 89.7 ms per erased page and 41 µs per 32-bit word written."""
    return erase_lower_bound(image, 0.0897) + math.ceil(image.stat().st_size / 4) * 41e-6


def test_first_chunk_waits_for_the_erase_smpclient(tmp_path, keys):
    key, pub, _ = keys
    v1, v2 = make_image(tmp_path, key, "1.0.0"), make_image(tmp_path, key, "2.0.0")
    erase_ms = 150
    d = start_device(tmp_path, "--image", str(v1), "--key", str(pub), "--flash-timing",
                     f"custom:{erase_ms},20")
    try:
        data = v2.read_bytes()
        sha = hashlib.sha256(data).digest()

        async def upload(client):
            t = time.monotonic()
            rsp = await client.request(imgreq.ImageUploadWrite(
                off=0, data=data[:512], len=len(data), sha=sha), timeout_s=10)
            first = time.monotonic() - t
            assert success(rsp) and rsp.off == 512, rsp
            off = rsp.off
            while off < len(data):
                rsp = await client.request(imgreq.ImageUploadWrite(
                    off=off, data=data[off:off + 512]), timeout_s=10)
                assert success(rsp), rsp
                off = rsp.off
            return first, rsp

        first, last = run(with_udp(d.udp_port, upload))
        print(f"first chunk answered after {first:.3f} s "
              f"(lower bound {erase_lower_bound(v2, erase_ms / 1000):.3f} s)")
        assert first >= erase_lower_bound(v2, erase_ms / 1000), first
        assert last.off == len(data) and last.match is True, last
        assert images(d)[(0, 1)]["hash"] == tlv_hash(v2)
        assert "flash timing: 150000 µs per erased sector, 20 µs per 32-bit word" \
            in d.log.read_text()
    finally:
        assert d.stop() == 0


def test_nrf52840_profile_with_mcumgrctl_and_smpclient(tmp_path, keys):
    """The nrf52840 profile (89.7 ms per page, 41 µs per word): mcumgrctl's upload takes at
    least the erase and the writes, and succeeds; so does smpclient's upload of another
    image afterwards."""
    key, pub, _ = keys
    v1, v2 = make_image(tmp_path, key, "1.0.0"), make_image(tmp_path, key, "2.0.0")
    v3 = make_image(tmp_path, key, "3.0.0", size=9000)
    d = start_device(tmp_path, "--image", str(v1), "--key", str(pub), "--flash-timing",
                     "nrf52840")
    try:
        t = time.monotonic()
        d.mcumgrctl("image", "upload", "-q", str(v2))
        took = time.monotonic() - t
        print(f"mcumgrctl upload, nrf52840: {took:.3f} s "
              f"(lower bound {nrf52840_lower_bound(v2):.3f} s)")
        assert took >= nrf52840_lower_bound(v2), took
        assert images(d)[(0, 1)]["hash"] == tlv_hash(v2)

        async def upload(client):
            t = time.monotonic()
            async for _ in client.upload(v3.read_bytes(), first_timeout_s=10):
                pass
            return time.monotonic() - t

        took = run(with_udp(d.udp_port, upload))
        print(f"smpclient upload, nrf52840: {took:.3f} s "
              f"(lower bound {nrf52840_lower_bound(v3):.3f} s)")
        assert took >= nrf52840_lower_bound(v3), took
        assert images(d)[(0, 1)]["hash"] == tlv_hash(v3)
    finally:
        assert d.stop() == 0


def test_a_slow_erase_beyond_a_second_still_succeeds(tmp_path, keys):
    """An erase of over a second at the first chunk: mcumgrctl (3 s timeout) waits for it
    instead of failing."""
    key, pub, _ = keys
    v1, v2 = make_image(tmp_path, key, "1.0.0"), make_image(tmp_path, key, "2.0.0")
    d = start_device(tmp_path, "--image", str(v1), "--key", str(pub), "--flash-timing",
                     "custom:600,0")
    try:
        t = time.monotonic()
        d.mcumgrctl("image", "upload", "-q", str(v2))
        took = time.monotonic() - t
        print(f"mcumgrctl upload, 600 ms per sector: {took:.3f} s")
        assert took >= erase_lower_bound(v2, 0.6) >= 1.2, took
        assert images(d)[(0, 1)]["hash"] == tlv_hash(v2)
    finally:
        assert d.stop() == 0


def test_unknown_profile_is_refused(tmp_path):
    import os
    import subprocess

    from conftest import SMP_SVR
    for spec, says in [("k64f", "no upstream source"), ("fast", "expected nrf52840 or custom:")]:
        r = subprocess.run([SMP_SVR, "--state", str(tmp_path / "s"), "--flash-timing", spec],
                           capture_output=True, text=True, timeout=30,
                           env={**os.environ, "RUST_LOG": "info"})
        assert r.returncode != 0 and says in r.stderr, r.stderr
