#!/usr/bin/env python3
"""Shows that tests/kconfig/check.py fails where it must: each case copies the application
into a temporary directory, breaks one thing, and requires check.py to fail with the
expected message; the unmodified copy must pass.

Usage: selftest.py APP_DIR
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

APP = os.path.abspath(sys.argv[1])
CHECK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check.py")
FILES = ["Kconfig", "prj.conf", "sample.yaml", "sysbuild.conf", "boards"]


def copy_app():
    tmp = tempfile.mkdtemp(prefix="kconfig-selftest-")
    for name in FILES + [f for f in os.listdir(APP) if re.fullmatch(r"overlay-.*\.conf|.*\.overlay", f)]:
        src = os.path.join(APP, name)
        (shutil.copytree if os.path.isdir(src) else shutil.copy)(src, os.path.join(tmp, name))
    return tmp


def edit(path, old, new):
    with open(path) as f:
        text = f.read()
    if old not in text:
        raise SystemExit(f"selftest: {old!r} not in {path}; update the case")
    with open(path, "w") as f:
        f.write(text.replace(old, new))


def append(path, text):
    with open(path, "a") as f:
        f.write(text)


CASES = [
    ("no image manager: boot_* would not be compiled",
     lambda d: edit(os.path.join(d, "prj.conf"), "CONFIG_IMG_MANAGER=y\n", ""),
     r"BOOTLOADER_MCUBOOT=y needs MCUBOOT_IMG_MANAGER=y"),
    ("no bootutil library: the MCUboot util log level is dead",
     lambda d: edit(os.path.join(d, "prj.conf"), "CONFIG_MCUBOOT_BOOTUTIL_LIB=y\n", ""),
     r"CONFIG_MCUBOOT_UTIL_LOG_LEVEL_WRN=y was not selected.*unmet: MCUBOOT_BOOTUTIL_LIB"),
    ("an unknown symbol",
     lambda d: append(os.path.join(d, "prj.conf"), "CONFIG_NOT_A_ZEPHYR_SYMBOL=y\n"),
     r"CONFIG_NOT_A_ZEPHYR_SYMBOL is not in tests/kconfig/upstream-symbols.yaml"),
    ("a value of the wrong type",
     lambda d: append(os.path.join(d, "prj.conf"), "CONFIG_MAIN_STACK_SIZE=y\n"),
     r"CONFIG_MAIN_STACK_SIZE=y is not a int value"),
    ("a dependency left out",
     lambda d: edit(os.path.join(d, "overlay-udp.conf"), "CONFIG_NETWORKING=y\n", ""),
     r"CONFIG_NET_UDP=y did not take \(got 'n'\); unmet: NETWORKING"),
    ("a board fragment undone by an overlay",
     lambda d: append(os.path.join(d, "boards", "frdm_k64f.conf"), "CONFIG_NET_IPV6=n\n"),
     r"boards/frdm_k64f.conf:\d+: CONFIG_NET_IPV6=n is overridden by overlay-udp.conf"),
    ("swap-using-offset left as the mode",
     lambda d: (edit(os.path.join(d, "prj.conf"), "CONFIG_MCUBOOT_BOOTLOADER_MODE_SWAP_USING_MOVE=y\n", ""),
                edit(os.path.join(d, "sysbuild.conf"), "SB_CONFIG_MCUBOOT_MODE_SWAP_USING_MOVE=y\n", "")),
     r"needs MCUBOOT_BOOTLOADER_MODE_SWAP_USING_MOVE=y"),
    ("littlefs without flash page layout",
     lambda d: edit(os.path.join(d, "prj.conf"), "CONFIG_STREAM_FLASH=y\n", ""),
     r"FILE_SYSTEM=y needs FS_LITTLEFS_FMP_DEV=y"),
    ("the image group without flash page layout",
     lambda d: edit(os.path.join(d, "prj.conf"), "CONFIG_STREAM_FLASH=y\n", ""),
     r"SMP_RS_GRP_IMG=y needs FLASH_PAGE_LAYOUT=y"),
    ("TAP Ethernet left on beside offloaded sockets",
     lambda d: edit(os.path.join(d, "overlay-udp-native-sim.conf"), "CONFIG_ETH_DRIVER=n\n", ""),
     r"NET_NATIVE_OFFLOADED_SOCKETS=y needs ETH_DRIVER=n"),
    ("a symbol whose upstream default we rely on, assigned",
     lambda d: append(os.path.join(d, "prj.conf"), "CONFIG_USBD_CDC_ACM_CLASS=y\n"),
     r"CONFIG_USBD_CDC_ACM_CLASS is modelled as not assigned by us"),
]


def run(d):
    p = subprocess.run([sys.executable, CHECK, d], capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def main():
    failures = 0
    d = copy_app()
    rc, out = run(d)
    if rc != 0:
        print("FAIL the unmodified copy does not pass:\n" + out)
        failures += 1
    else:
        print("ok   unmodified copy passes")
    shutil.rmtree(d)
    for title, breakage, expect in CASES:
        d = copy_app()
        breakage(d)
        rc, out = run(d)
        if rc == 0 or not re.search(expect, out):
            print(f"FAIL {title}: exit {rc}, expected /{expect}/ in:\n{out}")
            failures += 1
        else:
            print(f"ok   {title}: check.py fails with /{expect}/")
        shutil.rmtree(d)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
