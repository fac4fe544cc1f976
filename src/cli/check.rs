//! `sortmark check`: validates a definition and tells what it would run.

use std::path::Path;
use std::process::ExitCode;

use sortmark::runner;

use super::EXIT_OK;

/// `sortmark check [DEFINITION]`.
pub fn check(definition: Option<&Path>) -> ExitCode {
    match runner::read_definition(definition, &runner::machine_limits()) {
        Ok(d) => {
            let cases = sortmark::plan::plan(&d.def, None);
            println!("{}: valid, {} cases", d.path, cases.len());
            ExitCode::from(EXIT_OK)
        }
        Err(e) => super::run::definition_error(&e),
    }
}
