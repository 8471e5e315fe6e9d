#!/usr/bin/env bash
# MCU checks of rustapp, without Zephyr:
#  1. clippy exactly as the Zephyr build runs it (plain `cargo clippy` in the root, with
#     the MCU target), for thumbv7em-none-eabihf and thumbv6m-none-eabi;
#  2. release builds of librustapp.a for both targets;
#     and once more per tests/kconfig/*.config with DOTCONFIG set, as under `west build`;
#     (plus clippy and a release build for x86_64-unknown-none, native_sim/native/64's
#     target);
#  3. a link of each with arm-none-eabi-gcc against the RAM double of smp_port.h
#     (tests/port-double/), printing the image's .text/.data/.bss and rustapp's share.
set -euo pipefail
source "$(dirname "$0")/tools.sh"
cd "$ROOT"
need_apt gcc-arm-none-eabi libnewlib-arm-none-eabi python3
need_targets thumbv7em-none-eabihf thumbv6m-none-eabi x86_64-unknown-none
unset DOTCONFIG

declare -A CFLAGS=(
	[thumbv7em-none-eabihf]="-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16"
	[thumbv6m-none-eabi]="-mcpu=cortex-m0 -mthumb -mfloat-abi=soft"
)

out="$ROOT/target/mcu-link"

# Links librustapp.a ($2) with the smp_port.h double into $3.elf and prints the sizes.
link_and_size() {
	local target="$1" lib="$2" base="$3"
	echo "== $target: link $lib against the smp_port.h double"
	# shellcheck disable=SC2086
	arm-none-eabi-gcc ${CFLAGS[$target]} -Os -std=c11 -Wall -Wextra -Werror \
		-ffunction-sections -fdata-sections \
		-DSMP_DOUBLE_SLOT_SIZE=4096u -DSMP_DOUBLE_FILE_MAX=256u \
		-Iinclude -Itests/port-double \
		tests/mcu-link/main.c tests/port-double/smp_port_double.c "$lib" \
		-specs=nano.specs -specs=nosys.specs \
		-Wl,--gc-sections -Wl,--no-warn-rwx-segments -Wl,-z,noexecstack \
		-Wl,-Map="$base.map" -o "$base.elf"
	arm-none-eabi-size "$base.elf"
	python3 ci/map-share.py "$base.map" librustapp.a
}
mkdir -p "$out"
for target in thumbv7em-none-eabihf thumbv6m-none-eabi; do
	echo "== $target: clippy (as the Zephyr build runs it)"
	cargo clippy --target "$target" -- -D warnings -D clippy::undocumented_unsafe_blocks

	for conf in tests/kconfig/*.config; do
		echo "== $target: clippy with DOTCONFIG=$conf"
		DOTCONFIG="$ROOT/$conf" cargo clippy --target "$target" -- \
			-D warnings -D clippy::undocumented_unsafe_blocks
	done

	echo "== $target: release build"
	cargo build --release --target "$target"

	link_and_size "$target" "target/$target/release/librustapp.a" "$out/rustapp-$target"

	# The same with a size-optimised profile, as a Zephyr build gets with
	# CARGO_PROFILE_RELEASE_OPT_LEVEL=s CARGO_PROFILE_RELEASE_LTO=true in its environment.
	echo "== $target: release build, opt-level s + LTO"
	CARGO_TARGET_DIR=target/size-s CARGO_PROFILE_RELEASE_OPT_LEVEL=s \
		CARGO_PROFILE_RELEASE_LTO=true CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
		cargo build --release --target "$target"
	link_and_size "$target" "target/size-s/$target/release/librustapp.a" \
		"$out/rustapp-$target-s"
done

echo "== x86_64-unknown-none (native_sim/native/64): clippy and release build"
cargo clippy --target x86_64-unknown-none -- -D warnings -D clippy::undocumented_unsafe_blocks
cargo build --release --target x86_64-unknown-none

echo "== rustapp docs (the Zephyr build's rustdoc target), warnings denied"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p rustapp --target thumbv7em-none-eabihf
