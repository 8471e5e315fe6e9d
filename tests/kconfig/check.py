#!/usr/bin/env python3
"""Checks the application's Kconfig fragments for every Twister scenario, without Zephyr.

The Zephyr symbols are stood in for by a Kconfig tree generated from
tests/kconfig/upstream-symbols.yaml: each symbol our fragments assign, with the type and the
dependencies read in upstream's Kconfig file (commit named there), the choices they belong
to, and per-board facts. For every scenario of sample.yaml and every platform it allows, the
fragments are merged in Zephyr's order (cmake/modules/kconfig.cmake: CONF_FILE = prj.conf and
boards/<board>.conf, then EXTRA_CONF_FILE, then what sysbuild sets in the image from
sysbuild.conf and the scenario's SB_EXTRA_CONF_FILE) and checked
as scripts/kconfig/kconfig.py checks handwritten fragments, but strictly:

- every assigned non-SMP_RS symbol is in the table, with a value of its type;
- assignments to undefined or promptless symbols fail (kconfig.py aborts on both);
- every assignment takes effect, choice selections included (kconfig.py warns; here it is
  an error), and the failure names the unmet dependencies;
- a board fragment's assignment is not overridden by a later EXTRA_CONF_FILE fragment
  (the board file could not do what it says);
- every dependency of the modelled symbols is itself modelled (no silent stand-ins);
- what the C glue calls is compiled, and the build can run where it is meant to: the
  table's `glue` rules hold (`needs: [X]` wants X=y, `["!X"]` wants X=n, `needs_any` one
  of its symbols y).

Usage: check.py APP_DIR [--table FILE]
"""
import argparse
import os
import re
import shutil
import sys
import tempfile

import kconfiglib
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import twister  # noqa: E402

ASSIGN = re.compile(r"^(CONFIG_|SB_CONFIG_)([A-Za-z0-9_]+)=(.*)$")
UNSET = re.compile(r"^# (CONFIG_)([A-Za-z0-9_]+) is not set$")


def assignments(path):
    """(name, value, line number) of each CONFIG_ assignment, in file order."""
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            m = ASSIGN.match(line)
            if m and m.group(1) == "CONFIG_":
                out.append((m.group(2), m.group(3), n))
            m = UNSET.match(line)
            if m:
                out.append((m.group(2), "n", n))
    return out


def sb_assignments(path):
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            m = ASSIGN.match(line.strip())
            if m and m.group(1) == "SB_CONFIG_":
                out.append(("SB_CONFIG_" + m.group(2), m.group(3), n))
    return out


def value_fits(kind, value):
    if kind == "bool":
        return value in ("y", "n")
    if kind == "int":
        return re.fullmatch(r"-?\d+", value) is not None
    if kind == "hex":
        return re.fullmatch(r"0[xX][0-9a-fA-F]+", value) is not None
    if kind == "string":
        return len(value) >= 2 and value[0] == value[-1] == '"'
    return False


class Model:
    def __init__(self, path):
        with open(path) as f:
            data = yaml.safe_load(f)
        self.symbols = {s["name"]: s for s in data["symbols"]}
        self.choices = {c["name"]: c for c in data.get("choices", [])}
        self.sysbuild = {s["name"]: s for s in data.get("sysbuild", [])}
        self.env = data["environment"]
        self.glue = data.get("glue", [])
        for s in self.symbols.values():
            if s.get("choice") and s["choice"] not in self.choices:
                raise SystemExit(f"{path}: {s['name']} names unknown choice {s['choice']}")

    def environment(self, board, dt_facts):
        env = dict(self.env.get("all", {}))
        if board not in self.env:
            raise SystemExit(f"upstream-symbols.yaml: no environment for board {board}")
        env.update(self.env[board])
        env.update(dt_facts)
        return env

    def kconfig_text(self, env):
        """The stand-in Kconfig.zephyr for one board."""
        out = []
        for name, value in sorted(env.items()):
            if name in self.symbols:
                raise SystemExit(f"{name} is both a table symbol and an environment fact")
            out.append(f"config {name}\n\tbool\n" + ("\tdefault y\n" if value == "y" else ""))

        def body(s):
            lines = [f"\t{s['type']}" + (f' "{s["name"]}"' if s.get("prompt", True) else "")]
            if s.get("depends", "y") not in ("y", None):
                lines.append(f"\tdepends on {s['depends']}")
            for sel in s.get("selects", []):
                lines.append(f"\tselect {sel}")
            if "default" in s:
                lines.append(f"\tdefault {s['default']}")
            if "range" in s:
                lines.append(f"\trange {s['range'][0]} {s['range'][1]}")
            return "\n".join(lines) + "\n"

        members = {}
        for s in self.symbols.values():
            if s.get("choice"):
                members.setdefault(s["choice"], []).append(s)
            else:
                out.append(f"config {s['name']}\n" + body(s))
        for name, c in self.choices.items():
            out.append(f'choice {name}\n\tprompt "{name}"\n')
            if c.get("depends", "y") != "y":
                out.append(f"\tdepends on {c['depends']}\n")
            out.append(f"\tdefault {c['default']}\n")
            listed = {s["name"] for s in members.get(name, [])}
            for s in members.get(name, []):
                out.append(f"config {s['name']}\n" + body(s))
            for extra in c.get("extra_options", []) + [c["default"]]:
                if extra not in listed:
                    listed.add(extra)
                    out.append(f'config {extra}\n\tbool "{extra}"\n')
            out.append("endchoice\n")
        return "\n".join(out)


