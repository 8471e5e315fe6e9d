#!/usr/bin/env bash
# Checks Kconfig and every Twister scenario's .conf fragments with kconfiglib, against a
# model of the Zephyr symbols they set that was read from upstream (tests/kconfig/
# upstream-symbols.yaml; tests/kconfig/check.py): every symbol exists with that type, every
# assignment takes effect (dependencies met by the same fragments, in Zephyr's merge order,
# sysbuild's settings included), and what the C glue calls is compiled. sample_check.py
# reads sample.yaml as Twister does and checks west.yml's pins and modules. selftest.py
# breaks a copy of the application in known ways and requires the two to catch each.
# kconfiglib and PyYAML go into a venv under .ci/tools.
set -euo pipefail
source "$(dirname "$0")/tools.sh"
cd "$ROOT"
need_apt python3-venv
venv="$TOOLS/kconfig-venv"
if [ ! -x "$venv/bin/python" ]; then
	python3 -m venv "$venv"
	"$venv/bin/pip" install -q kconfiglib==14.1.0 pyyaml
fi
"$venv/bin/python" -c 'import yaml' 2>/dev/null || "$venv/bin/pip" install -q pyyaml
"$venv/bin/python" tests/kconfig/check.py .
"$venv/bin/python" tests/kconfig/sample_check.py .
"$venv/bin/python" tests/kconfig/selftest.py .
