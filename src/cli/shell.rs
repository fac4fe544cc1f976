//! `sortmark completions SHELL` and `sortmark man`: what shells and `man` need, generated from
//! the clap types that parse the command line, so that they cannot disagree with it.

use sortmark::terminal;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;

use super::{Cli, EXIT_ERROR, EXIT_OK};

/// `sortmark completions SHELL`: the completion script on stdout.
pub fn completions(shell: Shell) -> ExitCode {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "sortmark", &mut script);
    written(std::io::stdout().write_all(&script))
}

/// `sortmark man`: sortmark(1) on stdout; with `--out DIR`, a page per subcommand as well
/// (`sortmark-run.1` …), written into DIR, whose files are then listed.
pub fn man(out: Option<&Path>) -> ExitCode {
    let Some(dir) = out else {
        let mut page = Vec::new();
        let rendered = clap_mangen::Man::new(Cli::command()).render(&mut page);
        return written(rendered.and_then(|()| std::io::stdout().write_all(&page)));
    };
    let generated = std::fs::create_dir_all(dir)
        .and_then(|()| clap_mangen::generate_to(Cli::command(), dir))
        .and_then(|()| std::fs::read_dir(dir)?.collect::<Result<Vec<_>, _>>());
    match generated {
        Ok(entries) => {
            let mut pages: Vec<String> = entries
                .iter()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "1"))
                .map(|p| p.display().to_string())
                .collect();
            pages.sort();
            terminal::out_line(&pages.join("\n"));
            ExitCode::from(EXIT_OK)
        }
        Err(e) => {
            terminal::err_line(&format!(
                "error: could not write the man pages into {}: {e}",
                dir.display()
            ));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// The exit code of writing to stdout.
fn written(result: std::io::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(e) => {
            terminal::err_line(&format!("error: could not write to stdout: {e}"));
            ExitCode::from(EXIT_ERROR)
        }
    }
}
