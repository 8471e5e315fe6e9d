#!/usr/bin/env bash
# gcc -fsyntax-only -Wall -Werror of the C glue (src/*.c) against declarations of the
# Zephyr API it calls (tests/zephyr-decls/, written to the real headers' signatures), once
# with every option on and once with the optional subsystems off, with the host gcc and (if
# installed) arm-none-eabi-gcc for a 32-bit target.
set -euo pipefail
source "$(dirname "$0")/tools.sh"
cd "$ROOT"
need_apt gcc

status=0
compilers=(gcc)
command -v arm-none-eabi-gcc >/dev/null && compilers+=("arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb")
for cc in "${compilers[@]}"; do
for cfg in full min; do
	conf="tests/zephyr-decls/autoconf-$cfg.h"
	# The files CMakeLists.txt builds for this configuration.
	files=(src/smp_queue.c src/smp_port.c)
	grep -q 'CONFIG_SMP_RS_TRANSPORT_BT 1' "$conf" && files+=(src/smp_bt.c)
	grep -q 'CONFIG_SMP_RS_TRANSPORT_UDP 1' "$conf" && files+=(src/smp_udp.c)
	grep -qE 'CONFIG_SMP_RS_TRANSPORT_(UART|CONSOLE) 1' "$conf" && files+=(src/smp_uart.c)
	for f in "${files[@]}"; do
		# shellcheck disable=SC2086
		if $cc -std=gnu11 -fsyntax-only -Wall -Wextra -Werror -Wno-unused-parameter \
			-Itests/zephyr-decls -Iinclude -Isrc \
			-include "$conf" "$f"; then
			echo "ok   [${cc%% *} $cfg] $f"
		else
			echo "FAIL [${cc%% *} $cfg] $f"
			status=1
		fi
	done
done
done
exit "$status"
