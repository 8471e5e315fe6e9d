#!/usr/bin/env python3
"""Writes the .config a `west build` of this application would give rustapp on one board,
for ci/cargo-replay.sh, and prints the Twister scenario and fragments it used.

The scenario is the first of sample.yaml that allows the board. Its fragments are merged
and our Kconfig evaluated with kconfiglib (the library Zephyr's scripts/kconfig/kconfig.py
uses) exactly as tests/kconfig/check.py does (its model of the Zephyr symbols, the board's
environment, sysbuild's settings for the image), so defaults are resolved as in a real
.config and the file has every CONFIG_SMP_RS_* value build.rs reads.

The model has no CPU symbols, so the board's (CPU_FRAGMENT, from ci/cargo-replay.sh's
table) are appended to the written file. One rule of Zephyr's Kconfig is modelled because
the Rust target depends on it: the "Floating point ABI" choice of arch/arm/core/Kconfig
(zephyrproject-rtos/zephyr, read at d828f52fa4ccc8033b83a81ccb148ed9d9af21d3) depends on
FPU and defaults to FP_HARDABI, so CONFIG_FP_HARDABI=y is appended exactly when a fragment
enables CONFIG_FPU and none picks CONFIG_FP_SOFTABI.

Usage: replay-dotconfig.py APP_DIR PLATFORM OUT_CONFIG CPU_FRAGMENT
"""
import os
import shutil
import sys
import tempfile

app, platform, out, cpu_fragment = sys.argv[1:5]
app = os.path.abspath(app)
here = os.path.join(app, "tests", "kconfig")
sys.path.insert(0, here)
import check  # noqa: E402
import kconfiglib  # noqa: E402

model = check.Model(os.path.join(here, "upstream-symbols.yaml"))
found = [s for s in check.scenarios(app) if s[1] == platform]
if not found:
    sys.exit(f"no scenario of sample.yaml allows {platform}")
name, _, extra_conf, dtc, sysbuild, sb_extra = found[0]
board = platform.replace("/", "_")

# The fragments in Zephyr's order, as check.check() merges them.
fragments = [os.path.join(app, "prj.conf")]
board_conf = os.path.join(app, "boards", board + ".conf")
if os.path.exists(board_conf):
    fragments.append(board_conf)
fragments += [os.path.join(app, c) for c in extra_conf]
inputs = list(fragments)
work = tempfile.mkdtemp(prefix="replay-dotconfig-")
if sysbuild:
    sb_values, sb_errors = check.sysbuild_values(app, model, sb_extra)
    if sb_errors:
        sys.exit("\n".join(sb_errors))
    lines = check.sysbuild_app_lines(model, sb_values)
    sb_fragment = os.path.join(work, "sysbuild.conf")
    with open(sb_fragment, "w") as f:
        f.write("\n".join(lines) + "\n")
    inputs.append(sb_fragment)

dt_facts = {}
if any(os.path.basename(d) == "usb.overlay" for d in dtc):
    dt_facts["DT_HAS_ZEPHYR_CDC_ACM_UART_ENABLED"] = "y"
tree = check.stub_tree(model, model.environment(board, dt_facts))
os.environ["srctree"] = tree
sys.path.insert(0, tree)
try:
    kconf = kconfiglib.Kconfig(os.path.join(app, "Kconfig"), warn_to_stderr=False)
finally:
    sys.path.remove(tree)
    shutil.rmtree(tree)
kconf.load_config(inputs[0])
for frag in inputs[1:]:
    kconf.load_config(frag, replace=False)
kconf.write_config(out)
shutil.rmtree(work)

merged = {}
for frag in fragments:
    for sym, value, _ in check.assignments(frag):
        merged[sym] = value
with open(cpu_fragment) as f:
    extra = [line for line in f if line.startswith("CONFIG_")]
if merged.get("FPU") == "y" and merged.get("FP_SOFTABI") != "y":
    extra.append("CONFIG_FP_HARDABI=y\n")
with open(out, "a") as f:
    f.write("\n# Board CPU symbols (ci/cargo-replay.sh)\n")
    f.writelines(extra)
print(f"{name}: " + " ".join(os.path.relpath(x, app) for x in fragments)
      + (" + sysbuild.conf" if sysbuild else "")
      + "".join(f" + {x}" for x in (sb_extra if sysbuild else [])))
