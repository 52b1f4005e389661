//! libFuzzer entry of the `syslog` harness (see `oncall_fuzz::run`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| oncall_fuzz::run("syslog", data));
