#!/usr/bin/env bash
# Host-device benchmark. Measures; asserts nothing. Needs the tools the test command installs
# (.ci/tools, .venv): run scripts/test-all.sh once first.
#  1. smp-bench (crates/smp-bench): smp-svr side by side with bare UDP and PTY echo servers it
#     starts itself, everything pinned to CPU 0, in one run (round trips, server CPU from
#     /proc, pipelined throughput and loss, 1 MiB image upload against its floor, engines);
#  2. throughput and latency with real clients (mcumgrctl, mcumgr-toolkit) on loopback;
#  3. DFU throughput over Bluetooth LE on Bumble's virtual link at ATT MTU 247 and 498
#     (scripts/ble_bench.py, smpclient's Bumble transport).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$ROOT/.ci/tools/bin:$ROOT/.venv/bin:$PATH"
nice -n 10 cargo build --release -q -p smp-svr -p smp-bench
release="${CARGO_TARGET_DIR:-target}/release"
work=$(mktemp -d)
pid=""
trap '[ -z "$pid" ] || kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT

head -c 1048576 /dev/urandom >"$work/app.bin"
imgtool sign --header-size 0x200 --pad-header --align 8 --version 2.0.0 \
    --slot-size 0x140000 "$work/app.bin" "$work/app.img" >/dev/null

echo "== smp-bench"
"$release/smp-bench" --image "$work/app.img"

echo
echo "== real clients"
"$release/smp-svr" --state "$work/state" --udp 127.0.0.1:0 --pty "$work/tty" \
    --slot-size 0x140000 >"$work/out" 2>"$work/log" &
pid=$!
until grep -q "ready" "$work/out" 2>/dev/null; do sleep 0.05; done
port=$(sed -n 's/^smp-svr: udp 127.0.0.1://p' "$work/out")
udp="--udp 127.0.0.1:$port"

rate() { # label bytes seconds
    python3 -c "import sys; b,s=int(sys.argv[2]),float(sys.argv[3]); print(f'{sys.argv[1]:<44} {s:7.2f} s {b/s/1024:9.1f} KiB/s')" "$@"
}
timed() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }

size=$(stat -c %s "$work/app.img")
rate "image upload 1 MiB, UDP (mcumgrctl)" "$size" "$(timed mcumgrctl $udp image upload -q "$work/app.img")"
mcumgrctl $udp image erase >/dev/null
rate "image upload 1 MiB, serial PTY (mcumgrctl)" "$size" "$(timed mcumgrctl -s "$work/tty" image upload -q "$work/app.img")"
rate "fs upload 1 MiB, UDP (mcumgrctl)" 1048576 "$(timed mcumgrctl $udp fs upload -q "$work/app.bin" /lfs1/b.bin)"
rate "fs download 1 MiB, UDP (mcumgrctl)" 1048576 "$(timed mcumgrctl $udp fs download -q /lfs1/b.bin "$work/back.bin")"

python3 - "$port" "$work/tty" <<'PY'
import sys, time
import mcumgr_toolkit
port, tty = int(sys.argv[1]), sys.argv[2]
for name, c in [("UDP", mcumgr_toolkit.MCUmgrClient.udp("127.0.0.1", port, 3000)),
                ("serial PTY", mcumgr_toolkit.MCUmgrClient.serial(tty, 115200, 3000))]:
    n = 1000
    t0 = time.perf_counter()
    for i in range(n):
        c.os_echo("ping")
    dt = time.perf_counter() - t0
    print(f"{'echo round trip, ' + name + ' (mcumgr-toolkit)':<44} {dt / n * 1e6:7.1f} us  {n / dt:9.0f} req/s")
PY

echo
echo "== Bluetooth LE (Bumble virtual controllers)"
head -c 262144 "$work/app.bin" >"$work/ble.bin"
imgtool sign --header-size 0x200 --pad-header --align 8 --version 3.0.0 \
    --slot-size 0x140000 "$work/ble.bin" "$work/ble.img" >/dev/null
python3 scripts/ble_bench.py "$release/smp-svr" "$work/ble.img" 247 498
