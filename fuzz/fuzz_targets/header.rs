//! libFuzzer entry of the `header` harness (see `oncall_fuzz::run`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| oncall_fuzz::run("header", data));
