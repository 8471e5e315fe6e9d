"""Virtual Bluetooth LE for the tests: Bumble controllers on one simulated link, each behind a
Unix socket, one for smp-svr (`--ble unix:PATH`) and the others for clients (smpclient's
`SMPBumbleTransport(hci="unix:PATH")`).

Run as a program (`python ble_harness.py unix-server:A unix-server:B ...`) it is Bumble's
`bumble.apps.controllers` with two fixes for gaps in Bumble's controller (bumble
0.0.228, the version smpclient 7.3 pins; `bumble/controller.py`):

- `Controller.on_link_acl_data()` hands a whole L2CAP PDU to its host as one ACL packet
  (its source says "TODO: should fragment"). A host with a fixed receive buffer (bt-hci's
  `ExternalController` reads into 259 bytes: 4 header bytes + 255) fails on a PDU of an
  ATT MTU of 498. Here it is cut into packets of at most `le_acl_data_packet_length`
  bytes (first with packet-boundary flag 2, the rest 1), as a real controller does.
- the controllers report an LE ACL data length of 251 bytes (`le_acl_data_packet_length`,
  Bumble's default 27), the LE data length extension's maximum.

Bumble's HCI Reset does not clear a controller's state, so the fixture starts a fresh set
of controllers per test; its controller does not know LE Set Data Length (smp-svr treats
that refusal as harmless) and has no supervision timeout.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

ACL_LENGTH = 251


def patch_bumble() -> None:
    """Makes Bumble's controller fragment ACL data to its host."""
    from bumble import hci
    from bumble.controller import Controller
    from bumble.core import PhysicalTransport

    def on_link_acl_data(self, sender_address, transport, data: bytes) -> None:
        if transport == PhysicalTransport.LE:
            connection = self.le_connections.get(sender_address)
        else:
            connection = self.classic_connections.get(sender_address)
        if connection is None:
            return
        size = self.le_acl_data_packet_length
        for i in range(0, len(data), size):
            part = data[i:i + size]
            pb = 2 if i == 0 else 1
            self.send_hci_packet(hci.HCI_AclDataPacket(connection.handle, pb, 0, len(part), part))

    Controller.on_link_acl_data = on_link_acl_data


async def _serve(specs: list[str]) -> None:
    from bumble.controller import Controller
    from bumble.link import LocalLink
    from bumble.transport import open_transport

    link = LocalLink()
    keep = []
    for i, spec in enumerate(specs):
        t = await open_transport(spec)
        c = Controller(f"C{i}", host_source=t.source, host_sink=t.sink, link=link)
        c.le_acl_data_packet_length = ACL_LENGTH
        keep.append((t, c))
    print("controllers ready", flush=True)
    await asyncio.get_running_loop().create_future()


def free_tcp_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Controllers:
    """A running set of virtual controllers in `directory`, each reached as `kinds[name]`
    says: "unix" (a Unix socket server, the default), "tcp" (a TCP server on 127.0.0.1)
    or "pty" (a pseudo-terminal, as a UART controller's line)."""

    def __init__(self, directory: Path, names: list[str], kinds: dict[str, str] | None = None):
        kinds = kinds or {}
        self.specs: dict[str, str] = {}
        server: list[str] = []
        self.files: list[Path] = []
        for n in names:
            kind = kinds.get(n, "unix")
            if kind == "unix":
                p = directory / f"hci-{n}.sock"
                server.append(f"unix-server:{p}")
                self.specs[n] = f"unix:{p}"
                self.files.append(p)
            elif kind == "tcp":
                port = free_tcp_port()
                server.append(f"tcp-server:127.0.0.1:{port}")
                self.specs[n] = f"tcp:127.0.0.1:{port}"
            elif kind == "pty":
                p = directory / f"hci-{n}.tty"
                server.append(f"pty:{p}")
                self.specs[n] = f"serial:{p},1000000"
                self.files.append(p)
            else:
                raise ValueError(kind)
        log = open(directory / "controllers.log", "ab")
        self.proc = subprocess.Popen([sys.executable, __file__, *server],
                                     stdout=subprocess.PIPE, stderr=log, text=True)
        line = self.proc.stdout.readline()
        if "controllers ready" not in line:
            self.stop()
            raise RuntimeError(f"Bumble controllers did not start: {line!r}; "
                               f"see {directory / 'controllers.log'}")
        deadline = time.monotonic() + 10
        while not all(p.exists() for p in self.files):
            assert time.monotonic() < deadline, "controller sockets missing"
            time.sleep(0.02)

    def spec(self, name: str) -> str:
        """The spec of controller `name`: smp-svr's `--ble SPEC`; for a Unix socket also
        Bumble's client transport (`unix:PATH`)."""
        return self.specs[name]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for p in self.files:
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass


def main() -> None:
    if len(sys.argv) < 3:
        print("usage: ble_harness.py TRANSPORT TRANSPORT [TRANSPORT ...]  "
              "(e.g. unix-server:/tmp/a unix-server:/tmp/b)", file=sys.stderr)
        sys.exit(2)
    patch_bumble()
    asyncio.run(_serve(sys.argv[1:]))


if __name__ == "__main__":
    main()
