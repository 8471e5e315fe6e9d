#!/usr/bin/env bash
# Host test of the Zephyr port: builds librustapp.a for the host, links it with the RAM
# double of smp_port.h (tests/port-double/) and tests/host/main.c, and runs a request
# sequence through the C entry points of include/smp_rs.h.
set -euo pipefail
source "$(dirname "$0")/tools.sh"
cd "$ROOT"
need_apt gcc libc6-dev

# A fixed configuration, whatever the environment says (the expected bytes depend on it).
export SMP_RS_BUF_SIZE=2048 SMP_RS_BUF_COUNT=2
unset DOTCONFIG

cargo build --release --lib
out="$ROOT/target/host-test"
mkdir -p "$out"
libs="$(cargo rustc --release --lib -q -- --print native-static-libs 2>&1 |
	sed -n 's/.*native-static-libs: //p' | tail -n 1)"
gcc -std=c11 -Wall -Wextra -Werror -O1 -g \
	-Iinclude -Itests/port-double \
	tests/host/main.c tests/port-double/smp_port_double.c \
	target/release/librustapp.a $libs \
	-o "$out/smp-rs-host-test"
"$out/smp-rs-host-test" crates/smp/tests/data/ecdsa-p256.bin crates/smp/tests/data/unsigned.bin
