//! `sortmark list`: the runs in an archive, as a table or as JSON.

use sortmark::terminal;
use std::path::Path;
use std::process::ExitCode;

use sortmark::report::index;

use super::{EXIT_ERROR, EXIT_OK, OutputFormat};

/// `sortmark list [--out ROOT] [--format FORMAT]`.
pub fn list(root: &Path, format: OutputFormat) -> ExitCode {
    let listed = match format {
        OutputFormat::Text => index::list(root),
        OutputFormat::Json => index::listing(root).and_then(|l| super::to_json(&l)),
    };
    match listed {
        Ok(text) => {
            terminal::out(&text);
            ExitCode::from(EXIT_OK)
        }
        Err(e) => {
            terminal::err_line(&format!("error: {e:#}"));
            ExitCode::from(EXIT_ERROR)
        }
    }
}
