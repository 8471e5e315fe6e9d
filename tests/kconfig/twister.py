"""How Twister reads sample.yaml, as far as the checks here need it.

Derived from zephyr scripts/pylib/twister/twisterlib/config_parser.py (1fb8f65c),
TwisterConfigParser.get_scenario: a scenario starts from `common`; a key in both is merged,
not replaced, when either value is a list, or when both are strings of a list- or set-typed
key (platform_allow, integration_platforms, tags, extra_args, ...): the values are
concatenated. `filter` strings are joined with "and"; other scalars are replaced. CONF_FILE,
OVERLAY_CONFIG and DTC_OVERLAY_FILE in extra_args are deprecated (a DeprecationWarning) in
favour of extra_conf_files, extra_overlay_confs and extra_dtc_overlay_files.

The key names and types are those of scripts/schemas/twister/testsuite-schema.yaml
(c25a5761), which Twister validates each file against.
"""
import re

# TwisterConfigParser.testsuite_valid_keys (config_parser.py@1fb8f65c): key -> type.
KEY_TYPES = {
    "tags": "set", "type": "str", "extra_args": "list", "extra_configs": "list",
    "extra_conf_files": "list", "extra_overlay_confs": "list",
    "extra_dtc_overlay_files": "list", "required_snippets": "list", "build_only": "bool",
    "build_on_all": "bool", "skip": "bool", "slow": "bool", "timeout": "int",
    "min_ram": "int", "modules": "list", "depends_on": "set", "min_flash": "int",
    "arch_allow": "set", "arch_exclude": "set", "vendor_allow": "set",
    "vendor_exclude": "set", "extra_sections": "list", "integration_platforms": "list",
    "integration_toolchains": "list", "ignore_faults": "bool", "ignore_qemu_crash": "bool",
    "testcases": "list", "platform_type": "list", "platform_exclude": "set",
    "platform_allow": "set", "platform_key": "list", "simulation_exclude": "list",
    "toolchain_exclude": "set", "toolchain_allow": "set", "filter": "str", "levels": "list",
    "harness": "str", "harness_config": "map", "seed": "int", "sysbuild": "bool",
}
# scenario-schema mapping keys of testsuite-schema.yaml@c25a5761 (`seed` is not among them,
# so the schema refuses it although the parser knows it).
SCHEMA_KEYS = set(KEY_TYPES) - {"seed"} | {"expect_reboot"}
HARNESS_CONFIG_KEYS = {
    "power_measurements", "shell_commands_file", "shell_commands", "display_capture_config",
    "type", "fixture", "ordered", "pytest_root", "pytest_args", "pytest_dut_scope",
    "ctest_args", "regex", "robot_testsuite", "robot_option", "record", "bsim_exe_name",
    "ztest_suite_repeat", "ztest_test_repeat", "ztest_test_shuffle",
}
DEPRECATED_ARGS = ("CONF_FILE", "OVERLAY_CONFIG", "DTC_OVERLAY_FILE")
SCHEMA_TYPES = {"bool": bool, "int": int, "str": str, "map": dict}


def merged(common, scenario):
    """The scenario as get_scenario() builds it (before type casting)."""
    d = {k: (list(v) if isinstance(v, list) else v) for k, v in common.items()}
    for k, v in (scenario or {}).items():
        if k not in d:
            d[k] = v
        elif k == "filter":
            d[k] = f"({d[k]}) and ({v})"
        elif k in ("extra_conf_files", "extra_overlay_confs", "extra_dtc_overlay_files"):
            d[k] = list(common.get(k, [])) + list(v)
        elif isinstance(d[k], str) and isinstance(v, list):
            d[k] = [d[k]] + v
        elif isinstance(d[k], list) and isinstance(v, str):
            d[k] = d[k] + [v]
        elif isinstance(d[k], list) and isinstance(v, list):
            d[k] = d[k] + v
        elif isinstance(d[k], str) and isinstance(v, str):
            d[k] = v if KEY_TYPES.get(k) == "str" else [d[k], v]
        else:
            d[k] = v
    return d


def as_list(value):
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    return list(value)


def build_args(scenario):
    """EXTRA_CONF_FILE and DTC overlay files of a merged scenario, and the extra_args
    entries that are neither (extract_fields_from_arg_list splits a string on whitespace)."""
    conf, dtc, other = [], list(as_list(scenario.get("extra_dtc_overlay_files"))), []
    args = scenario.get("extra_args") or []
    for arg in args.split() if isinstance(args, str) else args:
        m = re.fullmatch(r'([A-Z_]+)="?([^"]*)"?', arg)
        if m and m.group(1) == "EXTRA_CONF_FILE":
            conf += m.group(2).split(";")
        elif m and m.group(1) == "EXTRA_DTC_OVERLAY_FILE":
            dtc += m.group(2).split(";")
        elif m and m.group(1) == "SB_EXTRA_CONF_FILE":
            pass  # sb_extra_conf()
        else:
            other.append(arg)
    return conf, dtc, other


def sb_extra_conf(scenario):
    """SB_EXTRA_CONF_FILE fragments of a merged scenario's extra_args: sysbuild merges them
    after SB_CONF_FILE (sysbuild.conf), share/sysbuild/cmake/modules/sysbuild_kconfig.cmake
    @ 27b524a2."""
    out = []
    args = scenario.get("extra_args") or []
    for arg in args.split() if isinstance(args, str) else args:
        m = re.fullmatch(r'([A-Z_]+)="?([^"]*)"?', arg)
        if m and m.group(1) == "SB_EXTRA_CONF_FILE":
            out += m.group(2).split(";")
    return out
