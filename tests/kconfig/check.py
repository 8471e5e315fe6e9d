#!/usr/bin/env python3
"""Checks the application's Kconfig and its .conf fragments with kconfiglib, without Zephyr.

Zephyr's own symbols are stood in for by a generated Kconfig.zephyr that declares every
non-SMP_RS symbol the fragments assign (with the type its value implies) and the few our
Kconfig depends on. For each build flavour of sample.yaml (prj.conf, the board fragment,
the overlays), the final CONFIG_SMP_RS_* assignments must take effect: an option whose
dependencies are not met, a typo, or a value out of range fails the check.

Usage: check.py APP_DIR
"""
import os
import re
import sys
import tempfile

import kconfiglib

APP = os.path.abspath(sys.argv[1])

# Zephyr symbols our Kconfig depends on or selects, with the values a real tree would give.
DEPENDED_ON = {
    "SERIAL_SUPPORT_INTERRUPT": ("bool", "y"),
    "UART_INTERRUPT_DRIVEN": ("bool", None),
    "BT_SMP": ("bool", None),
    "SETTINGS": ("bool", None),
    "SETTINGS_RUNTIME": ("bool", None),
    "STATS": ("bool", None),
    "FLASH_MAP": ("bool", None),
    "BOOTLOADER_MCUBOOT": ("bool", None),
    "FILE_SYSTEM": ("bool", None),
    "SHELL_BACKEND_DUMMY": ("bool", None),
    "BT_PERIPHERAL": ("bool", None),
    "NET_SOCKETS": ("bool", None),
    "NET_UDP": ("bool", None),
    "NET_IPV4": ("bool", None),
    "NET_IPV6": ("bool", None),
    "SERIAL": ("bool", None),
}

FLAVOURS = {
    "bt": ["overlay-bt.conf"],
    "udp": ["overlay-udp.conf"],
    "serial": ["overlay-serial.conf"],
    "cdc": ["overlay-cdc.conf"],
    "shell": ["overlay-shell.conf"],
    "shell_mgmt": ["overlay-serial.conf", "overlay-shell-mgmt.conf"],
    "fs": ["overlay-bt.conf", "overlay-fs.conf"],
}
BOARDS = [None, "nrf52dk_nrf52832", "nrf52840dk_nrf52840", "frdm_k64f", "native_sim_native_64"]

ASSIGN = re.compile(r"^CONFIG_([A-Za-z0-9_]+)=(.*)$")


def assignments(path):
    out = {}
    with open(path) as f:
        for line in f:
            m = ASSIGN.match(line.strip())
            if m:
                out[m.group(1)] = m.group(2)
    return out


def stub_tree(confs):
    tree = tempfile.mkdtemp()
    symbols = dict(DEPENDED_ON)
    for path in confs:
        for name, value in assignments(path).items():
            if name.startswith("SMP_RS_") or name in symbols:
                continue
            if value in ("y", "n"):
                symbols[name] = ("bool", None)
            elif re.fullmatch(r"-?(0x[0-9a-fA-F]+|\d+)", value):
                symbols[name] = ("hex" if value.startswith("0x") else "int", None)
            else:
                symbols[name] = ("string", None)
    with open(os.path.join(tree, "Kconfig.zephyr"), "w") as f:
        for name, (kind, default) in sorted(symbols.items()):
            f.write(f'config {name}\n\t{kind} "{name}"\n')
            if default:
                f.write(f"\tdefault {default}\n")
    os.makedirs(os.path.join(tree, "subsys/logging"))
    with open(os.path.join(tree, "subsys/logging/Kconfig.template.log_config"), "w") as f:
        f.write('config $(module)_LOG_LEVEL\n\tint "$(module-str) log level"\n\tdefault 3\n')
    with open(os.path.join(tree, "kconfigfunctions.py"), "w") as f:
        f.write(
            "def dt_chosen_enabled(kconf, name, chosen):\n"
            "    return 'y'\n"
            "functions = {'dt_chosen_enabled': (dt_chosen_enabled, 1, 1)}\n"
        )
    return tree


def check(flavour, overlays, board):
    # Zephyr's order: prj.conf, then the application's boards/<board>.conf, then the
    # EXTRA_CONF_FILE fragments; a later assignment wins.
    confs = [os.path.join(APP, "prj.conf")]
    if board:
        confs.append(os.path.join(APP, "boards", board + ".conf"))
    confs += [os.path.join(APP, o) for o in overlays]
    tree = stub_tree(confs)
    os.environ["srctree"] = tree
    sys.path.insert(0, tree)
    sys.modules.pop("kconfigfunctions", None)
    kconf = kconfiglib.Kconfig(os.path.join(APP, "Kconfig"), warn=False)
    sys.path.remove(tree)
    for c in confs:
        kconf.load_config(c, replace=False)
    final = {}
    for path in confs:
        for name, value in assignments(path).items():
            final[name] = (path, value)
    errors = []
    for name, (path, value) in final.items():
        if not name.startswith("SMP_RS_"):
            continue
        sym = kconf.syms.get(name)
        if sym is None or sym.nodes == []:
            errors.append(f"{os.path.basename(path)}: CONFIG_{name} is not defined")
            continue
        want = value.strip('"')
        got = sym.str_value
        if sym.type in (kconfiglib.INT, kconfiglib.HEX):
            ok = int(got, 0) == int(want, 0)
        else:
            ok = got == want
        if not ok:
            errors.append(
                f"{os.path.basename(path)}: CONFIG_{name}={value} did not take "
                f"(got {got!r}; unmet dependencies?)"
            )
    label = f"{flavour} on {board or 'any board'}"
    if errors:
        print(f"FAIL {label}")
        for e in errors:
            print("    " + e)
        return False
    print(f"ok   {label}: " + ", ".join(
        f"{s.name}={s.str_value}" for s in kconf.unique_defined_syms
        if s.name.startswith("SMP_RS_GRP_") or s.name.startswith("SMP_RS_TRANSPORT_")
        if s.str_value == "y"))
    return True


def main():
    good = True
    for flavour, overlays in FLAVOURS.items():
        for board in BOARDS:
            good &= check(flavour, overlays, board)
    sys.exit(0 if good else 1)


if __name__ == "__main__":
    main()
