//! Ctrl-C and SIGTERM: the first asks the run to stop after saving what it has; a second one
//! ends the process at once, after the `before_exit` the command line installed (killing every
//! process a running peer started, so that nothing sortmark ran outlives it).
//!
//! This module sits below the backends that ask it whether to stop, so it takes what to do at
//! the end as a function rather than calling up into them.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Exit code of a run stopped by a signal (the shell's convention for SIGINT).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Installs the handlers: a thread that takes the signals, so that at the second one
/// `before_exit` can do what a signal handler may not (read /proc for a peer's orphans) before
/// the process ends.
pub fn install(before_exit: fn()) -> std::io::Result<()> {
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
    ])?;
    std::thread::Builder::new()
        .name("signals".to_string())
        .spawn(move || {
            for _ in signals.forever() {
                if REQUESTED.swap(true, Ordering::SeqCst) {
                    before_exit();
                    std::process::exit(i32::from(EXIT_INTERRUPTED));
                }
            }
        })?;
    Ok(())
}

/// Whether a stop was requested.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}
