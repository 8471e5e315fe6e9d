"""MCUboot's direct-XIP modes on the host device (`--swap-mode direct-xip` and
`direct-xip-revert`), driven by the real clients (mcumgrctl, smpclient): no copy, the higher
valid version boots from its own slot, uploads go to the slot not running, an unconfirmed
image is reverted (erased) in direct-xip-revert, and a power cut at every flash operation
of a test-and-revert cycle there never bricks the device or loses the confirmed image.

The rules the device follows are mcu-tools/mcuboot's boot/bootutil/src/loader.c @2d4bacc3
(`boot_load_and_validate_images`, `boot_select_or_erase`) and Zephyr's img_mgmt in these
modes (subsys/mgmt/mcumgr/grp/img_mgmt/src/img_mgmt_state.c @0014f3dc4dda); the
byte-level ones are unit-tested in the core (`smp::mcuboot::swap::xip`)."""

from __future__ import annotations

import json
import shutil
import signal
import time
from pathlib import Path

import pytest
from smpclient.generics import error, success
from smpclient.requests import image_management as imgreq
from smpclient.requests import os_management as osreq

from conftest import start_device
from smp_helpers import run, with_udp
from test_img import imgtool, keys, make_image, tlv_hash  # noqa: F401  (fixture)
from test_powercut import CUT_LINE, TOTAL_LINE, Dev, hexhash

# 8 sectors of 4 KiB per slot; images of 3 sectors.
SLOT = 0x8000
ERASE = 4096
IMAGE_BYTES = 12000
GEOMETRY = ["--slot-size", hex(SLOT), "--erase-size", str(ERASE)]


def confirmed_image(d: Path, key: Path, version: str) -> Path:
    """`imgtool sign --pad --confirm`: the image with trailer magic and image_ok, as
    direct-xip-revert needs the factory image (MCUboot erases a slot without good magic)."""
    make_image(d, key, version, IMAGE_BYTES, SLOT)  # writes the payload file signed here
    out = d / f"app-{version}.confirmed.bin"
    src = d / f"app-{version}-{IMAGE_BYTES}.bin"
    imgtool("sign", "-k", str(key), "--header-size", "0x200", "--pad-header", "--align", "8",
            "--version", version, "--slot-size", hex(SLOT), "--pad", "--confirm", str(src),
            str(out))
    return out


def slots(state: Path) -> list[bytes]:
    return [(state / "flash" / f"slot{n}.bin").read_bytes() for n in (0, 1)]


def ctl_state(d) -> dict:
    out = d.mcumgrctl("--json", "image", "get-state").stdout
    return {i["slot"]: i for i in json.loads(out)}


def reset(d) -> None:
    rsp = run(with_udp(d.udp_port, lambda c: c.request(osreq.ResetWrite())))
    assert success(rsp), rsp
    d.wait_ready()


def smp_state(d) -> dict:
    rsp = run(with_udp(d.udp_port, lambda c: c.request(imgreq.ImageStatesRead())))
    assert success(rsp), rsp
    return {i.slot: i for i in rsp.images}


def bootloader(d, query: str | None = None) -> dict:
    body = "{}" if query is None else json.dumps({"query": query})
    return json.loads(d.mcumgrctl("--json", "raw", "read", "0", "8", body).stdout)


def test_direct_xip_boots_the_higher_version_from_slot_1_without_a_copy(tmp_path, keys):  # noqa: F811
    key, pub, _ = keys
    v1, v2, v3 = (make_image(tmp_path, key, v, IMAGE_BYTES, SLOT)
                  for v in ("1.0.0", "2.0.0", "3.0.0"))
    d = start_device(tmp_path, "--swap-mode", "direct-xip", "--image", str(v1), "--key",
                     str(pub), *GEOMETRY)
    try:
        # MCUboot's enum mcuboot_mode: 4 = direct-XIP; Zephyr's Kconfig selects
        # MCUBOOT_BOOTLOADER_NO_DOWNGRADE for it.
        assert bootloader(d, "mode") == {"mode": 4, "no-downgrade": True}
        d.mcumgrctl("image", "upload", "-q", str(v2))
        before = slots(d.state)
        assert before[1].startswith(v2.read_bytes())
        st = ctl_state(d)
        assert st[0]["version"] == "1.0.0" and st[0]["active"] and st[0]["confirmed"]
        # The higher version is pending and permanent as soon as it is there...
        assert st[1]["version"] == "2.0.0" and st[1]["pending"] and st[1]["permanent"]
        # ...and there is no state write in this mode: Zephyr's img_mgmt has none
        # (`.mh_write = NULL`), so a test request is rc 8 (MGMT_ERR_ENOTSUP).
        h2 = tlv_hash(v2)
        r = run(with_udp(d.udp_port, lambda c: c.request(
            imgreq.ImageStatesWrite(hash=bytes.fromhex(h2)))))
        assert error(r) and r.rc == 8, r
        assert before == slots(d.state), "a refused request wrote nothing"

        reset(d)
        st = smp_state(d)
        assert st[1].version == "2.0.0" and st[1].active and st[1].confirmed, st
        assert not st[0].active and not st[0].pending and not st[0].confirmed, st
        # No copy: both slots hold exactly what they held before the reset.
        assert slots(d.state) == before
        after = d.log.read_text().split("resetting")[-1]
        assert "direct-XIP: booting slot 1 in place" in after, after
        assert "booting version 2.0.0" in after, after

        # The next upload goes to slot 0 (the one not running), and boots there.
        d.mcumgrctl("image", "upload", "-q", str(v3))
        now = slots(d.state)
        assert now[0].startswith(v3.read_bytes()) and now[1] == before[1]
        reset(d)
        st = smp_state(d)
        assert st[0].version == "3.0.0" and st[0].active, st
        assert slots(d.state) == now
        # The running slot cannot be erased; the other can.
        rsp = run(with_udp(d.udp_port, lambda c: c.request(imgreq.ImageErase(slot=0))))
        assert error(rsp), rsp
        rsp = run(with_udp(d.udp_port, lambda c: c.request(imgreq.ImageErase(slot=1))))
        assert success(rsp), rsp
        assert set(b for b in slots(d.state)[1]) == {0xff}
    finally:
        assert d.stop() == 0


