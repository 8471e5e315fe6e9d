#!/usr/bin/env python3
"""Checks sample.yaml and west.yml.

sample.yaml, read as Twister reads it (tests/kconfig/twister.py: the keys and types of
testsuite-schema.yaml, the common/scenario merge of config_parser.py):
- only keys the schema knows, with values of the schema's types;
- every scenario has platform_allow and integration_platforms, every integration platform
  is allowed (twister -G builds only integration platforms), and a scenario that lists its
  own platforms does not get more from `common` (Twister joins the two lists);
- no deprecated CONF_FILE / OVERLAY_CONFIG / DTC_OVERLAY_FILE in extra_args;
- the files named exist, and every overlay-*.conf is built by some scenario.

west.yml: Zephyr pinned to a release tag, zephyr-lang-rust to a commit, and the
name-allowlist holding the modules listed in upstream-symbols.yaml (west_modules).

Usage: sample_check.py APP_DIR
"""
import glob
import os
import re
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import twister  # noqa: E402

APP = os.path.abspath(sys.argv[1])
TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "upstream-symbols.yaml")
errors = []


def check_keys(where, block):
    for key, value in (block or {}).items():
        if key not in twister.SCHEMA_KEYS:
            errors.append(f"{where}: key {key!r} is not in Twister's testsuite schema")
            continue
        kind = twister.KEY_TYPES.get(key)
        want = twister.SCHEMA_TYPES.get(kind)
        if want is not None and not isinstance(value, want):
            errors.append(f"{where}: {key} must be a {kind}, not {type(value).__name__}")
        if key == "harness_config":
            for hk in value:
                if hk not in twister.HARNESS_CONFIG_KEYS:
                    errors.append(f"{where}: harness_config key {hk!r} is not in the schema")


with open(os.path.join(APP, "sample.yaml")) as f:
    sample = yaml.safe_load(f)
for top in sample:
    if top not in ("sample", "common", "tests"):
        errors.append(f"sample.yaml: top-level key {top!r} is not in the schema")
common = sample.get("common", {})
check_keys("common", common)
used = set()
for name, scenario in sample["tests"].items():
    if not re.fullmatch(r"[a-zA-Z0-9_.]+", name):
        errors.append(f"{name}: scenario names are letters, digits, '_' and '.'")
    check_keys(name, scenario)
    for key in ("platform_allow", "integration_platforms"):
        own, inherited = twister.as_list((scenario or {}).get(key)), twister.as_list(common.get(key))
        extra = [p for p in inherited if p not in own]
        if own and extra:
            errors.append(f"{name}: {key} {own} is joined with common's, so Twister also "
                          f"uses {extra} for it")
    merged = twister.merged(common, scenario)
    allow = twister.as_list(merged.get("platform_allow"))
    integration = twister.as_list(merged.get("integration_platforms"))
    if not allow:
        errors.append(f"{name}: no platform_allow")
    if not integration:
        errors.append(f"{name}: no integration_platforms (twister -G would build nothing)")
    for p in integration:
        if p not in allow:
            errors.append(f"{name}: integration platform {p} is not in its platform_allow "
                          f"{sorted(set(allow))} (Twister joins common's lists with the "
                          "scenario's)")
    conf, dtc, other = twister.build_args(merged)
    for arg in other:
        key = arg.split("=", 1)[0]
        if key in twister.DEPRECATED_ARGS:
            errors.append(f"{name}: {key} in extra_args is deprecated in Twister")
        else:
            errors.append(f"{name}: unexpected extra_args entry {arg!r}")
    for file in conf + dtc + twister.sb_extra_conf(merged):
        used.add(file)
        if not os.path.exists(os.path.join(APP, file)):
            errors.append(f"{name}: {file} does not exist")
for conf in glob.glob(os.path.join(APP, "overlay-*.conf")):
    if os.path.basename(conf) not in used:
        errors.append(f"{os.path.basename(conf)} is not built by any scenario")

with open(os.path.join(APP, "west.yml")) as f:
    manifest = yaml.safe_load(f)["manifest"]
with open(TABLE) as f:
    table = yaml.safe_load(f)
projects = {p["name"]: p for p in manifest["projects"]}
zephyr = projects.get("zephyr")
rust = projects.get("zephyr-lang-rust")
if zephyr is None or rust is None:
    errors.append("west.yml must name zephyr and zephyr-lang-rust")
else:
    rev = str(zephyr.get("revision", ""))
    if rev != table["zephyr_pin"]:
        errors.append(f"west.yml pins zephyr at {rev!r}, the model was read for "
                      f"{table['zephyr_pin']!r} (upstream-symbols.yaml zephyr_pin)")
    if not re.fullmatch(r"v\d+\.\d+\.\d+", rev):
        errors.append(f"west.yml: zephyr revision {rev!r} is not a release tag")
    if not re.fullmatch(r"[0-9a-f]{40}", str(rust.get("revision", ""))):
        errors.append("west.yml: zephyr-lang-rust must be pinned to a full commit")
    allow = set(zephyr.get("import", {}).get("name-allowlist", []))
    for module in table.get("west_modules", []):
        if module["name"] not in allow:
            errors.append(f"west.yml: name-allowlist lacks {module['name']} ({module['why']})")

for e in errors:
    print("FAIL " + e)
if errors:
    sys.exit(1)
print(f"ok   sample.yaml ({len(sample['tests'])} scenarios) and west.yml "
      f"(zephyr {zephyr['revision']}, {len(allow)} modules)")
