"""An image upload interrupted by a device restart, then carried on by a real client.

The upload session lives in the device's RAM (Zephyr's img_mgmt state), so after a restart
the device knows no upload: a continuation chunk is answered with offset 0, and a new
first chunk starts the upload again. What was half-written is erased and written again;
the image that ends in the slot is the whole image, and it boots.

Writes are slowed (`--flash-timing custom:0,60`, 60 µs per word) so that the upload of a
150 KB image takes a couple of seconds and the restart lands in its middle; the device's
progress log (every 10 %) tells when the middle is reached."""

from __future__ import annotations

import subprocess
import time

from conftest import MCUMGRCTL, start_device
from smp_helpers import images, reset, run, tlv_hash, with_udp
from test_img import keys, make_image  # noqa: F401  (fixture)

SLOW_WRITES = ["--flash-timing", "custom:0,60"]
SIZE = 150_000


def wait_log(d, text: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while text not in d.log.read_text():
        assert time.monotonic() < deadline, f"no {text!r} in the log"
        time.sleep(0.02)


def sessions(d, image) -> int:
    """How many upload sessions of `image` the device started (its `image upload: N bytes`
    line at each first chunk)."""
    line = f"image upload: {image.stat().st_size} bytes"
    return sum(1 for x in d.log.read_text().splitlines() if x.endswith(line))


def test_mcumgrctl_upload_survives_a_reset_mid_upload(tmp_path, keys):
    """mcumgrctl keeps uploading while the device resets (`os system-reset` from another
    client): its chunk sent while the board is down times out, its retry is answered with
    offset 0 by the rebooted device, and it starts over and completes."""
    key, pub, _ = keys
    v1, v2 = make_image(tmp_path, key, "1.0.0"), make_image(tmp_path, key, "2.0.0", SIZE)
    d = start_device(tmp_path, "--image", str(v1), "--key", str(pub), *SLOW_WRITES)
    try:
        up = subprocess.Popen([MCUMGRCTL, "--udp", d.udp, "-t", "3000", "image", "upload",
                               "-q", str(v2)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
        wait_log(d, "image upload: 50 %")
        boot = d.boot
        d.mcumgrctl("os", "system-reset")
        assert d.wait_ready() == boot + 1
        out, err = up.communicate(timeout=120)
        assert up.returncode == 0, err
        # The restart really was mid-upload: the upload began twice.
        assert sessions(d, v2) == 2, d.log.read_text()[-3000:]
        s1 = images(d)[(0, 1)]
        assert s1["version"] == "2.0.0" and s1["hash"] == tlv_hash(v2)
        assert boots_under_test(d, v2)["version"] == "2.0.0"
    finally:
        assert d.stop() == 0


def boots_under_test(d, image) -> dict:
    """Marks the uploaded `image` for test and resets; returns the running slot's state."""
    d.mcumgrctl("image", "set-state", "--hash", tlv_hash(image))
    reset(d)
    s0 = images(d)[(0, 0)]
    assert s0["active"] and not s0["confirmed"], s0
    return s0


def test_smpclient_upload_again_after_a_power_cut_mid_upload(tmp_path, keys):
    """smpclient uploads half an image, the device dies (SIGKILL, as a pulled cable) and
    is started again on the same state; smpclient's upload of the same image then starts
    over (the device answers its first chunk with that chunk's end, not the half it had)
    and completes."""
    key, pub, _ = keys
    v1, v2 = make_image(tmp_path, key, "1.0.0"), make_image(tmp_path, key, "2.0.0", SIZE)
    state = tmp_path / "state"
    data = v2.read_bytes()
    d = start_device(tmp_path, "--image", str(v1), "--key", str(pub), *SLOW_WRITES,
                     state=state)

    async def half(client):
        async for off in client.upload(data):
            if off >= len(data) // 2:
                return off
        raise AssertionError("the upload ended before its middle")

    reached = run(with_udp(d.udp_port, half))
    d.proc.kill()
    d.proc.wait(10)
    d = start_device(tmp_path, "--image", str(v1), "--key", str(pub), *SLOW_WRITES,
                     state=state)
    try:
        assert (0, 1) not in images(d)  # half an image is no image

        async def again(client):
            offsets = [off async for off in client.upload(data)]
            return offsets

        offsets = run(with_udp(d.udp_port, again))
        assert offsets[0] < reached and offsets[-1] == len(data), (offsets[:3], reached)
        # smpclient's upload() has checked the device's `match: true` (the streamed SHA-256);
        # the slot holds the image (its boot is checked in the mcumgrctl test above).
        assert images(d)[(0, 1)]["hash"] == tlv_hash(v2)
    finally:
        assert d.stop() == 0
