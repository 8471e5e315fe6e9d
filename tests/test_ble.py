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


def client(radio: Controllers, name: str = "a", mtu: int = 498, **kw) -> SMPClient:
    t = SMPBumbleTransport(hci=radio.spec(name), preferred_mtu=mtu, **kw)
    return SMPClient(t, NAME, timeout_s=10)


def run(coro):
    return asyncio.run(coro)


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