def test_direct_xip_revert_reverts_an_unconfirmed_image(tmp_path, keys):  # noqa: F811
    key, pub, _ = keys
    v1 = confirmed_image(tmp_path, key, "1.0.0")
    v2 = make_image(tmp_path, key, "2.0.0", IMAGE_BYTES, SLOT)
    h1, h2 = tlv_hash(v1), tlv_hash(v2)
    d = start_device(tmp_path, "--swap-mode", "direct-xip-revert", "--image", str(v1),
                     "--key", str(pub), *GEOMETRY)
    try:
        assert bootloader(d, "mode") == {"mode": 5, "no-downgrade": True}
        factory = slots(d.state)[0]
        for confirm in (False, True):
            d.mcumgrctl("image", "upload", "-q", str(v2))
            st = ctl_state(d)
            assert not st[1].get("pending"), st  # not marked: MCUboot would erase it
            d.mcumgrctl("image", "set-state", "--hash", h2)
            assert ctl_state(d)[1]["pending"]
            reset(d)
            st = smp_state(d)
            # v2 runs from slot 1 unconfirmed; v1 in slot 0 is what a reset returns to.
            assert st[1].active and not st[1].confirmed and hexhash(st[1].hash) == h2, st
            assert st[0].confirmed and not st[0].active, st
            assert slots(d.state)[0] == factory
            # Slot 0 is the revert target: no upload there.
            r = d.mcumgrctl("image", "upload", "-q", str(v2), check=False)
            assert r.returncode != 0
            if not confirm:
                reset(d)
                st = smp_state(d)
                assert list(st) == [0], st
                assert st[0].active and st[0].confirmed and hexhash(st[0].hash) == h1
                assert set(slots(d.state)[1]) == {0xff}, "the unconfirmed image is erased"
                assert "booted once and not confirmed, erased" in d.log.read_text()
        rsp = run(with_udp(d.udp_port,
                           lambda c: c.request(imgreq.ImageStatesWrite(confirm=True))))
        assert success(rsp), rsp
        for _ in range(2):
            reset(d)
            st = smp_state(d)
            assert st[1].active and st[1].confirmed and hexhash(st[1].hash) == h2, st
        assert slots(d.state)[0] == factory
    finally:
        assert d.stop() == 0


def test_direct_xip_refuses_downgrade_prevention_and_multiple_images(tmp_path):
    for extra in (["--downgrade-prevention"], ["--images", "2"]):
        for mode in ("direct-xip", "direct-xip-revert"):
            try:
                d = start_device(tmp_path, "--swap-mode", mode, *extra)
            except RuntimeError as e:
                assert "direct-XIP" in str(e) or "direct-xip" in str(e), e
                continue
            d.stop()
            raise AssertionError(f"{mode} {extra} started")


STEPS = ["upload", "test", "reset (test boot)", "reset (revert)"]


