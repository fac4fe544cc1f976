//! The commands that read finished runs without measuring: `render`, `compare` and `export`.

use sortmark::terminal;
use std::path::Path;
use std::process::ExitCode;

use super::{EXIT_ERROR, EXIT_FAILED, EXIT_OK, EXIT_REFUSED};

/// `sortmark render RUN_DIR`.
pub fn render(run_dir: &Path) -> ExitCode {
    match sortmark::report::render_dir(run_dir) {
        Ok(_) => {
            terminal::out_line(&format!("{}", run_dir.display()));
            ExitCode::from(EXIT_OK)
        }
        Err(e) => {
            terminal::err_line(&format!("error: {e:#}"));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// `sortmark compare BASE_RUN NEW_RUN`; `quiet` prints nothing but errors (the exit code
/// tells the verdict).
pub fn compare(
    base: &Path,
    new: &Path,
    threshold: f64,
    out: Option<&Path>,
    quiet: bool,
) -> ExitCode {
    match sortmark::compare::compare_dirs(base, new, threshold, out) {
        Ok((comparison, dir)) => {
            if !quiet {
                terminal::out(&sortmark::compare::terminal::render(&comparison));
                terminal::err_line(&format!("wrote {}", dir.display()));
            }
            ExitCode::from(if comparison.any_slower() {
                EXIT_FAILED
            } else {
                EXIT_OK
            })
        }
        Err(e) => refused_or_failed(&e),
    }
}

/// `sortmark machines RUN_DIR...`: a line per machine against the baseline (none when
/// `quiet`), then the output folder as the last line.
pub fn machines(
    run_dirs: &[std::path::PathBuf],
    out: Option<&Path>,
    threshold: f64,
    quiet: bool,
) -> ExitCode {
    let written = sortmark::machines::build(run_dirs, threshold).and_then(|side| {
        let dir = out.map_or_else(
            || sortmark::machines::default_out_dir(&run_dirs[0], &side),
            Path::to_path_buf,
        );
        sortmark::machines::write(&side, &dir).map(|()| (side, dir))
    });
    match written {
        Ok((side, dir)) => {
            for column in (1..side.columns.len()).filter(|_| !quiet) {
                terminal::out_line(&side.summary(column));
            }
            terminal::out_line(&format!("{}", dir.display()));
            ExitCode::from(EXIT_OK)
        }
        Err(e) => refused_or_failed(&e),
    }
}

/// `sortmark history NAME`: prints the folder of the trend report as the last line.
pub fn history(
    name: &str,
    archive: &Path,
    out: Option<std::path::PathBuf>,
    threshold: f64,
) -> ExitCode {
    let dir = out.unwrap_or_else(|| archive.join(name).join("history"));
    let written = sortmark::history::build(archive, name, threshold)
        .and_then(|history| sortmark::history::write(&history, &dir));
    match written {
        Ok(()) => {
            terminal::out_line(&format!("{}", dir.display()));
            ExitCode::from(EXIT_OK)
        }
        Err(e) => {
            terminal::err_line(&format!("error: {e:#}"));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// `sortmark merge RUN_DIR... [--out DIR] [--partial]`.
pub fn merge(
    run_dirs: &[std::path::PathBuf],
    out: Option<std::path::PathBuf>,
    partial: bool,
    verbosity: sortmark::runner::Verbosity,
) -> ExitCode {
    let options = sortmark::merge::MergeOptions {
        archive_root: out,
        partial,
        command_line: std::env::args().collect(),
    };
    match sortmark::merge::merge(run_dirs, &options) {
        Ok(merged) => {
            let (ok, skipped, failed) = merged.run.counts();
            if verbosity != sortmark::runner::Verbosity::Quiet {
                terminal::err_line(&format!(
                    "merged {} part(s): {ok} ok, {skipped} skipped, {failed} failed",
                    merged.run.parts.len()
                ));
            }
            for shard in &merged.missing {
                terminal::err_line(&format!("warning: part {shard} is missing (--partial)"));
            }
            terminal::out_line(&format!("{}", merged.dir.display()));
            ExitCode::from(if failed > 0 { EXIT_FAILED } else { EXIT_OK })
        }
        Err(e) => {
            terminal::err_line(&format!("error: {e}"));
            ExitCode::from(if e.refused() {
                EXIT_REFUSED
            } else {
                EXIT_ERROR
            })
        }
    }
}

/// `sortmark export RUN_DIR --format FORMAT`.
pub fn export(run_dir: &Path, format: sortmark::export::Format, out: Option<&Path>) -> ExitCode {
    let exported = sortmark::record::archive::load_run(run_dir)
        .and_then(|run| sortmark::export::export(&run, format));
    let written = exported.and_then(|text| match out {
        Some(path) => sortmark::record::archive::write_atomic(path, text.as_bytes()),
        None => {
            terminal::out_data(&text);
            Ok(())
        }
    });
    match written {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(e) => {
            terminal::err_line(&format!("error: {e:#}"));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// A comparison's error on stderr, and its exit code: refused (2) for runs that cannot be set
/// against each other, an error (3) for files that cannot be read or written.
fn refused_or_failed(e: &sortmark::compare::CompareError) -> ExitCode {
    terminal::err_line(&format!("error: {e}"));
    ExitCode::from(if e.runs_incomparable() {
        EXIT_REFUSED
    } else {
        EXIT_ERROR
    })
}
