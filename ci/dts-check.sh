#!/usr/bin/env bash
# Compiles each devicetree overlay of the application on top of a stand-in base tree
# (tests/dts/base.dts) with dtc: syntax and label references.
set -euo pipefail
source "$(dirname "$0")/tools.sh"
cd "$ROOT"
need_apt device-tree-compiler
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
status=0
for overlay in *.overlay boards/*.overlay; do
	[ -e "$overlay" ] || continue
	cat tests/dts/base.dts "$overlay" > "$tmp/test.dts"
	if dtc -q -I dts -O dtb -o "$tmp/test.dtb" "$tmp/test.dts"; then
		echo "ok   $overlay"
	else
		echo "FAIL $overlay"
		status=1
	fi
done
exit "$status"
