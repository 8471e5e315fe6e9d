#!/usr/bin/env bash
# Replays, without a Zephyr tree, the cargo runs that `west build` makes for this
# application, per board, and checks what the build then compiles and links.
#
# Derived from zephyrproject-rtos/zephyr-lang-rust, CMakeLists.txt at
# ab3e546232bfa2f4e16d6c5156b9d9500885b4e8 (the commit west.yml pins):
#  - _rust_map_target: the Rust target from Kconfig (map_target below);
#  - add_cargo_target_with_zephyr_env: cargo runs in the application's source directory
#    with BUILD_DIR, ZEPHYR_BASE, DOTCONFIG, ZEPHYR_DTS, INCLUDE_DIRS, INCLUDE_DEFINES,
#    WRAPPER_FILE, DT_AUGMENTS and BINARY_DIR_INCLUDE_GENERATED set, and the arguments
#    `<command> [--release] --config patch.crates-io.<crate>.path="<module>/<crate>"...
#    --target <target> --target-dir <build>/rust/target <command's own arguments>`;
#  - rust_cargo_application(): the `librustapp` target (cargo build) and the `clippy` target
#    (cargo clippy -- -D warnings -D clippy::undocumented_unsafe_blocks), both in ALL,
#    --release unless CONFIG_DEBUG; then `app` links
#    <build>/rust/target/<target>/<release|debug>/librustapp.a with
#    -Wl,--allow-multiple-definition and compiles the module's main.c and
#    ${WRAPPER_FILE} = <build>/rust/wrapper.c.
# The module's main.c (same commit) defines main() (calling rust_main()), rust_panic_wrap()
# and, with CONFIG_LOG, rust_log_message().
#
# Checked per board: the files the rule compiles and links exist at those paths,
# wrapper.c compiles, librustapp.a defines rust_main and none of main.c's symbols (the
# linker would silently keep one of two definitions), and the source tree's Cargo.lock is
# byte for byte unchanged after the build's cargo runs and our CMake step
# (cmake/cargo_lock.cmake, hooked in CMakeLists.txt after rust_cargo_application()). Then
# that hook itself is built in a real CMake project (tests/cargo-lock/), with Ninja as
# Zephyr uses it, to show it runs after the cargo targets.
set -euo pipefail
source "$(dirname "$0")/tools.sh"
cd "$ROOT"
need_apt cmake ninja-build gcc binutils python3-venv
need_targets thumbv7em-none-eabi x86_64-unknown-none
venv="$TOOLS/kconfig-venv"
if [ ! -x "$venv/bin/python" ]; then
	python3 -m venv "$venv"
	"$venv/bin/pip" install -q kconfiglib==14.1.0 pyyaml
fi

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
# A failed check of one board: reported, the other checks still run, the script fails.
errors=0
bad() {
	echo "FAIL: $*" >&2
	errors=$((errors + 1))
}

# Each board: the CPU symbols its SoC selects in Zephyr's Kconfig (zephyrproject-rtos/zephyr:
# soc/nordic/nrf52/Kconfig at f457fb5eba2b92359d29c8b53635117f1fda0ea1 and
# soc/nxp/kinetis/k6x/Kconfig at 54a29be308c12354e1fae056171910491337be44 select
# CPU_CORTEX_M4 and CPU_HAS_FPU; arch/arm/core/cortex_m/Kconfig at
# b8ac8ad69ae0f074f3876e11d09312ef6186fcf1: CPU_CORTEX_M4 selects CPU_CORTEX_M;
# boards/native/native_sim/Kconfig at 684bc3b5ab983103d02a99f65850bda93d627644 selects 64BIT
# for native_sim/native/64 on ARCH_POSIX). No board or SoC defconfig of the three ARM
# boards enables FPU (arch/Kconfig at 8008a0dfd0e1334709592e26de47180b2c6ab2ff gives it no
# default), and neither do our fragments. The fragments are those of the first sample.yaml
# scenario that allows the board (ci/replay-dotconfig.py).
BOARDS=(nrf52dk/nrf52832 nrf52840dk/nrf52840 frdm_k64f native_sim/native/64)
declare -A CPU=(
	[nrf52dk/nrf52832]="ARM CPU_CORTEX_M CPU_CORTEX_M4 CPU_HAS_FPU"
	[nrf52840dk/nrf52840]="ARM CPU_CORTEX_M CPU_CORTEX_M4 CPU_HAS_FPU"
	[frdm_k64f]="ARM CPU_CORTEX_M CPU_CORTEX_M4 CPU_HAS_FPU"
	[native_sim/native/64]="ARCH_POSIX 64BIT"
)
# What the ARM boards map to must be what ci/mcu.sh builds, lints and links.
declare -A EXPECT=(
	[nrf52dk/nrf52832]=thumbv7em-none-eabi
	[nrf52840dk/nrf52840]=thumbv7em-none-eabi
	[frdm_k64f]=thumbv7em-none-eabi
	[native_sim/native/64]=x86_64-unknown-none
)

