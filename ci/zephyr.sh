#!/usr/bin/env bash
# Every check of the Zephyr port that runs without a Zephyr tree.
set -euo pipefail
here="$(dirname "$0")"
# Each check's wall time, so that CI's budget can be kept.
timed() { local t0=$SECONDS; "$@"; echo "-- $(basename "$1"): $((SECONDS - t0)) s"; }
timed "$here/check-bindings.sh"
timed "$here/c-syntax.sh"
timed "$here/port-symbols.sh"
timed "$here/kconfig-check.sh"
timed "$here/dts-check.sh"
timed "$here/host-test.sh"
timed "$here/glue-test.sh"
timed "$here/cargo-replay.sh"
timed "$here/mcu.sh"
timed "$here/qemu.sh"
echo "Zephyr port checks passed"
