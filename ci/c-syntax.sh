#!/usr/bin/env bash
# Compiles the C glue (src/*.c) as CMakeLists.txt selects it for each configuration
# tests/zephyr-decls/autoconf-*.h, against the declarations of the Zephyr API it calls
# (tests/zephyr-decls/zephyr/, each next to the upstream header it copies), with
# -Wall -Wextra -Werror at -O2 and at -Os (the optimiser's passes find what -fsyntax-only
# cannot: unused static functions, maybe-uninitialised values, ...), with the host gcc and
# with arm-none-eabi-gcc for a 32-bit Cortex-M target. The objects are left in
# target/c-syntax/<compiler>-<opt>/<configuration>/ (ci/port-symbols.sh reads the host ones).
set -euo pipefail
source "$(dirname "$0")/tools.sh"
cd "$ROOT"
need_apt gcc gcc-arm-none-eabi libnewlib-arm-none-eabi python3

status=0
out="$ROOT/target/c-syntax"
declare -A compilers=(
	[gcc]="gcc"
	[arm]="arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb"
)
for cc_name in gcc arm; do
	cc="${compilers[$cc_name]}"
	for conf in tests/zephyr-decls/autoconf-*.h; do
		cfg="$(basename "$conf" .h)"
		cfg="${cfg#autoconf-}"
		mapfile -t files < <(python3 ci/zephyr_config.py sources "$conf")
		for opt in -O2 -Os; do
			dir="$out/$cc_name$opt/$cfg"
			rm -rf "$dir"
			mkdir -p "$dir"
			for f in "${files[@]}"; do
				# shellcheck disable=SC2086
				if $cc -std=gnu11 $opt -c -Wall -Wextra -Werror -Wno-unused-parameter \
					-ffunction-sections -fdata-sections \
					-Itests/zephyr-decls -Iinclude -Isrc \
					-include "$conf" "$f" -o "$dir/$(basename "$f" .c).o"; then
					echo "ok   [$cc_name $opt $cfg] $f"
				else
					echo "FAIL [$cc_name $opt $cfg] $f"
					status=1
				fi
			done
		done
	done
done
# Builds a test program from port sources and a test of tests/zephyr-decls against
# autoconf-min.h with the extra defines of the array named by $4, runs it, and reports it
# as "[$2] $3": run_c_test OUTDIR LABEL CASE DEFS_ARRAY SOURCE...
run_c_test() {
	local dir="$out/$1" label="$2" case_name="$3"
	local -n extra="$4"
	shift 4
	mkdir -p "$dir"
	if gcc -std=gnu11 -O2 -Wall -Wextra -Werror -Wno-unused-parameter \
		-Itests/zephyr-decls -Iinclude -Isrc -include tests/zephyr-decls/autoconf-min.h \
		"${extra[@]}" "$@" -o "$dir/test" && "$dir/test"; then
		echo "ok   [$label] $case_name"
	else
		echo "FAIL [$label] $case_name"
		status=1
	fi
}
# os bootloader info: each MCUBOOT_BOOTLOADER_MODE choice of Zephyr's modules/Kconfig.mcuboot
# and the enum mcuboot_mode value it must report (see src/smp_port_boot.c for the sources).
modes=(SINGLE_APP:0 SWAP_SCRATCH:1 OVERWRITE_ONLY:2 SWAP_USING_MOVE:3 SWAP_WITHOUT_SCRATCH:3
	DIRECT_XIP:4 DIRECT_XIP_WITH_REVERT:5 RAM_LOAD:6 RAM_LOAD_WITH_REVERT:6
	FIRMWARE_UPDATER:7 SINGLE_APP_RAM_LOAD:8 SWAP_USING_OFFSET:9 NONE:-1)
for entry in "${modes[@]}" ""; do
	if [ -n "$entry" ]; then
		name="${entry%%:*}" expect="${entry#*:}"
		defs=(-DCONFIG_BOOTLOADER_MCUBOOT=1 -DEXPECT_MODE="$expect" -DEXPECT_NO_DOWNGRADE=1
			-DCONFIG_MCUBOOT_BOOTLOADER_NO_DOWNGRADE=1)
		[ "$name" != NONE ] && defs+=(-DCONFIG_MCUBOOT_BOOTLOADER_MODE_"$name"=1)
	else
		name="no MCUboot" defs=()
	fi
	run_c_test bootinfo "bootloader info" "$name" defs \
		src/smp_port_boot.c tests/zephyr-decls/bootinfo_test.c
done
# Where a secondary image starts under swap using offset (smp_port_flash_first_sector):
# the flash map's first sector, CONFIG_IMG_CUSTOM_SECTOR_SIZE instead when set, nothing
# without a page layout (tests/zephyr-decls/firstsector_test.c has the cases).
for variant in layout custom none; do
	case "$variant" in
	layout) defs=(-DCONFIG_FLASH_PAGE_LAYOUT=1) ;;
	custom) defs=(-DCONFIG_FLASH_PAGE_LAYOUT=1 -DCONFIG_IMG_CUSTOM_SECTOR_SIZE=8192 -DEXPECT_CUSTOM=8192) ;;
	none) defs=() ;;
	esac
	run_c_test firstsector "first sector" "$variant" defs \
		src/smp_port_flash.c tests/zephyr-decls/firstsector_test.c
done
exit "$status"
