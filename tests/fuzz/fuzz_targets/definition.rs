//! Any bytes as a report definition: loading returns a result and never panics; an error is
//! always located in the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sortmark::definition::{MachineLimits, load};

const LIMITS: MachineLimits = MachineLimits {
    logical_cores: 16,
    host_memory_bytes: 64 << 30,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = load("fuzz.toml", text, &LIMITS) {
            assert!(!e.errors.is_empty());
            assert!(e.to_string().starts_with("fuzz.toml:"));
        }
    }
});