# _rust_map_target over a .config; CMAKE_HOST_SYSTEM_PROCESSOR is `uname -m`.
map_target() {
	local config="$1"
	on() { grep -qx "CONFIG_$1=y" "$config"; }
	# cmake/compiler/gcc/target_arm.cmake (zephyrproject-rtos/zephyr at
	# da2b6500c91d4dff6f22f002ac35ce7e6954ac98) sets FORCE_FP_HARDABI for FPU && DCLS
	# without FP_HARDABI.
	hard() { on FP_HARDABI || { on FPU && on DCLS; }; }
	if on CPU_CORTEX_M; then
		if on CPU_CORTEX_M0 || on CPU_CORTEX_M0PLUS || on CPU_CORTEX_M1; then
			echo thumbv6m-none-eabi
		elif on CPU_CORTEX_M3; then
			echo thumbv7m-none-eabi
		elif on CPU_CORTEX_M4 || on CPU_CORTEX_M7; then
			if hard; then echo thumbv7em-none-eabihf; else echo thumbv7em-none-eabi; fi
		elif on CPU_CORTEX_M23; then
			echo thumbv8m.base-none-eabi
		elif on CPU_CORTEX_M33 || on CPU_CORTEX_M55; then
			if hard; then echo thumbv8m.main-none-eabihf; else echo thumbv8m.main-none-eabi; fi
		else
			fail "unknown Cortex-M target"
		fi
	elif on ARCH_POSIX && on 64BIT && [ "$(uname -m)" = x86_64 ]; then
		echo x86_64-unknown-none
	elif on ARCH_POSIX && on 64BIT && [ "$(uname -m)" = aarch64 ]; then
		echo aarch64-unknown-none
	else
		fail "target not modelled here"
	fi
}

work="$(mktemp -d)"
cp Cargo.lock "$work/Cargo.lock.before"
# Whatever happens, the source tree's Cargo.lock ends as it was (after being checked).
trap 'cmp -s "$work/Cargo.lock.before" Cargo.lock || cp "$work/Cargo.lock.before" Cargo.lock; rm -rf "$work"' EXIT

# zephyr-lang-rust's crates, as rust_cargo_application() patches them in
# (LIB_RUST_CRATES, from RUST_MODULE_DIR = the module's root). cargo reads the manifest of
# every patch, used or not, and fails if it is missing (and if it has no target); of an
# unused one it records only name and version in Cargo.lock (`[[patch.unused]]`), builds
# nothing and locks none of its dependencies (seen with the real crates at the pinned
# commit). So a stand-in with the name and version of each crate's Cargo.toml there (0.1.0
# for all three) makes cargo do what it does in the real build.
module="$work/modules/lang/rust"
for crate in zephyr zephyr-build zephyr-sys; do
	mkdir -p "$module/$crate/src"
	printf '[package]\nname = "%s"\nversion = "0.1.0"\nedition = "2021"\n' "$crate" \
		>"$module/$crate/Cargo.toml"
	: >"$module/$crate/src/lib.rs"
done
patches=()
for crate in zephyr zephyr-build zephyr-sys; do
	patches+=(--config "patch.crates-io.$crate.path=\"$module/$crate\"")
done

# Runs the cargo command the rule runs for one build directory: $1 build dir, $2 target,
# $3... the command (build, or clippy and its arguments after `--`).
rule_cargo() {
	local build="$1" target="$2" cmd="$3"
	shift 3
	env BUILD_DIR="$build" \
		ZEPHYR_BASE="$work/zephyr" \
		DOTCONFIG="$build/zephyr/.config" \
		ZEPHYR_DTS="$build/zephyr/zephyr.dts" \
		INCLUDE_DIRS="$work/zephyr/include;$build/zephyr/include/generated/zephyr" \
		INCLUDE_DEFINES="KERNEL;__ZEPHYR__=1" \
		WRAPPER_FILE="$build/rust/wrapper.c" \
		DT_AUGMENTS="$module/dt-rust.yaml" \
		BINARY_DIR_INCLUDE_GENERATED="$build/zephyr/include/generated/zephyr" \
		cargo "$cmd" --release "${patches[@]}" --target "$target" \
		--target-dir "$build/rust/target" "$@"
}

