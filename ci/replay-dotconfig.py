#!/usr/bin/env python3
"""Writes the .config a `west build` of this application would give rustapp, for
ci/cargo-replay.sh: our Kconfig evaluated by kconfiglib (the library Zephyr's own
scripts/kconfig/kconfig.py uses) over prj.conf, the board's boards/<board>.conf, the
overlays and a fragment with the board's CPU symbols, with the Zephyr symbols stood in for
as tests/kconfig/check.py does. Defaults are resolved as in a real .config, so the file
has every CONFIG_SMP_RS_* value build.rs reads.

One rule of Zephyr's Kconfig is modelled because the Rust target depends on it: the
"Floating point ABI" choice of arch/arm/core/Kconfig (zephyrproject-rtos/zephyr, read at
d828f52fa4ccc8033b83a81ccb148ed9d9af21d3) depends on FPU and defaults to FP_HARDABI, so
CONFIG_FP_HARDABI=y is written exactly when the fragments enable CONFIG_FPU and do not pick
CONFIG_FP_SOFTABI.

Usage: replay-dotconfig.py APP_DIR OUT_CONFIG FRAGMENT...
(fragments relative to APP_DIR or absolute, in Zephyr's order; a later assignment wins)
"""
import os
import sys

app, out, fragments = os.path.abspath(sys.argv[1]), sys.argv[2], sys.argv[3:]

sys.path.insert(0, os.path.join(app, "tests", "kconfig"))
sys.argv = [sys.argv[0], app]  # check.py reads the application directory from argv
import check  # noqa: E402
import kconfiglib  # noqa: E402

confs = [f if os.path.isabs(f) else os.path.join(app, f) for f in fragments]
merged = {}
for path in confs:
    merged.update(check.assignments(path))
extra = []
if merged.get("FPU") == "y" and merged.get("FP_SOFTABI") != "y":
    extra.append("CONFIG_FP_HARDABI=y\n")
if extra:
    abi = out + ".fpabi.conf"
    with open(abi, "w") as f:
        f.writelines(extra)
    confs.append(abi)

tree = check.stub_tree(confs)
os.environ["srctree"] = tree
sys.path.insert(0, tree)
kconf = kconfiglib.Kconfig(os.path.join(app, "Kconfig"), warn=False)
for c in confs:
    kconf.load_config(c, replace=False)
kconf.write_config(out)
