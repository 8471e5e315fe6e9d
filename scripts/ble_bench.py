"""DFU throughput over Bluetooth LE on Bumble's virtual link (tests/ble_harness.py): an image
upload with smpclient's Bumble transport at ATT MTU 247 and 498, fresh controllers and a fresh
device per run. Measures; asserts nothing.

usage: ble_bench.py SMP_SVR IMAGE [MTU ...]
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from ble_harness import Controllers  # noqa: E402

from smpclient import SMPClient  # noqa: E402
from smpclient.transport.bumble import SMPBumbleTransport  # noqa: E402
from smpclient.transport.bumble.keystore import InMemory  # noqa: E402


async def upload(spec: str, mtu: int, image: bytes) -> float:
    t = SMPBumbleTransport(hci=spec, preferred_mtu=mtu, keystore=InMemory())
    async with SMPClient(t, "smp-svr-bench", timeout_s=10) as c:
        t0 = time.perf_counter()
        async for _ in c.upload(image):
            pass
        return time.perf_counter() - t0


def main() -> None:
    smp_svr, image = sys.argv[1], Path(sys.argv[2]).read_bytes()
    mtus = [int(m) for m in sys.argv[3:]] or [247, 498]
    for mtu in mtus:
        with tempfile.TemporaryDirectory() as d:
            d = Path(d)
            radio = Controllers(d, ["dev", "client"])
            out = open(d / "out", "w")
            dev = subprocess.Popen([smp_svr, "--state", str(d / "state"), "--no-udp",
                                    "--slot-size", "0x140000", "--ble", radio.spec("dev"),
                                    "--ble-name", "smp-svr-bench"],
                                   stdout=out, stderr=open(d / "log", "w"))
            try:
                deadline = time.monotonic() + 20
                while "ble advertising" not in (d / "out").read_text():
                    assert time.monotonic() < deadline, (d / "log").read_text()[-2000:]
                    time.sleep(0.05)
                s = asyncio.run(upload(radio.spec("client"), mtu, image))
                label = f"image upload {len(image) // 1024} KiB, BLE ATT MTU {mtu} (smpclient)"
                print(f"{label:<44} {s:7.2f} s {len(image) / s / 1024:9.1f} KiB/s", flush=True)
            finally:
                dev.terminate()
                dev.wait(10)
                radio.stop()


if __name__ == "__main__":
    main()