LOG_TEMPLATE = """\
choice
\tprompt "Max compiled-in log level for $(module-str)"
\tdefault $(module)_LOG_LEVEL_INF
\tdepends on LOG

config $(module)_LOG_LEVEL_OFF
\tbool "Off"

config $(module)_LOG_LEVEL_ERR
\tbool "Error"

config $(module)_LOG_LEVEL_WRN
\tbool "Warning"

config $(module)_LOG_LEVEL_INF
\tbool "Info"

config $(module)_LOG_LEVEL_DBG
\tbool "Debug"

endchoice

config $(module)_LOG_LEVEL
\tint
\tdepends on LOG
\tdefault 0 if $(module)_LOG_LEVEL_OFF
\tdefault 1 if $(module)_LOG_LEVEL_ERR
\tdefault 2 if $(module)_LOG_LEVEL_WRN
\tdefault 3 if $(module)_LOG_LEVEL_INF
\tdefault 4 if $(module)_LOG_LEVEL_DBG
"""
# ^ subsys/logging/Kconfig.template.log_config as read at zephyr 0ab6da1e (the structure the
#   SMP_RS module of our Kconfig sources).


def stub_tree(model, env):
    tree = tempfile.mkdtemp(prefix="kconfig-stub-")
    with open(os.path.join(tree, "Kconfig.zephyr"), "w") as f:
        f.write(model.kconfig_text(env))
    os.makedirs(os.path.join(tree, "subsys/logging"))
    with open(os.path.join(tree, "subsys/logging/Kconfig.template.log_config"), "w") as f:
        f.write(LOG_TEMPLATE)
    with open(os.path.join(tree, "kconfigfunctions.py"), "w") as f:
        # $(dt_chosen_enabled,zephyr,uart-mcumgr): the boards choose uart0 (nrf52dk_nrf52832.dts
        # f1073406, nrf52840dk_nrf52840.dts db8b2135, frdm_k64f.dts 7abba6cd), usb.overlay the
        # CDC-ACM UART; dts-check.sh covers the overlays themselves.
        f.write(
            "def dt_chosen_enabled(kconf, name, chosen):\n"
            "    return 'y'\n"
            "functions = {'dt_chosen_enabled': (dt_chosen_enabled, 1, 1)}\n"
        )
    return tree


def scenarios(app):
    """(name, platform, EXTRA_CONF_FILE list, DTC overlays, sysbuild) per scenario and
    allowed platform, with common merged in as Twister merges it (twister.py)."""
    with open(os.path.join(app, "sample.yaml")) as f:
        sample = yaml.safe_load(f)
    common = sample.get("common", {})
    for name, scenario in sample["tests"].items():
        merged = twister.merged(common, scenario)
        conf, dtc, _ = twister.build_args(merged)
        sb_extra = twister.sb_extra_conf(merged)
        for platform in dict.fromkeys(twister.as_list(merged.get("platform_allow"))):
            yield name, platform, conf, dtc, bool(merged.get("sysbuild", False)), sb_extra


def sysbuild_app_lines(model, sb_values):
    """The CONFIG_ lines sysbuild sets in the application image for the SB_CONFIG_ values
    `sb_values` (MAIN_image_default.cmake: each setting applies only under its `requires`,
    the mode under SB_CONFIG_BOOTLOADER_MCUBOOT; `sets_app_off` applies otherwise)."""
    lines = []
    for sb, entry in model.sysbuild.items():
        needed = entry.get("requires")
        on = sb_values.get(sb) == "y" and (needed is None or sb_values.get(needed) == "y")
        settings = entry.get("sets_app", {}) if on else entry.get("sets_app_off", {})
        lines += [f"CONFIG_{k}={v}" for k, v in settings.items()]
    return lines


