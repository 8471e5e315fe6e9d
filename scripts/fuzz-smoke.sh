#!/usr/bin/env bash
# Fuzz smoke test: builds every target in fuzz/ with libFuzzer and runs each for a few
# seconds from the committed seeds (SECONDS_PER_TARGET, default 8: six targets stay under
# a minute). cargo-fuzz needs nightly flags; RUSTC_BOOTSTRAP lets the stable toolchain
# accept them.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS=$PWD/.ci/tools
export PATH="$TOOLS/bin:$PATH"
command -v cargo-fuzz >/dev/null || cargo install --locked --root "$TOOLS" cargo-fuzz@0.13.2
export RUSTC_BOOTSTRAP=1
cd fuzz
for t in $(cargo fuzz list); do
    mkdir -p "corpus/$t"
    cargo fuzz run -O "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="${SECONDS_PER_TARGET:-8}" -print_final_stats=1 2>&1 \
        | grep -E "^(Done|stat::number_of_executed_units)|ERROR|panicked" || true
    # cargo fuzz exits non-zero on a crash; the pipeline above hides that, so check:
    if ls "artifacts/$t"/crash-* >/dev/null 2>&1; then
        echo "fuzz target $t crashed: see fuzz/artifacts/$t" >&2
        exit 1
    fi
done
