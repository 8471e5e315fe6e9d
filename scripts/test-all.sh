#!/usr/bin/env bash
# Runs every test of the project: formatting and lints (host and MCU targets), the core's
# unit tests, the no_std cross builds, and the integration tests that drive the real
# smp-svr binary with real MCUmgr clients (mcumgrctl, smpclient, mcumgr-toolkit,
# mcumgr-client-wrapper, imgtool). Installs what it needs inside the checkout:
# clients in .ci/tools and .venv (both gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS=$ROOT/.ci/tools
export PATH="$TOOLS/bin:$PATH"

# Each step's header says when it starts (seconds since this script began), so that the
# CI's 40-minute budget can be kept.
step() { printf '\n==> %s  [at %d s]\n' "$*" "$SECONDS"; }

step "Rust targets"
rustup target add thumbv7em-none-eabihf thumbv6m-none-eabi >/dev/null
rustup component add clippy rustfmt >/dev/null 2>&1 || true

step "Client tools"
if ! command -v mcumgrctl >/dev/null || ! mcumgrctl --version | grep -q '0\.20\.'; then
    cargo install --locked --root "$TOOLS" mcumgrctl@0.20.0 --no-default-features
fi
if [ ! -x .venv/bin/pytest ] || ! cmp -s tests/requirements.txt .venv/.requirements; then
    python3 -m venv .venv
    .venv/bin/pip install --quiet --upgrade pip
    .venv/bin/pip install --quiet -r tests/requirements.txt
    cp tests/requirements.txt .venv/.requirements
fi
export PATH="$ROOT/.venv/bin:$PATH"

step "cargo fmt --check"
cargo fmt --all --check

step "clippy (host, whole workspace)"
cargo clippy --workspace --all-targets -- -D warnings

step "docs of the core (warnings denied)"
RUSTDOCFLAGS="-D warnings" cargo doc -p smp --no-deps

step "no_std core for the MCU targets"
for t in thumbv6m-none-eabi thumbv7em-none-eabihf; do
    cargo clippy -p smp --target "$t" -- -D warnings
    cargo build -p smp --release --target "$t"
done

step "Zephyr port checks (ci/zephyr.sh: bindings, C glue, Kconfig, devicetree, host FFI tests, MCU builds and sizes)"
ci/zephyr.sh

step "unit tests"
cargo test -p smp -p smp-svr -p smp-bench

step "fuzz smoke (scripts/fuzz-smoke.sh)"
scripts/fuzz-smoke.sh

step "integration tests with real clients"
cargo build -p smp-svr
export SMP_SVR="$ROOT/target/debug/smp-svr"
# The mcumgrctl found above: the one in .ci/tools, or a 0.20 already on PATH.
export MCUMGRCTL="$(command -v mcumgrctl)"
cd tests
python -m pytest -q

step "the power-cut sweeps in the other swap modes: journal, offset, scratch, overwrite"
# The run above sweeps smp-svr's default swap mode (move). The same sweep in the other
# modes: every cut of an upload, test swap and revert (journal ~70 cuts, offset ~150,
# scratch ~200, overwrite ~55), in two lanes at once to keep CI short; each lane's output
# is printed when it ends, and a failure in either fails the step.
sweep_lane() {
    local lane=$1; shift
    local mode
    for mode in "$@"; do
        echo "--- --swap-mode $mode"
        SMP_SVR_SWAP_MODE=$mode python -m pytest -q -p no:cacheprovider \
            --basetemp="$ROOT/target/sweep-$lane-$mode" test_powercut.py || return 1
    done
}
sweep_lane a offset overwrite > "$ROOT/target/sweep-a.log" 2>&1 & lane_a=$!
sweep_lane b scratch journal > "$ROOT/target/sweep-b.log" 2>&1 & lane_b=$!
rc=0
wait "$lane_a" || rc=1
cat "$ROOT/target/sweep-a.log"
wait "$lane_b" || rc=1
cat "$ROOT/target/sweep-b.log"
[ "$rc" -eq 0 ] || { echo "a power-cut sweep failed (see above)"; exit 1; }
echo "all tests passed in $SECONDS s"
