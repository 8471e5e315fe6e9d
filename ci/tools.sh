#!/usr/bin/env bash
# Sourced by the other ci/ scripts: installs what they need, caching cargo-installed tools
# under .ci/tools inside this clone (gitignored). Idempotent; set CI_NO_APT=1 to skip apt.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.ci/tools"
export PATH="$TOOLS/bin:$PATH"

CBINDGEN_VERSION=0.29.4
BINDGEN_VERSION=0.73.2

need_apt() {
	local missing=()
	for pkg in "$@"; do
		dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
	done
	if [ "${#missing[@]}" -gt 0 ] && [ -z "${CI_NO_APT:-}" ]; then
		local sudo=""
		[ "$(id -u)" -ne 0 ] && sudo=sudo
		$sudo apt-get update -qq
		$sudo apt-get install -y -qq "${missing[@]}"
	fi
}

need_targets() {
	rustup target add "$@" >/dev/null
}

need_cbindgen() {
	if ! cbindgen --version 2>/dev/null | grep -q " $CBINDGEN_VERSION\$"; then
		cargo install --locked --root "$TOOLS" --version "$CBINDGEN_VERSION" cbindgen
	fi
}

need_bindgen() {
	# bindgen loads libclang at run time, and libclang needs clang's own resource headers
	# (stddef.h, stdint.h, ...) from libclang-common-14-dev: a fresh machine has neither.
	need_apt libclang1-14 libclang-common-14-dev
	if ! bindgen --version 2>/dev/null | grep -q " $BINDGEN_VERSION\$"; then
		cargo install --locked --root "$TOOLS" --version "$BINDGEN_VERSION" bindgen-cli
	fi
}