# One cargo target dir per mapped target: the first board builds it, later boards with the
# same target start from a copy (only rustapp is rebuilt; the commands are unchanged).
declare -A SEED=()
lock_after_cargo=""
for board in "${BOARDS[@]}"; do
	build="$work/build-${board//\//_}"
	mkdir -p "$build/zephyr"
	frag="$build/cpu.conf"
	for sym in ${CPU[$board]}; do echo "CONFIG_$sym=y"; done >"$frag"
	scenario="$("$venv/bin/python" ci/replay-dotconfig.py . "$board" "$build/zephyr/.config" "$frag")"
	grep -qx 'CONFIG_DEBUG=y' "$build/zephyr/.config" && fail "$board: CONFIG_DEBUG: the replay builds --release only"
	target="$(map_target "$build/zephyr/.config")"
	echo "== $board: Rust target $target ($scenario)"
	[ "$target" = "${EXPECT[$board]}" ] ||
		fail "$board maps to $target, not ${EXPECT[$board]} as ci/mcu.sh and docs/zephyr.md say"

	if [ -n "${SEED[$target]:-}" ]; then
		mkdir -p "$build/rust"
		cp -a "${SEED[$target]}" "$build/rust/target"
	fi
	echo "== $board: cargo build (target librustapp)"
	rule_cargo "$build" "$target" build
	[ -n "$lock_after_cargo" ] || { lock_after_cargo="$work/Cargo.lock.after-cargo" && cp Cargo.lock "$lock_after_cargo"; }
	echo "== $board: cargo clippy (target clippy)"
	rule_cargo "$build" "$target" clippy -- -D warnings -D clippy::undocumented_unsafe_blocks
	echo "== $board: our step after rust_cargo_application() (target smp_rs_cargo_lock)"
	if [ -f cmake/cargo_lock.cmake ]; then
		cmake -DCARGO_LOCK="$ROOT/Cargo.lock" -P "$ROOT/cmake/cargo_lock.cmake"
	else
		echo "(no cmake/cargo_lock.cmake)"
	fi
	SEED[$target]="$build/rust/target"

	lib="$build/rust/target/$target/release/librustapp.a"
	wrapper="$build/rust/wrapper.c"
	before=$errors
	if [ -f "$wrapper" ]; then
		gcc -std=c11 -Wall -Wextra -Wpedantic -Werror -c "$wrapper" -o "$build/wrapper.o" ||
			bad "$board: $wrapper does not compile"
	else
		bad "$board: the rule compiles $wrapper, which the cargo runs did not produce"
	fi
	if [ -f "$lib" ]; then
		defined="$(nm --defined-only -g "$lib" 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u)"
		grep -qx rust_main <<<"$defined" || bad "$board: $lib does not define rust_main (main.c calls it)"
		for sym in main rust_panic_wrap rust_log_message; do
			if grep -qx "$sym" <<<"$defined"; then
				bad "$board: $lib defines $sym, which the module's main.c defines too"
			fi
		done
	else
		bad "$board: the rule links $lib, which cargo did not produce"
	fi
	if ! cmp -s "$work/Cargo.lock.before" Cargo.lock; then
		diff "$work/Cargo.lock.before" Cargo.lock | sed 's/^/    /' || true
		bad "$board: the build's cargo runs left Cargo.lock changed"
		cp "$work/Cargo.lock.before" Cargo.lock # for the next board
	fi
	[ "$errors" -gt "$before" ] || echo "ok   $board: $lib, $wrapper, rust_main; Cargo.lock unchanged"
done
[ "$errors" -eq 0 ] || fail "$errors check(s) of the replayed build failed"

# The hook in a real CMake project: stand-ins for rust_cargo_application()'s three targets
# make the change cargo made above (the lock as cargo left it), and the build must end with
# the lock as committed, for ALL and for the rustdoc target alone.
if cmp -s "$lock_after_cargo" "$work/Cargo.lock.before"; then
	echo "note: cargo left Cargo.lock unchanged; the hook has nothing to undo"
fi
for gen in Ninja "Unix Makefiles"; do
	echo "== CMake hook, $gen"
	proj="$work/hook-${gen// /_}"
	cp "$work/Cargo.lock.before" "$work/hook.lock"
	cmake -S tests/cargo-lock -B "$proj" -G "$gen" -DAPP_DIR="$ROOT" \
		-DLOCK="$work/hook.lock" -DLOCK_AFTER_CARGO="$lock_after_cargo" >/dev/null
	cmake --build "$proj" >/dev/null
	cmp -s "$work/hook.lock" "$work/Cargo.lock.before" || fail "CMake hook ($gen): the lock is not restored after ALL"
	cmake --build "$proj" --target rustdoc >/dev/null
	cmp -s "$work/hook.lock" "$work/Cargo.lock.before" || fail "CMake hook ($gen): the lock is not restored after rustdoc"
	grep -q 'smp_rs_keep_cargo_lock(${CMAKE_CURRENT_SOURCE_DIR}/Cargo.lock)' CMakeLists.txt &&
		awk '/^rust_cargo_application\(\)/ { r = 1 } /^smp_rs_keep_cargo_lock\(/ { ok = r } END { exit !ok }' CMakeLists.txt ||
		fail "CMakeLists.txt does not call smp_rs_keep_cargo_lock() after rust_cargo_application()"
	echo "ok   CMake hook ($gen): Cargo.lock restored after ALL and after rustdoc"
done
echo "cargo replay passed"
