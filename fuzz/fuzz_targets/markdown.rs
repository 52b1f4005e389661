//! libFuzzer entry of the `markdown` harness (see `oncall_fuzz::run`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| oncall_fuzz::run("markdown", data));
