//! Any bytes as a run folder's results.json: loading (and rendering, where it loads) returns a
//! result and never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("sortmark-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    std::fs::write(dir.join("results.json"), data).expect("a temporary file");
    let _ = sortmark::record::archive::load_run(&dir);
});
