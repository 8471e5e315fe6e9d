//! `dispatch` with every message turned into an SMP v1 request (version bits 0), as an
//! old client sends them: group errors must come back as a translated `rc`, never as `err`,
//! and every other check of `dispatch` holds.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| smp_fuzz::run_dispatch(data, true));
