#!/usr/bin/env python3
"""Shows that tests/kconfig/check.py and sample_check.py fail where they must: each case
copies the application into a temporary directory, breaks one thing, and requires the
checker to fail with the expected message; the unmodified copy must pass both.

Usage: selftest.py APP_DIR
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

APP = os.path.abspath(sys.argv[1])
HERE = os.path.dirname(os.path.abspath(__file__))
CHECK = os.path.join(HERE, "check.py")
SAMPLE_CHECK = os.path.join(HERE, "sample_check.py")
FILES = ["Kconfig", "prj.conf", "sample.yaml", "sysbuild.conf", "west.yml", "boards"]
# and every overlay-*.conf, *.overlay and sysbuild-*.conf (copy_app)


def copy_app():
    tmp = tempfile.mkdtemp(prefix="kconfig-selftest-")
    for name in FILES + [f for f in os.listdir(APP) if re.fullmatch(r"overlay-.*\.conf|.*\.overlay|sysbuild-.*\.conf", f)]:
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
    ("direct-XIP as the application's mode (the image group does not wire the active slot)",
     lambda d: (edit(os.path.join(d, "prj.conf"), "CONFIG_MCUBOOT_BOOTLOADER_MODE_SWAP_USING_MOVE=y\n",
                     "CONFIG_MCUBOOT_BOOTLOADER_MODE_DIRECT_XIP=y\n"),
                edit(os.path.join(d, "sysbuild.conf"), "SB_CONFIG_MCUBOOT_MODE_SWAP_USING_MOVE=y\n", "")),
     r"glue: SMP_RS_GRP_IMG=y needs one of MCUBOOT_BOOTLOADER_MODE_SWAP_USING_MOVE, "),
    ("a sysbuild fragment naming an unmodelled symbol",
     lambda d: append(os.path.join(d, "sysbuild-offset.conf"), "SB_CONFIG_MCUBOOT_MODE_DIRECT_XIP=y\n"),
     r"sysbuild-offset.conf:\d+: SB_CONFIG_MCUBOOT_MODE_DIRECT_XIP is not in upstream-symbols.yaml"),
    ("littlefs without flash page layout",
     lambda d: edit(os.path.join(d, "prj.conf"), "CONFIG_STREAM_FLASH=y\n", ""),
     r"FILE_SYSTEM=y needs FS_LITTLEFS_FMP_DEV=y"),
    ("the image group without flash page layout",
     lambda d: edit(os.path.join(d, "prj.conf"), "CONFIG_STREAM_FLASH=y\n", ""),
     r"SMP_RS_GRP_IMG=y needs FLASH_PAGE_LAYOUT=y"),
    ("TAP Ethernet left on beside offloaded sockets",
     lambda d: edit(os.path.join(d, "overlay-udp-native-sim.conf"), "CONFIG_ETH_DRIVER=n\n", ""),
     r"NET_NATIVE_OFFLOADED_SOCKETS=y needs ETH_DRIVER=n"),
    ("platforms in common, joined with a scenario's",
     lambda d: edit(os.path.join(d, "sample.yaml"), "  build_only: true\n",
                    "  build_only: true\n  platform_allow:\n    - frdm_k64f\n"),
     r"sample.mcumgr.smp_svr_rs.bt: platform_allow .* also uses \['frdm_k64f'\]",
     SAMPLE_CHECK),
    ("an integration platform outside platform_allow",
     lambda d: edit(os.path.join(d, "sample.yaml"),
                    "      - frdm_k64f\n    integration_platforms:\n      - frdm_k64f\n",
                    "      - frdm_k64f\n    integration_platforms:\n      - nrf52840dk/nrf52840\n"),
     r"integration platform nrf52840dk/nrf52840 is not in its platform_allow", SAMPLE_CHECK),
    ("Zephyr on a branch instead of the release",
     lambda d: edit(os.path.join(d, "west.yml"), "revision: v4.4.0", "revision: main"),
     r"zephyr revision 'main' is not a release tag", SAMPLE_CHECK),
    ("a symbol whose upstream default we rely on, assigned",
     lambda d: append(os.path.join(d, "prj.conf"), "CONFIG_USBD_CDC_ACM_CLASS=y\n"),
     r"CONFIG_USBD_CDC_ACM_CLASS is modelled as not assigned by us"),
]


EXPECT_MODES = [
    r"^ok   sample\.mcumgr\.smp_svr_rs\.serial_swap_offset on nrf52840dk/nrf52840: .*"
    r"; MCUboot mode SWAP_USING_OFFSET$",
    r"^ok   sample\.mcumgr\.smp_svr_rs\.serial on nrf52840dk/nrf52840: .*"
    r"; MCUboot mode SWAP_USING_MOVE$",
]


def run(d, checker=CHECK):
    p = subprocess.run([sys.executable, checker, d], capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def main():
    failures = 0
    d = copy_app()
    for checker in (CHECK, SAMPLE_CHECK):
        rc, out = run(d, checker)
        if rc != 0:
            print(f"FAIL the unmodified copy does not pass {os.path.basename(checker)}:\n" + out)
            failures += 1
        else:
            print(f"ok   unmodified copy passes {os.path.basename(checker)}")
        # The mode each flavour ends up with: sysbuild-offset.conf (SB_EXTRA_CONF_FILE,
        # merged after sysbuild.conf) must win sysbuild's mode choice over sysbuild.conf's
        # move, the other flavours keep move.
        for want in EXPECT_MODES if checker == CHECK and rc == 0 else []:
            if not re.search(want, out, re.M):
                print(f"FAIL the unmodified copy's check.py output lacks /{want}/:\n" + out)
                failures += 1
            else:
                print(f"ok   check.py reports /{want}/")
    shutil.rmtree(d)
    for title, breakage, expect, *rest in CASES:
        checker = rest[0] if rest else CHECK
        d = copy_app()
        breakage(d)
        rc, out = run(d, checker)
        if rc == 0 or not re.search(expect, out):
            print(f"FAIL {title}: exit {rc}, expected /{expect}/ in:\n{out}")
            failures += 1
        else:
            print(f"ok   {title}: {os.path.basename(checker)} fails with /{expect}/")
        shutil.rmtree(d)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
