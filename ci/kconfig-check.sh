#!/usr/bin/env bash
# Checks Kconfig and every flavour's .conf fragments with kconfiglib (tests/kconfig/check.py):
# each CONFIG_SMP_RS_* assignment of prj.conf, the board fragments and the overlays must
# take effect; sample.yaml and west.yml refer to files and projects that exist
# (tests/kconfig/sample_check.py). kconfiglib and PyYAML go into a venv under .ci/tools.
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
