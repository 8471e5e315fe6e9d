#!/usr/bin/env bash
# gcc -fsyntax-only -Wall -Werror of the C glue (src/*.c) against declarations of the
# Zephyr API it calls (tests/zephyr-decls/, written to the real headers' signatures), once
# with every option on and once with the optional subsystems off; plus the port double and
# the host test against include/ alone.
set -euo pipefail
source "$(dirname "$0")/tools.sh"
cd "$ROOT"
need_apt gcc

status=0
for cfg in full min; do
	conf="tests/zephyr-decls/autoconf-$cfg.h"
	# The files CMakeLists.txt builds for this configuration.
	files=(src/smp_queue.c src/smp_port.c)
	grep -q 'CONFIG_SMP_RS_TRANSPORT_BT 1' "$conf" && files+=(src/smp_bt.c)
	grep -q 'CONFIG_SMP_RS_TRANSPORT_UDP 1' "$conf" && files+=(src/smp_udp.c)
	grep -qE 'CONFIG_SMP_RS_TRANSPORT_(UART|CONSOLE) 1' "$conf" && files+=(src/smp_uart.c)
	for f in "${files[@]}"; do
		if gcc -std=gnu11 -fsyntax-only -Wall -Wextra -Werror -Wno-unused-parameter \
			-Itests/zephyr-decls -Iinclude -Isrc \
			-include "$conf" "$f"; then
			echo "ok   [$cfg] $f"
		else
			echo "FAIL [$cfg] $f"
			status=1
		fi
	done
done
exit "$status"
