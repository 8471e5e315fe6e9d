#!/usr/bin/env python3
"""Checks sample.yaml and west.yml: both parse, every Twister scenario names platforms and
only files that exist (EXTRA_CONF_FILE, DTC_OVERLAY_FILE, EXTRA_DTC_OVERLAY_FILE), every
overlay-*.conf is used by some scenario, and the manifest names Zephyr and zephyr-lang-rust.

Usage: sample_check.py APP_DIR
"""
import glob
import os
import re
import sys

import yaml

APP = os.path.abspath(sys.argv[1])
errors = []

with open(os.path.join(APP, "sample.yaml")) as f:
    sample = yaml.safe_load(f)
common = sample.get("common", {})
used = set()
for name, scenario in sample["tests"].items():
    merged = {**common, **(scenario or {})}
    if not merged.get("platform_allow"):
        errors.append(f"{name}: no platform_allow")
    args = merged.get("extra_args", [])
    if isinstance(args, str):
        args = [args]
    for arg in args:
        m = re.fullmatch(r'(EXTRA_CONF_FILE|DTC_OVERLAY_FILE|EXTRA_DTC_OVERLAY_FILE)="?([^"]*)"?', arg)
        if not m:
            errors.append(f"{name}: unexpected extra_args entry {arg!r}")
            continue
        for file in m.group(2).split(";"):
            used.add(file)
            if not os.path.exists(os.path.join(APP, file)):
                errors.append(f"{name}: {file} does not exist")
for conf in glob.glob(os.path.join(APP, "overlay-*.conf")):
    if os.path.basename(conf) not in used:
        errors.append(f"{os.path.basename(conf)} is not built by any scenario")

with open(os.path.join(APP, "west.yml")) as f:
    manifest = yaml.safe_load(f)["manifest"]
names = {p["name"] for p in manifest["projects"]}
for need in ("zephyr", "zephyr-lang-rust"):
    if need not in names:
        errors.append(f"west.yml does not name {need}")

for e in errors:
    print("FAIL " + e)
if errors:
    sys.exit(1)
print(f"ok   sample.yaml ({len(sample['tests'])} scenarios) and west.yml")