def sysbuild_values(app, model, sb_extra=()):
    """The SB_CONFIG_ values of sysbuild.conf, then of each SB_EXTRA_CONF_FILE fragment
    (merged after it, sysbuild_kconfig.cmake), and the errors found: y on a member of a
    modelled choice deselects the others, as in Kconfig."""
    values, errors = {}, []
    for sb_file in ["sysbuild.conf"] + list(sb_extra):
        for sb, value, n in sb_assignments(os.path.join(app, sb_file)):
            if sb not in model.sysbuild:
                errors.append(f"{sb_file}:{n}: {sb} is not in upstream-symbols.yaml")
                continue
            group = model.sysbuild[sb].get("choice")
            if group and value == "y":
                for other, entry in model.sysbuild.items():
                    if entry.get("choice") == group:
                        values[other] = "n"
            values[sb] = value
    return values, errors


def check(app, model, name, platform, extra_conf, dtc, sysbuild, sb_extra=()):
    board = platform.replace("/", "_")
    errors = []
    fragments = [os.path.join(app, "prj.conf")]
    board_conf = os.path.join(app, "boards", board + ".conf")
    if os.path.exists(board_conf):
        fragments.append(board_conf)
    fragments += [os.path.join(app, c) for c in extra_conf]

    # What sysbuild sets in the application image (MAIN_image_default.cmake), merged last.
    sb_fragment = None
    if sysbuild:
        sb_values, sb_errors = sysbuild_values(app, model, sb_extra)
        errors += sb_errors
        lines = sysbuild_app_lines(model, sb_values)
        sb_fragment = tempfile.NamedTemporaryFile("w", suffix="-sysbuild.conf", delete=False)
        sb_fragment.write("\n".join(lines) + "\n")
        sb_fragment.close()

    dt_facts = {}
    if any(os.path.basename(d) == "usb.overlay" for d in dtc):
        dt_facts["DT_HAS_ZEPHYR_CDC_ACM_UART_ENABLED"] = "y"
    env = model.environment(board, dt_facts)

    # The table must hold every non-SMP_RS symbol assigned, with a value of its type.
    final = {}
    for frag in fragments:
        rel = os.path.relpath(frag, app)
        for sym, value, n in assignments(frag):
            final[sym] = (rel, value, n)
            if sym.startswith("SMP_RS_"):
                continue
            entry = model.symbols.get(sym)
            if entry is None:
                errors.append(f"{rel}:{n}: CONFIG_{sym} is not in tests/kconfig/upstream-symbols.yaml"
                              " (read its upstream definition and add it)")
            elif not value_fits(entry["type"], value):
                errors.append(f"{rel}:{n}: CONFIG_{sym}={value} is not a {entry['type']} value")
            elif entry.get("assigned") is False:
                errors.append(f"{rel}:{n}: CONFIG_{sym} is modelled as not assigned by us")

    # A board fragment's assignment that a later fragment changes cannot take effect.
    if os.path.exists(board_conf):
        later = {}
        for frag in fragments[fragments.index(board_conf) + 1:]:
            for sym, value, n in assignments(frag):
                later[sym] = (os.path.relpath(frag, app), value, n)
        for sym, value, n in assignments(board_conf):
            if sym in later and later[sym][1] != value:
                f2, v2, n2 = later[sym]
                errors.append(
                    f"boards/{board}.conf:{n}: CONFIG_{sym}={value} is overridden by "
                    f"{f2}:{n2} (CONFIG_{sym}={v2}), which Zephyr merges after CONF_FILE")

    tree = stub_tree(model, env)
    os.environ["srctree"] = tree
    sys.path.insert(0, tree)
    sys.modules.pop("kconfigfunctions", None)
    try:
        kconf = kconfiglib.Kconfig(os.path.join(app, "Kconfig"), warn_to_stderr=False)
    finally:
        sys.path.remove(tree)
        shutil.rmtree(tree)
    for sym in kconf.syms.values():
        # MODULES is kconfiglib's own; numbers in `range`/`default` are constants
        if (not sym.nodes and not sym.is_constant and sym.name != "MODULES"
                and not re.fullmatch(r"-?(0[xX][0-9a-fA-F]+|[0-9]+)", sym.name)):
            errors.append(f"Kconfig references {sym.name}, which the model does not define "
                          "(add it to the table or to the board environment)")
    kconf.warn_assign_undef = True
    kconf.warn_assign_override = False
    kconf.warn_assign_redun = False
    inputs = fragments + ([sb_fragment.name] if sb_fragment else [])
    kconf.load_config(inputs[0])
    for frag in inputs[1:]:
        kconf.load_config(frag, replace=False)
    for warning in kconf.warnings:
        errors.append("kconfiglib: " + warning.replace(tree + "/", "").replace(app + "/", ""))
    if sb_fragment:
        for sym, value, n in assignments(sb_fragment.name):
            final[sym] = ("sysbuild.conf (as MAIN_image_default.cmake sets it)", value, 0)
        os.unlink(sb_fragment.name)

    order = {os.path.relpath(f, app): i for i, f in enumerate(fragments)}
    order["sysbuild.conf (as MAIN_image_default.cmake sets it)"] = len(fragments)
    notes = []

    def report(where, message, dep_exprs):
        """An assignment that did not take is an error, unless every unmet dependency is a
        symbol that a fragment merged later sets to n: a board file or overlay switching a
        feature off on purpose (kconfig.py prints a warning for it and goes on)."""
        unmet = [d for d in dep_exprs if kconfiglib.expr_value(d) == 0]
        text = ", ".join(kconfiglib.expr_str(d) for d in unmet)
        later_off = []
        for d in unmet:
            if isinstance(d, tuple) or d.name not in final:
                break
            frag, value, n = final[d.name]
            if value != "n" or order.get(frag, -1) <= order.get(where[0], -1):
                break
            later_off.append(f"{frag}:{n} sets CONFIG_{d.name}=n")
        else:
            if later_off:
                notes.append(f"{where[0]}:{where[2]}: {message}, as intended: "
                             + "; ".join(later_off))
                return
        errors.append(f"{where[0]}:{where[2]}: {message}; unmet: {text or 'range or select'}")

    for sym in kconf.unique_defined_syms:
        if sym.user_value is not None and not any(node.prompt for node in sym.nodes):
            errors.append(f"CONFIG_{sym.name} is assigned but has no prompt "
                          "(kconfig.py aborts on this)")
        if sym.choice or sym.user_value is None:
            continue
        want = sym.user_value
        if sym.type == kconfiglib.BOOL:
            want = kconfiglib.TRI_TO_STR[want]
        if want != sym.str_value:
            report(final.get(sym.name, ("?", "", 0)),
                   f"CONFIG_{sym.name}={want} did not take (got {sym.str_value!r})",
                   kconfiglib.split_expr(sym.direct_dep, kconfiglib.AND))
    for choice in kconf.unique_choices:
        if choice.user_selection and choice.user_selection is not choice.selection:
            sel = choice.user_selection.name
            got = choice.selection.name if choice.selection else "nothing (choice not visible)"
            report(final.get(sel, ("?", "", 0)),
                   f"CONFIG_{sel}=y was not selected, {got} was",
                   kconfiglib.split_expr(choice.direct_dep, kconfiglib.AND))

    def val(name):
        if name == "y":
            return "y"
        s = kconf.syms.get(name)
        return s.str_value if s is not None and s.nodes else "n"

    for rule in model.glue:
        if val(rule["when"]) != "y":
            continue
        if rule.get("needs_any") and not any(val(s) == "y" for s in rule["needs_any"]):
            errors.append(f"glue: {rule['when']}=y needs one of {', '.join(rule['needs_any'])}: "
                          + " ".join(rule["why"].split()))
        for need in rule.get("needs", []):
            sym, want = (need[1:], "n") if need.startswith("!") else (need, "y")
            if val(sym) != want:
                errors.append(f"glue: {rule['when']}=y needs {sym}={want}: "
                              + " ".join(rule["why"].split()))

    label = f"{name} on {platform}"
    if errors:
        print(f"FAIL {label}")
        for e in errors:
            print("    " + e)
        return False
    on = [s.name for s in kconf.unique_defined_syms
          if s.name.startswith(("SMP_RS_GRP_", "SMP_RS_TRANSPORT_")) and s.str_value == "y"]
    mode = [s.name[len("MCUBOOT_BOOTLOADER_MODE_"):] for s in kconf.unique_defined_syms
            if s.name.startswith("MCUBOOT_BOOTLOADER_MODE_") and s.str_value == "y"]
    print(f"ok   {label}: {', '.join(on)}"
          + (f"; MCUboot mode {mode[0]}" if mode else "; no MCUboot"))
    for note in notes:
        print("       off: " + note)
    return True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("app")
    parser.add_argument("--table", default=None)
    args = parser.parse_args()
    app = os.path.abspath(args.app)
    table = args.table or os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                       "upstream-symbols.yaml")
    model = Model(table)
    good = True
    count = 0
    for scenario in scenarios(app):
        good &= check(app, model, *scenario)
        count += 1
    if count == 0:
        print("FAIL no scenario in sample.yaml")
        good = False
    partial = sorted(s["name"] for s in model.symbols.values() if s.get("read") != "full")
    if partial:
        print(f"note {len(partial)} table entries were only partly read upstream: "
              + ", ".join(partial))
    sys.exit(0 if good else 1)


if __name__ == "__main__":
    main()
