#!/usr/bin/env bash
# MCU checks of rustapp, without Zephyr, for every Rust target our boards map to and two
# more a board may map to:
#  - thumbv7em-none-eabi: nrf52dk/nrf52832, nrf52840dk/nrf52840 and frdm_k64f with our
#    configuration. zephyr-lang-rust's _rust_map_target picks the eabihf target for a
#    Cortex-M4 only with CONFIG_FP_HARDABI, which needs CONFIG_FPU, which neither those
#    boards nor our fragments enable (ci/cargo-replay.sh derives the mapping, with the
#    upstream files it is read from);
#  - thumbv7em-none-eabihf: the same boards with CONFIG_FPU=y (FP_HARDABI is the default
#    of the FP ABI choice then);
#  - thumbv6m-none-eabi: Cortex-M0/M0+ boards (no compare-and-swap);
#  - x86_64-unknown-none: native_sim/native/64 (clippy and a release build; no link here).
# For each ARM target:
#  1. clippy exactly as the Zephyr build runs it (`cargo clippy --release --target T --
#     -D warnings -D clippy::undocumented_unsafe_blocks` in the root), and once more per
#     tests/kconfig/*.config with DOTCONFIG set, as under `west build`;
#  2. a release build of librustapp.a;
#  3. a link with arm-none-eabi-gcc, with the float ABI of the target (soft for eabi, hard
#     for eabihf: a mismatch fails the link), against the RAM double of smp_port.h
#     (tests/port-double/), printing the image's .text/.data/.bss and rustapp's share;
#     for thumbv7em-none-eabi also with opt-level s and LTO.
set -euo pipefail
source "$(dirname "$0")/tools.sh"
cd "$ROOT"
need_apt gcc-arm-none-eabi libnewlib-arm-none-eabi python3
need_targets thumbv7em-none-eabi thumbv7em-none-eabihf thumbv6m-none-eabi x86_64-unknown-none
unset DOTCONFIG

# Zephyr's flags for these CPUs (cmake/compiler/gcc/target_arm.cmake of
# zephyrproject-rtos/zephyr at da2b6500c91d4dff6f22f002ac35ce7e6954ac98: -mcpu, -mthumb,
# -mabi=aapcs, and -mfpu plus -mfloat-abi=hard only with CONFIG_FPU and FP_HARDABI;
# without CONFIG_FPU it passes no -mfloat-abi and the toolchain's default, soft, applies).
declare -A CFLAGS=(
	[thumbv7em-none-eabi]="-mcpu=cortex-m4 -mthumb -mabi=aapcs -mfloat-abi=soft"
	[thumbv7em-none-eabihf]="-mcpu=cortex-m4 -mthumb -mabi=aapcs -mfloat-abi=hard -mfpu=fpv4-sp-d16"
	[thumbv6m-none-eabi]="-mcpu=cortex-m0 -mthumb -mabi=aapcs -mfloat-abi=soft"
)
# The Zephyr build's clippy arguments (rust_cargo_application(), zephyr-lang-rust at
# ab3e546232bfa2f4e16d6c5156b9d9500885b4e8; --release as without CONFIG_DEBUG).
zephyr_clippy() {
	cargo clippy --release --target "$1" -- -D warnings -D clippy::undocumented_unsafe_blocks
}

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
for target in thumbv7em-none-eabi thumbv7em-none-eabihf thumbv6m-none-eabi; do
	echo "== $target: clippy (as the Zephyr build runs it)"
	zephyr_clippy "$target"

	for conf in tests/kconfig/*.config; do
		echo "== $target: clippy with DOTCONFIG=$conf"
		DOTCONFIG="$ROOT/$conf" zephyr_clippy "$target"
	done

	echo "== $target: release build"
	cargo build --release --target "$target"

	link_and_size "$target" "target/$target/release/librustapp.a" "$out/rustapp-$target"

	# The footprint of the boards' target once more, size-optimised.
	[ "$target" = thumbv7em-none-eabi ] || continue
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
zephyr_clippy x86_64-unknown-none
cargo build --release --target x86_64-unknown-none

echo "== rustapp docs (the Zephyr build's rustdoc target), warnings denied"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p rustapp --target thumbv7em-none-eabi
