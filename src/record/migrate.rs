//! Reading every earlier version of `results.json`: one step per version, each turning a file
//! of version N into one of version N + 1, applied in order before the run is deserialized.
//!
//! A step works on the JSON itself (`serde_json::Value`), never on the Rust types, so that the
//! types describe only the current version: what an old file lacked, or named otherwise, is
//! dealt with here, once, in the step that follows it. Only a file newer than this build, or
//! one with no version at all, is refused.

use serde_json::{Map, Value};

use super::SCHEMA_VERSION;

/// A step from one version of `results.json` to the next, on the file's top-level object.
type Step = fn(&mut Map<String, Value>);

/// `STEPS[i]` turns a file of version `i + 1` into one of version `i + 2`. The length ties the
/// list to [`SCHEMA_VERSION`]: raising the version without adding its step does not compile.
const STEPS: [Step; SCHEMA_VERSION as usize - 1] = [];

/// Why a file's version cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    #[error("has no `schema` number: it is not a sortmark results file")]
    Missing,
    #[error(
        "has schema {0}, newer than this sortmark's {SCHEMA_VERSION}: read it with a newer sortmark"
    )]
    Newer(u64),
    #[error("has schema {0}, a version no sortmark wrote (the first was 1)")]
    Unknown(u64),
}

/// The contents of a `results.json` of any version this build knows, made into the current
/// version by the steps from its own.
pub fn to_current(mut file: Value) -> Result<Value, VersionError> {
    let version = file
        .get("schema")
        .and_then(Value::as_u64)
        .ok_or(VersionError::Missing)?;
    if version > u64::from(SCHEMA_VERSION) {
        return Err(VersionError::Newer(version));
    }
    let first = usize::try_from(version)
        .ok()
        .and_then(|v| v.checked_sub(1))
        .ok_or(VersionError::Unknown(version))?;
    // A file with a `schema` number is an object, so `as_object_mut` cannot fail here.
    if let Some(run) = file.as_object_mut() {
        for (done, step) in STEPS.iter().enumerate().skip(first) {
            step(run);
            run.insert("schema".to_string(), Value::from(done + 2));
        }
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_current_version_passes_unchanged() {
        let file = json!({"schema": SCHEMA_VERSION, "cases": []});
        assert_eq!(to_current(file.clone()), Ok(file));
    }

    #[test]
    fn newer_missing_and_impossible_versions_are_refused() {
        let newer = u64::from(SCHEMA_VERSION) + 1;
        assert_eq!(
            to_current(json!({ "schema": newer })),
            Err(VersionError::Newer(newer))
        );
        assert_eq!(
            to_current(json!({"run_id": "x"})),
            Err(VersionError::Missing)
        );
        assert_eq!(
            to_current(json!({"schema": "1"})),
            Err(VersionError::Missing)
        );
        assert_eq!(to_current(json!([1])), Err(VersionError::Missing));
        assert_eq!(
            to_current(json!({"schema": 0})),
            Err(VersionError::Unknown(0))
        );
    }
}
