"""Helpers for driving smp-svr with smpclient (asyncio) on a non-default UDP port."""

from __future__ import annotations

import asyncio

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
