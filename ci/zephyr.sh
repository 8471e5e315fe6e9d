#!/usr/bin/env bash
# Every check of the Zephyr port that runs without a Zephyr tree.
set -euo pipefail
here="$(dirname "$0")"
"$here/check-bindings.sh"
"$here/c-syntax.sh"
"$here/port-symbols.sh"
"$here/kconfig-check.sh"
"$here/dts-check.sh"
"$here/host-test.sh"
"$here/glue-test.sh"
"$here/cargo-replay.sh"
"$here/mcu.sh"
"$here/qemu.sh"
echo "Zephyr port checks passed"
