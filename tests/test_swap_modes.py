"""The DFU flow in every swap mode of the emulated MCUboot, with two real clients: upload a
signed image, list it, mark it for test, reset, run it unconfirmed, confirm it, reset, and
it still runs (confirmed)."""

from __future__ import annotations

import pytest
from smpclient.generics import success
from smpclient.requests import image_management as imgreq
from smpclient.requests import os_management as osreq

from conftest import start_device
from smp_helpers import images, reset, run, tlv_hash, with_udp
from test_img import keys, make_image  # noqa: F401  (fixture)

# The --swap-mode values this flow runs in; add a mode here when smp-svr offers it.
# Overwrite-only and the direct-XIP modes have flows of their own (below; test_xip.py).
MODES = ["move", "offset", "scratch", "journal"]


@pytest.fixture(params=MODES)
def mode_dfu(request, tmp_path, keys):
    key, pub, _ = keys
    v1 = make_image(tmp_path, key, "1.0.0")
    v2 = make_image(tmp_path, key, "2.0.0")
    d = start_device(tmp_path, "--image", str(v1), "--key", str(pub), "--swap-mode",
                     request.param)
    yield d, v1, v2
    assert d.stop() == 0


def running(st: dict) -> dict:
    """Image 0's slot that is active, checked to be the primary (slot 0)."""
    active = [k for k, v in st.items() if k[0] == 0 and v.get("active")]
    assert active == [(0, 0)], st
    return st[(0, 0)]


def test_dfu_flow_with_mcumgrctl(mode_dfu):
    d, v1, v2 = mode_dfu
    s0 = running(images(d))
    assert s0["version"] == "1.0.0" and s0["confirmed"]

    d.mcumgrctl("image", "upload", "-q", str(v2), timeout=300)
    st = images(d)
    assert st[(0, 1)]["version"] == "2.0.0" and not st[(0, 1)]["pending"]
    assert st[(0, 1)]["hash"] == tlv_hash(v2)

    d.mcumgrctl("image", "set-state", "--hash", tlv_hash(v2))
    assert images(d)[(0, 1)]["pending"]

    reset(d)
    st = images(d)
    s0 = running(st)
    assert s0["version"] == "2.0.0" and not s0["confirmed"]  # runs under test
    assert st[(0, 1)]["version"] == "1.0.0" and st[(0, 1)]["confirmed"]

    d.mcumgrctl("image", "set-state", "--confirm")
    assert images(d)[(0, 0)]["confirmed"]
    reset(d)
    s0 = running(images(d))
    assert s0["version"] == "2.0.0" and s0["confirmed"]
    assert s0["hash"] == tlv_hash(v2)


def test_dfu_flow_with_smpclient(mode_dfu):
    d, v1, v2 = mode_dfu

    async def states(client):
        rsp = await client.request(imgreq.ImageStatesRead())
        assert success(rsp), rsp
        return {(i.image or 0, i.slot): i for i in rsp.images}

    def active(st):
        act = [k for k, v in st.items() if k[0] == 0 and v.active]
        assert act == [(0, 0)], st
        return st[(0, 0)]

    async def upload_and_test(client):
        s0 = active(await states(client))
        assert s0.version == "1.0.0" and s0.confirmed
        async for _ in client.upload(v2.read_bytes()):
            pass
        s1 = (await states(client))[(0, 1)]
        assert s1.version == "2.0.0" and not s1.pending
        assert bytes(s1.hash).hex() == tlv_hash(v2)
        rsp = await client.request(imgreq.ImageStatesWrite(hash=s1.hash))
        assert success(rsp), rsp
        assert (await states(client))[(0, 1)].pending
        rsp = await client.request(osreq.ResetWrite())
        assert success(rsp), rsp

    async def under_test_then_confirm(client):
        st = await states(client)
        s0 = active(st)
        assert s0.version == "2.0.0" and not s0.confirmed
        assert st[(0, 1)].version == "1.0.0" and st[(0, 1)].confirmed
        rsp = await client.request(imgreq.ImageStatesWrite(hash=None, confirm=True))
        assert success(rsp), rsp
        assert (await states(client))[(0, 0)].confirmed
        rsp = await client.request(osreq.ResetWrite())
        assert success(rsp), rsp

    async def still_runs(client):
        s0 = active(await states(client))
        assert s0.version == "2.0.0" and s0.confirmed
        assert bytes(s0.hash).hex() == tlv_hash(v2)

    boot = d.boot
    run(with_udp(d.udp_port, upload_and_test))
    assert d.wait_ready() == boot + 1
    run(with_udp(d.udp_port, under_test_then_confirm))
    assert d.wait_ready() == boot + 2
    run(with_udp(d.udp_port, still_runs))


