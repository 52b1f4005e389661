//! libFuzzer entry of the `privacy` harness (see `oncall_fuzz::run`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| oncall_fuzz::run("privacy", data));
