#!/usr/bin/env bash
# Compiles the C glue (src/*.c) as CMakeLists.txt selects it for each configuration
# tests/zephyr-decls/autoconf-*.h, against the declarations of the Zephyr API it calls
# (tests/zephyr-decls/zephyr/, each next to the upstream header it copies), with
# -Wall -Wextra -Werror at -O2 and at -Os (the optimiser's passes find what -fsyntax-only
# cannot: unused static functions, maybe-uninitialised values, ...), with the host gcc and
# with arm-none-eabi-gcc for a 32-bit Cortex-M target. The objects are left in
# target/c-syntax/<compiler>-<opt>/<configuration>/ (ci/port-symbols.sh reads the host ones).
set -euo pipefail
source "$(dirname "$0")/tools.sh"
cd "$ROOT"
need_apt gcc gcc-arm-none-eabi libnewlib-arm-none-eabi python3

status=0
out="$ROOT/target/c-syntax"
declare -A compilers=(
	[gcc]="gcc"
	[arm]="arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb"
)
for cc_name in gcc arm; do
	cc="${compilers[$cc_name]}"
	for conf in tests/zephyr-decls/autoconf-*.h; do
		cfg="$(basename "$conf" .h)"
		cfg="${cfg#autoconf-}"
		mapfile -t files < <(python3 ci/zephyr_config.py sources "$conf")
		for opt in -O2 -Os; do
			dir="$out/$cc_name$opt/$cfg"
			rm -rf "$dir"
			mkdir -p "$dir"
			for f in "${files[@]}"; do
				# shellcheck disable=SC2086
				if $cc -std=gnu11 $opt -c -Wall -Wextra -Werror -Wno-unused-parameter \
					-ffunction-sections -fdata-sections \
					-Itests/zephyr-decls -Iinclude -Isrc \
					-include "$conf" "$f" -o "$dir/$(basename "$f" .c).o"; then
					echo "ok   [$cc_name $opt $cfg] $f"
				else
					echo "FAIL [$cc_name $opt $cfg] $f"
					status=1
				fi
			done
		done
	done
done
exit "$status"
