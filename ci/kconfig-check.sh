#!/usr/bin/env bash
# Checks Kconfig and every flavour's .conf fragments with kconfiglib (tests/kconfig/check.py):
# each CONFIG_SMP_RS_* assignment of prj.conf, the board fragments and the overlays must
# take effect. kconfiglib is installed into a venv under .ci/tools.
set -euo pipefail
source "$(dirname "$0")/tools.sh"
cd "$ROOT"
need_apt python3-venv
venv="$TOOLS/kconfig-venv"
if [ ! -x "$venv/bin/python" ]; then
	python3 -m venv "$venv"
	"$venv/bin/pip" install -q kconfiglib==14.1.0
fi
"$venv/bin/python" tests/kconfig/check.py .
