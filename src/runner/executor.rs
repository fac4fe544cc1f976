//! Runs one case on the backend of its kind: a case the plan already skipped, or one that
//! would not fit in memory, never reaches a backend, and a panic inside a backend fails that
//! case, never the run. Whatever happens becomes a [`CaseResult`] through the record's one door.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::backend::{Backend, CaseContext, panic_message};
use crate::catalog::BackendKind;
use crate::measure::Outcome;
use crate::plan::Case;
use crate::record::CaseResult;

/// The backends of one run, by kind, and what their cases share.
pub struct Executor {
    backends: HashMap<BackendKind, Box<dyn Backend>>,
    context: CaseContext,
    logical_cores: u32,
}

impl Executor {
    /// An executor with no backend yet; `logical_cores` marks oversubscribed cases.
    pub fn new(context: CaseContext, logical_cores: u32) -> Executor {
        Executor {
            backends: HashMap::new(),
            context,
            logical_cores,
        }
    }

    /// Runs the cases of `kind` on `backend` from now on.
    pub fn with(mut self, kind: BackendKind, backend: Box<dyn Backend>) -> Executor {
        self.backends.insert(kind, backend);
        self
    }

    /// The result of `case` from what its rounds came to, through the record's one door.
    pub fn result(&self, case: &Case, outcome: Outcome) -> CaseResult {
        CaseResult::from_outcome(case, outcome, self.context.seed, self.logical_cores)
    }

    /// Runs one round of one case on its backend.
    pub fn run(&mut self, case: &Case) -> Outcome {
        if let Some(reason) = &case.skip {
            return Outcome::skipped(reason.clone());
        }
        if let Some(reason) = host_memory_shortfall(case) {
            return Outcome::skipped(reason);
        }
        let Some(backend) = self.backends.get_mut(&case.backend) else {
            return Outcome::failed(format!("no {} backend in this run", case.backend.name()));
        };
        let context = &self.context;
        match catch_unwind(AssertUnwindSafe(|| backend.run(case, context))) {
            Ok(outcome) => outcome,
            Err(panic) => Outcome::failed(format!("the case panicked: {}", panic_message(&panic))),
        }
    }
}

/// Why a case would not fit in the host memory available now, if it would not: the least of
/// the machine's available memory and the room left under the cgroup and `RLIMIT_AS` limits.
fn host_memory_shortfall(case: &Case) -> Option<String> {
    let needed = crate::catalog::host_bytes_needed(
        case.backend,
        &case.algorithm,
        case.key_type,
        case.n,
        case.threads.unwrap_or(1),
    );
    let available = crate::env::limits::available();
    (available.bytes > 0 && needed > available.bytes).then(|| {
        let under = available
            .limited_by
            .map(|limit| format!(" under {limit}"))
            .unwrap_or_default();
        format!(
            "needs {} of host memory but only {} is available{under}",
            crate::units::bytes(needed),
            crate::units::bytes(available.bytes)
        )
    })
}
