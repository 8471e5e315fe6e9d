#!/usr/bin/env bash
# Host test of the C glue (tests/glue-host/): src/smp_queue.c, smp_bt.c, smp_udp.c and smp_uart.c
# built against tests/zephyr-decls/ with small host implementations of those Zephyr calls,
# linked with librustapp.a and the port double, and driven through GATT writes and UART
# interrupts, and UDP datagrams.
set -euo pipefail
source "$(dirname "$0")/tools.sh"
cd "$ROOT"
need_apt gcc libc6-dev

export SMP_RS_BUF_SIZE=2048 SMP_RS_BUF_COUNT=2
unset DOTCONFIG
cargo build --release --lib
libs="$(cargo rustc --release --lib -q -- --print native-static-libs 2>&1 |
	sed -n 's/.*native-static-libs: //p' | tail -n 1)"
out="$ROOT/target/glue-test"
mkdir -p "$out"
gcc -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -O1 -g \
	-include tests/glue-host/autoconf-glue.h -DSMP_DOUBLE_NO_QUEUE \
	-Itests/zephyr-decls -Iinclude -Isrc -Itests/port-double -Itests/glue-host \
	src/smp_queue.c src/smp_bt.c src/smp_udp.c src/smp_uart.c \
	tests/glue-host/zephyr_stubs.c tests/glue-host/main.c \
	tests/port-double/smp_port_double.c \
	target/release/librustapp.a $libs \
	-o "$out/smp-glue-test"
"$out/smp-glue-test" "$@"
