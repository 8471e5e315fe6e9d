"""Image management and the emulated MCUboot: the complete DFU flow with real clients and
imgtool-signed images."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from smpclient.generics import error, success
from smpclient.requests import image_management as imgreq
from smpclient.requests import os_management as osreq

from conftest import SMP_SVR, start_device
from smp_helpers import (  # noqa: F401  (images, reset, tlv_hash: also imported from here)
    images, reset, run, tlv_hash, upload_test_reset, wait_up, with_serial, with_udp)

IMGTOOL = shutil.which("imgtool")
SLOT = 0x60000
BIG_SLOT = 0x140000


def imgtool(*args: str) -> str:
    assert IMGTOOL, "imgtool not installed"
    r = subprocess.run([IMGTOOL, *args], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.fixture(scope="session")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("keys")
    key, pub = d / "key.pem", d / "pub.pem"
    imgtool("keygen", "-k", str(key), "-t", "ecdsa-p256")
    pub.write_text(imgtool("getpub", "-k", str(key), "-e", "pem"))
    other = d / "other.pem"
    imgtool("keygen", "-k", str(other), "-t", "ecdsa-p256")
    return key, pub, other


def make_image(d: Path, key: Path, version: str, size: int = 6000, slot: int = SLOT) -> Path:
    app = d / f"app-{version}-{size}.bin"
    app.write_bytes(random.Random(f"{version}/{size}").randbytes(size))
    out = d / f"app-{version}-{size}.signed.bin"
    imgtool("sign", "-k", str(key), "--header-size", "0x200", "--pad-header", "--align", "8",
            "--version", version, "--slot-size", hex(slot), str(app), str(out))
    return out


def kernel_release(device) -> str:
    out = device.mcumgrctl("--json", "raw", "read", "0", "7", '{"format":"r"}').stdout
    return json.loads(out)["output"]


@pytest.fixture
def dfu(tmp_path, keys):
    key, pub, _ = keys
    v1 = make_image(tmp_path, key, "1.0.0")
    v2 = make_image(tmp_path, key, "2.0.0")
    d = start_device(tmp_path, "--image", str(v1), "--key", str(pub))
    yield d, v1, v2
    assert d.stop() == 0


def hexhash(h) -> str:
    return h if isinstance(h, str) else bytes(h).hex()


def independent_hash(image: Path) -> str:
    """SHA-256 of what MCUboot hashes (header, payload, protected TLVs), computed here from
    the header fields, independently of smp-svr."""
    data = image.read_bytes()
    hdr_size = int.from_bytes(data[8:10], "little")
    prot = int.from_bytes(data[10:12], "little")
    img_size = int.from_bytes(data[12:16], "little")
    return hashlib.sha256(data[:hdr_size + img_size + prot]).hexdigest()


def test_image_info_matches_the_image(tmp_path, keys):
    img = make_image(tmp_path, keys[0], "1.2.3+4")
    assert tlv_hash(img) == independent_hash(img)
    r = subprocess.run([SMP_SVR, "image-info", str(img)], capture_output=True, text=True)
    assert "version: 1.2.3.4" in r.stdout
    dump = imgtool("dumpinfo", str(img))
    assert "1.2.3+4" in dump or "1.2.3.4" in dump


@pytest.mark.parametrize("transport", ["udp", "pty"])
def test_dfu_test_confirm_with_mcumgrctl(dfu, transport):
    d, v1, v2 = dfu
    serial = transport == "pty"
    st = images(d, serial)
    assert set(st) == {(0, 0)}
    s0 = st[(0, 0)]
    assert s0["version"] == "1.0.0" and s0["active"] and s0["confirmed"]
    assert hexhash(s0["hash"]) == tlv_hash(v1)
    assert kernel_release(d) == "1.0.0"

    d.mcumgrctl("image", "upload", "-q", str(v2), serial=serial, timeout=300)
    st = images(d, serial)
    s1 = st[(0, 1)]
    assert s1["version"] == "2.0.0" and not s1["pending"] and not s1["active"]
    assert hexhash(s1["hash"]) == tlv_hash(v2)

    d.mcumgrctl("image", "set-state", "--hash", tlv_hash(v2), serial=serial)
    s1 = images(d, serial)[(0, 1)]
    assert s1["pending"] and not s1["permanent"]

    reset(d, serial)
    st = images(d, serial)
    assert st[(0, 0)]["version"] == "2.0.0" and st[(0, 0)]["active"]
    assert not st[(0, 0)]["confirmed"]  # running under test
    assert st[(0, 1)]["version"] == "1.0.0" and st[(0, 1)]["confirmed"]
    assert kernel_release(d) == "2.0.0"

    d.mcumgrctl("image", "set-state", "--confirm", serial=serial)
    assert images(d, serial)[(0, 0)]["confirmed"]
    reset(d, serial)
    st = images(d, serial)
    assert st[(0, 0)]["version"] == "2.0.0" and st[(0, 0)]["confirmed"]
    assert st[(0, 0)]["active"]
    assert "swap Test" in d.log.read_text()


def test_dfu_revert_without_confirm(dfu):
    d, v1, v2 = dfu
    st = upload_test_reset(d, v2)
    assert st[(0, 0)]["version"] == "2.0.0" and not st[(0, 0)]["confirmed"]
    reset(d)  # no confirm: MCUboot reverts
    st = images(d)
    assert st[(0, 0)]["version"] == "1.0.0"
    assert st[(0, 0)]["active"] and st[(0, 0)]["confirmed"]
    assert kernel_release(d) == "1.0.0"
    assert "swap Revert" in d.log.read_text()


async def _smpclient_dfu(client, v2: Path):
    data = v2.read_bytes()
    async for _ in client.upload(data):
        pass
    rsp = await client.request(imgreq.ImageStatesRead())
    assert success(rsp), rsp
    slot1 = [i for i in rsp.images if i.slot == 1][0]
    await_hash = slot1.hash
    rsp = await client.request(imgreq.ImageStatesWrite(hash=await_hash))
    assert success(rsp), rsp
    assert [i for i in rsp.images if i.slot == 1][0].pending
    rsp = await client.request(osreq.ResetWrite())
    assert success(rsp), rsp
    return await_hash


async def _smpclient_state(client):
    rsp = await client.request(imgreq.ImageStatesRead())
    assert success(rsp), rsp
    return rsp


@pytest.mark.parametrize("transport", ["udp", "pty"])
def test_dfu_with_smpclient(dfu, transport):
    d, v1, v2 = dfu
    go = (lambda fn: with_udp(d.udp_port, fn)) if transport == "udp" else (
        lambda fn: with_serial(d.pty, fn))
    h = run(go(lambda c: _smpclient_dfu(c, v2)))
    assert bytes(h).hex() == tlv_hash(v2)
    time.sleep(0.4)
    wait_up(d)
    rsp = run(go(_smpclient_state))
    active = [i for i in rsp.images if i.active][0]
    assert active.version == "2.0.0" and not active.confirmed
    assert rsp.splitStatus == 0


def test_interrupted_upload_resumes(dfu):
    d, v1, v2 = dfu
    data = v2.read_bytes()
    sha = hashlib.sha256(data).digest()

    async def partial(client):
        off, n = 0, 512
        rsp = await client.request(imgreq.ImageUploadWrite(off=0, data=data[:n], len=len(data),
                                                           sha=sha))
        assert success(rsp) and rsp.off == n, rsp
        off = n
        for _ in range(3):
            rsp = await client.request(imgreq.ImageUploadWrite(off=off, data=data[off:off + n]))
            assert success(rsp) and rsp.off == off + n, rsp
            off += n
        return off

    done = run(with_udp(d.udp_port, partial))
    assert done == 2048

    async def resume(client):
        # A new first chunk with the same sha: the device answers with what it already has.
        rsp = await client.request(imgreq.ImageUploadWrite(off=0, data=data[:512], len=len(data),
                                                           sha=sha))
        assert success(rsp), rsp
        off = rsp.off
        # An out-of-order chunk is answered with the expected offset, nothing written.
        rsp = await client.request(imgreq.ImageUploadWrite(off=off + 512, data=data[:512]))
        assert success(rsp) and rsp.off == off, rsp
        last = None
        while off < len(data):
            last = await client.request(
                imgreq.ImageUploadWrite(off=off, data=data[off:off + 512]))
            assert success(last), last
            off = last.off
        return rsp, last

    first, last = run(with_udp(d.udp_port, resume))
    assert first.off == 2048
    assert last.off == len(data) and last.match is True
    assert hexhash(images(d)[(0, 1)]["hash"]) == tlv_hash(v2)


def test_identical_image_fails_like_zephyr(dfu):
    d, v1, v2 = dfu
    # The upload itself goes through, as on Zephyr...
    d.mcumgrctl("image", "upload", "-q", str(v1))
    # ...but testing it names the running slot: IMAGE_SETTING_TEST_TO_ACTIVE_DENIED.
    r = d.mcumgrctl("image", "set-state", "--hash", tlv_hash(v1), check=False)
    assert r.returncode != 0
    assert "SETTING_TEST_TO_ACTIVE_DENIED" in r.stderr, r.stderr


def test_upload_rejections(dfu, tmp_path):
    d, v1, v2 = dfu
    # Not an MCUboot image.
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00" * 4096)
    r = d.mcumgrctl("image", "upload", "-q", str(junk), check=False)
    assert r.returncode != 0 and "MAGIC" in r.stderr, r.stderr
    # Larger than the slot.
    r = d.mcumgrctl("raw", "write", "1", "1",
                    json.dumps({"off": 0, "len": SLOT + 1, "data": list(v2.read_bytes()[:64])}),
                    check=False)
    assert r.returncode != 0
    # `upgrade` with a version not newer than the running one.
    older = make_image(tmp_path, _key_of(d), "0.9.0")
    r = d.mcumgrctl("image", "upload", "-q", "--upgrade-only", str(older), check=False)
    assert r.returncode != 0 and "CURRENT_VERSION_IS_NEWER" in r.stderr, r.stderr


def _key_of(d):
    # The signing key sits beside the public key the device was started with.
    pub = Path(d.args[d.args.index("--key") + 1])
    return pub.parent / "key.pem"


def test_bad_signature_is_rejected_at_boot(tmp_path, keys):
    key, pub, other = keys
    v1 = make_image(tmp_path, key, "1.0.0")
    evil = make_image(tmp_path, other, "3.0.0")  # signed with a key the device does not trust
    d = start_device(tmp_path, "--image", str(v1), "--key", str(pub))
    try:
        st = upload_test_reset(d, evil)
        assert st[(0, 0)]["version"] == "1.0.0" and st[(0, 0)]["confirmed"]
        assert (0, 1) not in st  # the bootloader erased the rejected image
        assert "rejected" in d.log.read_text()
    finally:
        assert d.stop() == 0


def test_one_mebibyte_image(tmp_path, keys):
    key, pub, _ = keys
    v1 = make_image(tmp_path, key, "1.0.0", slot=BIG_SLOT)
    big = make_image(tmp_path, key, "2.0.0", size=1024 * 1024, slot=BIG_SLOT)
    d = start_device(tmp_path, "--image", str(v1), "--key", str(pub), "--slot-size",
                     hex(BIG_SLOT))
    try:
        d.mcumgrctl("image", "upload", "-q", str(big), timeout=600)
        s1 = images(d)[(0, 1)]
        assert s1["version"] == "2.0.0"
        assert hexhash(s1["hash"]) == tlv_hash(big)
        d.mcumgrctl("image", "set-state", "--hash", tlv_hash(big), "--confirm")
        reset(d)
        st = images(d)
        assert st[(0, 0)]["version"] == "2.0.0" and st[(0, 0)]["confirmed"]
    finally:
        assert d.stop() == 0


def test_state_survives_a_process_restart(tmp_path, keys):
    key, pub, _ = keys
    v1 = make_image(tmp_path, key, "1.0.0")
    v2 = make_image(tmp_path, key, "2.0.0")
    state = tmp_path / "state"
    d = start_device(tmp_path, "--image", str(v1), "--key", str(pub), state=state)
    try:
        d.mcumgrctl("image", "upload", "-q", str(v2))
        d.mcumgrctl("image", "set-state", "--hash", tlv_hash(v2))
    finally:
        assert d.stop() == 0
    # Power cycle: a new process on the same state boots the pending test image.
    d = start_device(tmp_path, "--image", str(v1), "--key", str(pub), state=state)
    try:
        st = images(d)
        assert st[(0, 0)]["version"] == "2.0.0" and not st[(0, 0)]["confirmed"]
    finally:
        assert d.stop() == 0


def test_smp_v1_image_list_with_mcumgr_client_wrapper(dfu):
    import mcumgr_client

    d, v1, v2 = dfu
    s = mcumgr_client.SerialSession(str(d.pty), initial_timeout_s=5)
    lst = s.list()
    assert len(lst) == 1 and lst[0]["version"] == "1.0.0" and lst[0]["active"]
    s.upload(str(v2))
    lst = s.list()
    assert {i["slot"] for i in lst} == {0, 1}
    assert "ver 0 group 1 cmd 1" in d.log.read_text()  # uploads really were SMP v1


def test_two_images_and_direct_upload_slot_info(tmp_path):
    d = start_device(tmp_path, "--images", "2")
    try:
        info = json.loads(d.mcumgrctl("--json", "image", "slot-info").stdout)
        assert [i["image"] for i in info] == [0, 1]
        ids = {(i["image"], s["slot"]): s.get("upload_image_id") for i in info
               for s in i["slots"]}
        # Normal mode: only the inactive slot of each image takes uploads, as image n.
        assert ids == {(0, 0): None, (0, 1): 0, (1, 0): None, (1, 1): 1}
    finally:
        assert d.stop() == 0
    d = start_device(tmp_path, "--images", "2", "--direct-upload", state=tmp_path / "s2")
    try:
        info = json.loads(d.mcumgrctl("--json", "image", "slot-info").stdout)
        ids = {(i["image"], s["slot"]): s.get("upload_image_id") for i in info
               for s in i["slots"]}
        # Direct upload: every slot, as absolute slot + 1.
        assert ids == {(0, 0): 1, (0, 1): 2, (1, 0): 3, (1, 1): 4}
        # The running slot is never written: an upload aimed at it is refused.
        app, img = tmp_path / "app.bin", tmp_path / "app.img"
        app.write_bytes(random.Random(3).randbytes(3000))
        imgtool("sign", "--header-size", "0x200", "--pad-header", "--align", "8", "--version",
                "3.0.0", "--slot-size", hex(SLOT), str(app), str(img))
        r = d.mcumgrctl("image", "upload", "-q", "--image-id", "1", str(img), check=False)
        assert r.returncode != 0
        d.mcumgrctl("image", "upload", "-q", "--image-id", "4", str(img))
        st = images(d)
        assert st[(1, 1)]["version"] == "3.0.0"
    finally:
        assert d.stop() == 0


def test_padded_image_is_a_test_request_by_itself(dfu, tmp_path):
    """imgtool --pad fills the slot and writes the trailer magic: after the upload the image
    is pending (a test), without any set-state, and boots at the next reset."""
    d, v1, v2 = dfu
    app = tmp_path / "padded.bin"
    app.write_bytes(random.Random(9).randbytes(4000))
    padded = tmp_path / "padded.signed.bin"
    imgtool("sign", "-k", str(_key_of(d)), "--header-size", "0x200", "--pad-header", "--align",
            "8", "--version", "4.0.0", "--slot-size", hex(SLOT), "--pad", str(app), str(padded))
    assert padded.stat().st_size == SLOT
    d.mcumgrctl("image", "upload", "-q", str(padded))
    s1 = images(d)[(0, 1)]
    assert s1["version"] == "4.0.0" and s1["pending"] and not s1["permanent"]
    reset(d)
    s0 = images(d)[(0, 0)]
    assert s0["version"] == "4.0.0" and s0["active"] and not s0["confirmed"]


@pytest.mark.parametrize("mode,limit", [("move", 24576), ("offset", 28672), ("journal", None)])
def test_upload_size_limit_follows_the_swap_mode(tmp_path, keys, mode, limit):
    """Swap using move can only swap an image of the slot less the trailer (rounded up to
    sectors) and one sector (MCUboot's app_max_size, swap_move.c): with 8 sectors of 4 KiB
    and the status area of 128 x 3 x 8 bytes, 24576 bytes. Swap using offset takes the
    trailer (128 x 2 x 8 + 56 bytes, one sector) off the primary and its sector of headroom
    off the secondary, which --swap-mode offset makes one sector larger (app_max_size,
    swap_offset.c): 28672 bytes. The image group refuses more (err 30); the journal
    emulation takes anything that fits the slot."""
    key, pub, _ = keys
    slot = 0x8000
    over = limit or 24576
    v1 = make_image(tmp_path, key, "1.0.0", 6000, slot)
    d = start_device(tmp_path, "--image", str(v1), "--key", str(pub), "--slot-size", hex(slot),
                     "--swap-mode", mode)
    try:
        # Header and payload alone 8 bytes over the limit.
        big = make_image(tmp_path, key, "2.0.0", over - 0x200 + 8, slot)
        r = d.mcumgrctl("image", "upload", "-q", str(big), check=False)
        if limit:
            assert r.returncode != 0 and "TOO_LARGE" in r.stdout + r.stderr, r
        else:
            assert r.returncode == 0, r
        # With its TLVs still under the limit: accepted in every mode, and it boots.
        fits = make_image(tmp_path, key, "2.0.1", over - 0x200 - 400, slot)
        assert fits.stat().st_size <= over
        assert upload_test_reset(d, fits)[(0, 0)]["version"] == "2.0.1"
    finally:
        assert d.stop() == 0


def test_swap_offset_uploads_one_sector_into_a_larger_secondary(tmp_path, keys):
    """--swap-mode offset: the secondary slot file is one sector larger than the primary
    (MCUboot's optimal layout, boot_slots_compatible in swap_offset.c), an upload lands one
    sector into it (Zephyr's boot_get_image_start_offset), the test swap brings it down to
    the primary and leaves the old image at 0 of the secondary, listed from there while the
    revert is pending; the revert puts both back where they were."""
    key, pub, _ = keys
    slot = 0x8000
    v1 = make_image(tmp_path, key, "1.0.0", 6000, slot)
    v2 = make_image(tmp_path, key, "2.0.0", 9000, slot)
    d = start_device(tmp_path, "--image", str(v1), "--key", str(pub), "--slot-size", hex(slot),
                     "--swap-mode", "offset")
    flash = d.state / "flash"
    try:
        assert (flash / "slot0.bin").stat().st_size == slot
        assert (flash / "slot1.bin").stat().st_size == slot + 0x1000
        d.mcumgrctl("image", "upload", "-q", str(v2))
        sec = (flash / "slot1.bin").read_bytes()
        assert sec[:0x1000] == b"\xff" * 0x1000
        assert sec[0x1000:].startswith(v2.read_bytes())
        assert hexhash(images(d)[(0, 1)]["hash"]) == tlv_hash(v2)
        d.mcumgrctl("image", "set-state", "--hash", tlv_hash(v2))
        reset(d)
        st = images(d)
        assert st[(0, 0)]["version"] == "2.0.0" and not st[(0, 0)]["confirmed"]
        assert st[(0, 1)]["version"] == "1.0.0" and st[(0, 1)]["confirmed"]
        assert (flash / "slot1.bin").read_bytes().startswith(v1.read_bytes())
        reset(d)
        st = images(d)
        assert st[(0, 0)]["version"] == "1.0.0" and st[(0, 0)]["confirmed"]
        assert st[(0, 1)]["version"] == "2.0.0" and not st[(0, 1)]["pending"]
        sec = (flash / "slot1.bin").read_bytes()
        assert sec[0x1000:].startswith(v2.read_bytes())
        assert (flash / "slot0.bin").read_bytes().startswith(v1.read_bytes())
    finally:
        assert d.stop() == 0
