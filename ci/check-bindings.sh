#!/usr/bin/env bash
# Fails when src/port_sys.rs (bindgen) or include/smp_rs.h (cbindgen) is stale.
exec "$(dirname "$0")/gen-bindings.sh" --check
