//! `--anonymize` by construction: a run's every string passes through the machine's
//! [`Scrubber`] before the run is saved or rendered, so no output (results.json, the reports,
//! the CSV, the indexes read from them) can carry what one of them forgot to remove.

use std::path::Path;

use anyhow::Context;

use crate::env::anonymize::{Identity, Scrubber};

use super::Run;

/// `run` as it may be written in the run folder `dir`: unchanged unless it was made with
/// `--anonymize`, else with this machine's identifying strings (and the archive root that
/// holds `dir`) replaced everywhere.
pub fn for_writing<'a>(run: &'a Run, dir: &Path) -> anyhow::Result<std::borrow::Cow<'a, Run>> {
    if !run.environment.anonymized {
        return Ok(std::borrow::Cow::Borrowed(run));
    }
    // A run folder is ROOT/<definition-name>/<run-id>: ROOT is what --out named.
    let root = dir.parent().and_then(Path::parent);
    let scrubber = Scrubber::new(&Identity::of_this_machine(root));
    scrubbed(run, &scrubber).map(std::borrow::Cow::Owned)
}

/// `run` with every string, field names included, passed through `scrubber`.
pub fn scrubbed(run: &Run, scrubber: &Scrubber) -> anyhow::Result<Run> {
    let mut value = serde_json::to_value(run).context("could not serialize the run")?;
    scrubber.scrub_json(&mut value);
    serde_json::from_value(value).context("the anonymized run no longer reads as a run")
}
