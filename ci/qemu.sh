#!/usr/bin/env bash
# rustapp on emulated Cortex-M cores (QEMU's MPS2 boards), for every MCU target the port builds
# for: the host FFI test's request sequence (tests/host/main.c, through tests/qemu/harness.c)
# runs on the real instruction set, each target's transcript of responses is compared byte for
# byte with the host build's, the stack use of the entry points is checked against the Kconfig
# stack sizes, and the cost per request is printed (instructions, from SysTick under
# -icount shift=0). Self-checks show the harness can fail: an unaligned load-multiple must end
# in a reported HardFault on every target, and a too small stack budget must be refused.
#
# Targets and emulated boards:
#   thumbv7em-none-eabihf  mps2-an386 (Cortex-M4F), hard-float ABI, FPU enabled
#   thumbv7em-none-eabi    mps2-an386 (Cortex-M4F), soft-float ABI (zephyr-lang-rust's choice
#                          for a Cortex-M4 without CONFIG_FP_HARDABI: nRF52, K64F)
#   thumbv6m-none-eabi     mps2-an385 (Cortex-M3): QEMU 7.2 has no Cortex-M0 board with RAM
#                          enough for the double (microbit: 16 KiB), so the Armv6-M code runs on
#                          an Armv7-M core. Not emulated, then: a Cortex-M0's fault on an
#                          unaligned single load or store (and QEMU 7.2 ignores CCR.UNALIGN_TRP:
#                          with it set, an unaligned LDR still completed). Unaligned LDM/STM and
#                          LDRD/STRD fault on every target, as on hardware.
set -euo pipefail
source "$(dirname "$0")/tools.sh"
cd "$ROOT"
need_apt gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm gcc libc6-dev
need_targets thumbv7em-none-eabihf thumbv7em-none-eabi thumbv6m-none-eabi

# The configuration of the host FFI test (its expected bytes depend on it).
export SMP_RS_BUF_SIZE=2048 SMP_RS_BUF_COUNT=2
unset DOTCONFIG