def test_overwrite_only_cannot_revert(tmp_path, keys):
    """--swap-mode overwrite (MCUboot's overwrite-only): a test request is as good as a
    permanent one. The new image is copied over the old one, which is gone; nothing is
    left to revert to, so the unconfirmed image still runs after another reset."""
    key, pub, _ = keys
    v1 = make_image(tmp_path, key, "1.0.0")
    v2 = make_image(tmp_path, key, "2.0.0")
    d = start_device(tmp_path, "--image", str(v1), "--key", str(pub), "--swap-mode",
                     "overwrite")
    try:
        d.mcumgrctl("image", "upload", "-q", str(v2), timeout=300)
        d.mcumgrctl("image", "set-state", "--hash", tlv_hash(v2))
        assert images(d)[(0, 1)]["pending"]
        reset(d)
        st = images(d)
        assert running(st)["version"] == "2.0.0"
        assert (0, 1) not in st, st  # the secondary was erased: no image to revert to
        reset(d)  # no confirm in between: a swap mode would revert here
        st = images(d)
        s0 = running(st)
        assert s0["version"] == "2.0.0" and s0["hash"] == tlv_hash(v2)
        assert (0, 1) not in st, st
        assert v1.read_bytes()[:64] not in (d.state / "flash" / "slot0.bin").read_bytes()
    finally:
        assert d.stop() == 0


def image_of_exactly(tmp_path, key, version: str, total: int):
    """A signed image of exactly `total` bytes: the payload is sized from a first signing,
    then re-signed until the ECDSA signature's DER length lands it exactly."""
    size = total - 700
    for _ in range(20):
        img = make_image(tmp_path, key, version, size=size)
        got = img.stat().st_size
        if got == total:
            return img
        size += total - got
    raise AssertionError(f"no {total}-byte image after 20 signings")


def test_overwrite_of_an_image_ending_on_a_sector_boundary(tmp_path, keys):
    """An image of exactly two 4 KiB sectors: MCUboot's overwrite erases sectors 0 and 1 and
    copies one write unit more, into sector 2, which still holds the old, longer image. The
    secondary's bytes there are erased, so a NOR write changes nothing; the upgrade
    completes and the new image boots."""
    key, pub, _ = keys
    v1 = make_image(tmp_path, key, "1.0.0", size=11000)
    v2 = image_of_exactly(tmp_path, key, "2.0.0", 8192)
    d = start_device(tmp_path, "--image", str(v1), "--key", str(pub), "--swap-mode",
                     "overwrite")
    try:
        d.mcumgrctl("image", "upload", "-q", str(v2), timeout=300)
        d.mcumgrctl("image", "set-state", "--hash", tlv_hash(v2))
        reset(d)
        s0 = running(images(d))
        assert s0["version"] == "2.0.0" and s0["hash"] == tlv_hash(v2)
        slot0 = (d.state / "flash" / "slot0.bin").read_bytes()
        assert slot0[:8192] == v2.read_bytes()
        # The 8 bytes past the image are the old image's, as the NOR write left them.
        assert slot0[8192:8200] == v1.read_bytes()[8192:8200]
    finally:
        assert d.stop() == 0
