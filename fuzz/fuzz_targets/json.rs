//! libFuzzer entry of the `json` harness (see `oncall_fuzz::run`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| oncall_fuzz::run("json", data));