# The stack budgets: the smallest work-queue and main stack any flavour or board configures
# (Kconfig's default, prj.conf, the overlays, boards/*.conf), less GLUE_FRAMES bytes for what
# runs below rustapp on that stack (Zephyr's thread entry and k_work loop, the glue's handler,
# an exception frame with FP state).
GLUE_FRAMES=256
min_setting() { # symbol, fallback
	{ echo "$2"; sed -n "s/^$1=//p" prj.conf overlay-*.conf boards/*.conf; } | sort -n | head -n 1
}
wq_default=$(awk '/^config SMP_RS_WORKQUEUE_STACK_SIZE/{f=1} f&&/default/{print $2; exit}' Kconfig)
wq_stack=$(min_setting CONFIG_SMP_RS_WORKQUEUE_STACK_SIZE "$wq_default")
main_stack=$(min_setting CONFIG_MAIN_STACK_SIZE 1000000)
[ -n "$wq_stack" ] && [ "$main_stack" != 1000000 ] || { echo "stack sizes not found"; exit 1; }
echo "stack budgets: work queue $wq_stack - $GLUE_FRAMES, main $main_stack - $GLUE_FRAMES bytes"
wq_budget=$((wq_stack - GLUE_FRAMES))
main_budget=$((main_stack - GLUE_FRAMES))

out="$ROOT/target/qemu"
mkdir -p "$out"
images=(crates/smp/tests/data/unsigned.bin crates/smp/tests/data/ecdsa-p256.bin)
wraps="-Wl,--wrap=smp_rs_init,--wrap=smp_rs_poll,--wrap=smp_rs_process"
wraps="$wraps,--wrap=smp_rs_serial_feed,--wrap=smp_rs_serial_reset"

echo "== host reference transcript"
cargo build --release --lib
libs="$(cargo rustc --release --lib -q -- --print native-static-libs 2>&1 |
	sed -n 's/.*native-static-libs: //p' | tail -n 1)"
# shellcheck disable=SC2086
gcc -std=c11 -Wall -Wextra -Werror -O1 -g -Iinclude -Itests/port-double -Itests/qemu \
	tests/qemu/harness.c tests/port-double/smp_port_double.c target/release/librustapp.a \
	$libs $wraps -o "$out/harness-host"
"$out/harness-host" "$out/host.transcript" "${images[@]}" >"$out/host.log"
tail -n 1 "$out/host.log"

declare -A CFLAGS=(
	[thumbv7em-none-eabihf]="-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16"
	[thumbv7em-none-eabi]="-mcpu=cortex-m4 -mthumb -mfloat-abi=soft"
	[thumbv6m-none-eabi]="-mcpu=cortex-m0 -mthumb -mfloat-abi=soft"
)
declare -A MACHINE=(
	[thumbv7em-none-eabihf]=mps2-an386
	[thumbv7em-none-eabi]=mps2-an386
	[thumbv6m-none-eabi]=mps2-an385
)

# Runs ELF ($1) on MACHINE ($2) with semihosting arguments ($3...); prints its output.
run_qemu() {
	local elf="$1" machine="$2"
	shift 2
	local args="arg=harness"
	for a in "$@"; do args="$args,arg=$a"; done
	timeout 300 qemu-system-arm -M "$machine" -nographic -monitor none -serial none \
		-icount shift=0,align=off,sleep=off \
		-semihosting-config "enable=on,target=native,$args" -kernel "$elf"
}

# Builds librustapp.a for $1 (profile flags in the environment) and links the harness into $2.
build_image() {
	local target="$1" elf="$2" dir="$3"
	CARGO_TARGET_DIR="$dir" cargo build --release --target "$target"
	# shellcheck disable=SC2086
	arm-none-eabi-gcc ${CFLAGS[$target]} -O2 -g -std=c11 -Wall -Wextra -Werror \
		-ffunction-sections -fdata-sections \
		-Iinclude -Itests/port-double -Itests/qemu \
		tests/qemu/startup.c tests/qemu/harness.c tests/port-double/smp_port_double.c \
		"$dir/$target/release/librustapp.a" \
		-nostartfiles -specs=rdimon.specs -T tests/qemu/link.ld \
		-Wl,--gc-sections -Wl,--no-warn-rwx-segments -Wl,-z,noexecstack $wraps -Wl,-Map="$elf.map" -o "$elf"
	echo "footprint of librustapp.a in the image:"
	python3 ci/map-share.py "$elf.map" librustapp.a
}

failed=0
for target in thumbv7em-none-eabihf thumbv7em-none-eabi thumbv6m-none-eabi; do
	machine=${MACHINE[$target]}
	for profile in release size-s; do
		elf="$out/harness-$target-$profile.elf"
		if [ "$profile" = release ]; then
			echo "== $target on $machine: the Zephyr build's profile (release, opt-level 3)"
			build_image "$target" "$elf" "$ROOT/target"
		else
			echo "== $target on $machine: opt-level s + LTO"
			CARGO_PROFILE_RELEASE_OPT_LEVEL=s CARGO_PROFILE_RELEASE_LTO=true \
				CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
				build_image "$target" "$elf" "$ROOT/target/size-s"
		fi
		tr="$out/$target-$profile.transcript"
		rc=0
		run_qemu "$elf" "$machine" "$tr" "${images[@]}" "$wq_budget" "$main_budget" \
			>"$out/$target-$profile.log" 2>&1 || rc=$?
		grep -E '^(stack|cost):|checks,|HardFault' "$out/$target-$profile.log" || true
		if [ "$rc" -ne 0 ]; then
			echo "FAIL: $target ($profile) exited with $rc"
			tail -n 20 "$out/$target-$profile.log"
			failed=1
		elif ! cmp -s "$out/host.transcript" "$tr"; then
			echo "FAIL: $target ($profile): responses differ from the host build's"
			diff "$out/host.transcript" "$tr" | head -n 20
			failed=1
		else
			echo "ok: $target ($profile): $(wc -l <"$tr") entry-point calls, every output equal to the host build's"
		fi
	done
done

for target in thumbv7em-none-eabihf thumbv7em-none-eabi thumbv6m-none-eabi; do
	echo "== self-check ($target): an unaligned load-multiple is a reported HardFault"
	rc=0
	run_qemu "$out/harness-$target-release.elf" "${MACHINE[$target]}" --unaligned-selftest \
		>"$out/unaligned-$target.log" 2>&1 || rc=$?
	if [ "$rc" -eq 3 ] && grep -q '^HardFault: pc=0x' "$out/unaligned-$target.log"; then
		grep '^HardFault' "$out/unaligned-$target.log"
	else
		echo "FAIL: the unaligned load gave exit $rc:"
		cat "$out/unaligned-$target.log"
		failed=1
	fi
done

echo "== self-check: a work-queue stack budget of 256 bytes is refused"
rc=0
run_qemu "$out/harness-thumbv7em-none-eabihf-release.elf" mps2-an386 \
	"$out/small-stack.transcript" "${images[@]}" 256 "$main_budget" >"$out/small-stack.log" 2>&1 || rc=$?
if [ "$rc" -eq 4 ] && grep -q 'EXCEEDED' "$out/small-stack.log"; then
	grep 'EXCEEDED' "$out/small-stack.log"
else
	echo "FAIL: a 256-byte budget gave exit $rc"
	failed=1
fi

exit "$failed"