def test_power_cut_at_every_flash_operation_direct_xip_revert(tmp_path, keys, capsys):  # noqa: F811
    """Upload v2, mark it for test, reset (v2 runs unconfirmed from slot 1), reset (MCUboot
    erases it, v1 runs from slot 0): a cut after each flash operation, a restart, the rest
    of the cycle. Slot 0 (the confirmed v1) must never change, the device must always boot
    v1 or v2, and the end state must be the uncut one."""
    key, pub, _ = keys
    v1 = confirmed_image(tmp_path, key, "1.0.0")
    v2 = make_image(tmp_path, key, "2.0.0", IMAGE_BYTES, SLOT)
    h1, h2 = tlv_hash(v1), tlv_hash(v2)
    log = tmp_path / "smp-svr.log"
    mode = ("--swap-mode", "direct-xip-revert")
    template = tmp_path / "template"
    d = Dev(template, log, pub, *mode, "--image", str(v1))
    assert d.next_boot(), log.read_text()[-3000:]
    assert d.stop() == 0
    factory = (template / "flash" / "slot0.bin").read_bytes()
    state = tmp_path / "state"

    def fresh():
        shutil.rmtree(state, ignore_errors=True)
        shutil.copytree(template, state)

    def step(d: Dev, k: int) -> bool:
        if k == 0:
            return d.mcumgrctl("image", "upload", "-q", str(v2)) is not None
        if k == 1:
            return d.mcumgrctl("image", "set-state", "--hash", h2) is not None
        return d.reset()

    fresh()
    d = Dev(state, log, pub, *mode, "--power-cut-after", str(10**12))
    assert d.next_boot()
    for k in range(len(STEPS)):
        assert step(d, k), f"uncut run died in {STEPS[k]}"
    want = d.state()
    assert list(want) == [0] and want[0]["active"] and want[0]["confirmed"], want
    assert d.stop() == 0
    total = int(TOTAL_LINE.search(log.read_text()).group(1))
    assert total > 10, total
    assert (state / "flash" / "slot0.bin").read_bytes() == factory

    bricked, lost, mismatched = [], [], []
    died_in = [0] * len(STEPS)
    ran_v2 = 0
    started = time.monotonic()
    for n in range(1, total + 1):
        fresh()
        log.write_text("")
        d = Dev(state, log, pub, *mode, "--power-cut-after", str(n))
        assert d.next_boot(), f"N={n}: no first boot"
        k = 0
        while k < len(STEPS) and step(d, k):
            k += 1
        assert k < len(STEPS), f"N={n} <= {total} but the sequence ran through"
        assert d.proc.wait(10) == -signal.SIGKILL
        cut = CUT_LINE.match(log.read_text().splitlines()[-1])
        assert cut and int(cut.group(1)) == n
        died_in[k] += 1
        d = Dev(state, log, pub, *mode)
        if not d.next_boot():
            bricked.append((n, STEPS[k]))
            d.stop()
            continue
        try:
            if (state / "flash" / "slot0.bin").read_bytes() != factory:
                lost.append((n, STEPS[k]))
            st = d.state()
            active = [s for s in st.values() if s["active"]]
            assert len(active) == 1 and hexhash(active[0]["hash"]) in (h1, h2), (n, st)
            # The restart is a reset: a v2 running under test has only its revert left.
            if hexhash(active[0]["hash"]) == h2:
                assert not active[0]["confirmed"], (n, st)
                ran_v2 += 1
                assert d.reset(), f"N={n}: died in the revert without a cut"
            got = d.state()
            if got != want:
                mismatched.append((n, STEPS[k], got))
        finally:
            assert d.stop() == 0, log.read_text()[-3000:]
    secs = time.monotonic() - started
    summary = (f"power-cut sweep (direct-xip-revert): {total} cuts tried in {secs:.0f} s "
               f"(by step: {dict(zip(STEPS, died_in))}; v2 running after the restart: "
               f"{ran_v2}); bricked {len(bricked)}, lost confirmed images {len(lost)}, "
               f"mismatching end states {len(mismatched)}")
    with capsys.disabled():
        print("\n" + summary)
    assert not bricked and not lost and not mismatched, (summary, bricked, lost, mismatched)
    # A cut in the test boot's copy_done write or later never leaves v2 for a second boot.
    assert died_in[2] >= 1 and died_in[3] >= 1, died_in


@pytest.mark.parametrize("mode", ["direct-xip", "direct-xip-revert"])
def test_mcumgrctl_firmware_update_in_each_direct_xip_mode(tmp_path, keys, mode):  # noqa: F811
    """mcumgrctl's whole DFU (`firmware update`: upload, mark, reset) ends with the new
    image running from slot 1, unconfirmed with revert, and slot 0 untouched."""
    key, pub, _ = keys
    v1 = (confirmed_image(tmp_path, key, "1.0.0") if mode == "direct-xip-revert"
          else make_image(tmp_path, key, "1.0.0", IMAGE_BYTES, SLOT))
    v2 = make_image(tmp_path, key, "2.0.0", IMAGE_BYTES, SLOT)
    d = start_device(tmp_path, "--swap-mode", mode, "--image", str(v1), "--key", str(pub),
                     *GEOMETRY)
    try:
        factory = slots(d.state)[0]
        d.mcumgrctl("firmware", "update", str(v2), timeout=120)
        deadline = time.monotonic() + 20
        while d.mcumgrctl("os", "echo", "up", check=False).returncode != 0:
            assert time.monotonic() < deadline, "no answer after the update's reset"
        st = smp_state(d)
        assert st[1].active and hexhash(st[1].hash) == tlv_hash(v2), st
        assert st[1].confirmed == (mode == "direct-xip"), st
        assert slots(d.state)[0] == factory
    finally:
        assert d.stop() == 0
