//! Dispatch over every group at once (OS, image, statistics, settings, file system, shell,
//! enumeration, Zephyr basic) on the core's fakes, one session across all the records of an
//! input (see `smp_fuzz`'s docs for the record format): uploads span chunks, files stay
//! open between requests. Every response is checked (`smp_fuzz::check_response`), the file
//! system never holds a name outside its root, at most one file is open and none is left
//! open at the end, and no request changes the running images.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| smp_fuzz::run_dispatch(data, false));
