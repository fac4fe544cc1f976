//! `sortmark list`: the runs in an archive.

use std::path::Path;
use std::process::ExitCode;

use super::{EXIT_ERROR, EXIT_OK};

/// `sortmark list [--out ROOT]`.
pub fn list(root: &Path) -> ExitCode {
    match sortmark::report::index::list(root) {
        Ok(table) => {
            print!("{table}");
            ExitCode::from(EXIT_OK)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
