"""Helpers for driving smp-svr: smpclient (asyncio) on a non-default UDP port, and the
image steps with mcumgrctl (state, reset, the test upgrade)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from pathlib import Path

from smpclient import SMPClient
from smpclient.transport.serial import SMPSerialTransport
from smpclient.transport.udp import SMPUDPTransport


class UDP(SMPUDPTransport):
    """smpclient's UDP transport never passes a port to connect(); this one does."""

    def __init__(self, port: int):
        super().__init__(mtu=1500)
        self._p = port

    async def connect(self, address: str, timeout_s: float, port: int = 0) -> None:  # noqa: ARG002
        await super().connect(address, timeout_s, port=self._p)


def run(coro):
    return asyncio.run(coro)


async def with_udp(port: int, fn):
    async with SMPClient(UDP(port), "127.0.0.1") as client:
        return await fn(client)


async def with_serial(path: str, fn):
    async with SMPClient(SMPSerialTransport(), str(path)) as client:
        return await fn(client)


def tlv_hash(image: Path) -> str:
    """The hash `image state` shows, as `smp-svr image-info` reports it."""
    from conftest import SMP_SVR
    r = subprocess.run([SMP_SVR, "image-info", str(image)], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    fields = dict(line.split(": ", 1) for line in r.stdout.splitlines())
    assert fields["signature"] == "ecdsa-p256", fields
    return fields["hash"]


def images(device, serial=False):
    """mcumgrctl `image get-state`, keyed by (image, slot)."""
    out = device.mcumgrctl("--json", "image", "get-state", serial=serial).stdout
    return {(i.get("image", 0), i["slot"]): i for i in json.loads(out)}


def wait_up(device, serial=False):
    deadline = time.monotonic() + 10
    while device.mcumgrctl("os", "echo", "up", serial=serial, check=False).returncode != 0:
        assert time.monotonic() < deadline, "device did not come back after reset"


def reset(device, serial=False):
    device.mcumgrctl("os", "system-reset", serial=serial)
    time.sleep(0.4)
    wait_up(device, serial)


def upload_test_reset(device, image: Path, serial=False, timeout: float = 300) -> dict:
    """With mcumgrctl: uploads `image`, marks it for a test swap, resets, and returns the
    image state after the boot (see images()) for the caller to check which version runs."""
    device.mcumgrctl("image", "upload", "-q", str(image), serial=serial, timeout=timeout)
    device.mcumgrctl("image", "set-state", "--hash", tlv_hash(image), serial=serial)
    reset(device, serial)
    return images(device, serial)
