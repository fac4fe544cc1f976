//! Ctrl-C and SIGTERM: the first asks the run to stop after saving what it has; a second one
//! ends the process at once.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Exit code of a run stopped by a signal (the shell's convention for SIGINT).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Installs the handlers. The order matters: the shutdown handler runs first and only fires
/// once the flag is already set, i.e. on the second signal.
pub fn install() -> std::io::Result<()> {
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(
            signal,
            i32::from(EXIT_INTERRUPTED),
            &REQUESTED,
        )?;
        signal_hook::flag::register(signal, &REQUESTED)?;
    }
    Ok(())
}

/// Whether a stop was requested.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}
