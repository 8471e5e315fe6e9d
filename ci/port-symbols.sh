#!/usr/bin/env bash
# No configuration leaves a port function undefined: for each tests/zephyr-decls/autoconf-*.h,
# librustapp.a is built with that configuration as its DOTCONFIG (as rust_cargo_application()
# hands the build's .config to cargo), and every smp_port_* symbol it references (nm -u) must
# be defined by the C files CMakeLists.txt builds for the same configuration (compiled here
# against tests/zephyr-decls/). The Rust side decides what it references with the cfg flags
# build.rs derives from CONFIG_SMP_RS_*, the C side what it defines with CMakeLists.txt's
# conditions on the same symbols: this fails as soon as the two disagree.
set -euo pipefail
source "$(dirname "$0")/tools.sh"
cd "$ROOT"
need_apt gcc binutils python3

out="$ROOT/target/port-symbols"
mkdir -p "$out"
status=0
for conf in tests/zephyr-decls/autoconf-*.h; do
	cfg="$(basename "$conf" .h)"
	cfg="${cfg#autoconf-}"
	dir="$out/$cfg"
	rm -rf "$dir"
	mkdir -p "$dir"
	python3 ci/zephyr_config.py dotconfig "$conf" >"$dir/.config"

	# What rustapp references in this configuration (a dev build keeps every function).
	DOTCONFIG="$dir/.config" CARGO_TARGET_DIR="$out/cargo" cargo build -q --lib
	nm -u "$out/cargo/debug/librustapp.a" 2>/dev/null | awk '{print $NF}' |
		grep '^smp_port_' | sort -u >"$dir/referenced"

	# What the C files of this configuration define.
	mapfile -t files < <(python3 ci/zephyr_config.py sources "$conf")
	for f in "${files[@]}"; do
		gcc -std=gnu11 -O1 -c -Wall -Wextra -Werror -Wno-unused-parameter \
			-Itests/zephyr-decls -Iinclude -Isrc -include "$conf" \
			"$f" -o "$dir/$(basename "$f" .c).o"
	done
	nm --defined-only "$dir"/*.o | awk '$2 == "T" {print $3}' |
		grep '^smp_port_' | sort -u >"$dir/defined"

	missing="$(comm -23 "$dir/referenced" "$dir/defined")"
	unused="$(comm -13 "$dir/referenced" "$dir/defined" | paste -sd' ')"
	if [ -n "$missing" ]; then
		echo "FAIL [$cfg] referenced by librustapp.a, defined by no C file of ${files[*]}:"
		echo "$missing" | sed 's/^/       /'
		status=1
	else
		echo "ok   [$cfg] $(wc -l <"$dir/referenced") smp_port_* references, all defined" \
			"(${#files[@]} C files; defined but not referenced: ${unused:-none})"
	fi
done
exit "$status"
