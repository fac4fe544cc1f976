//! Reading every earlier version of `results.json`: one step per version, each turning a file
//! of version N into one of version N + 1, applied in order before the run is deserialized.
//!
//! A step works on the JSON itself (`serde_json::Value`), never on the Rust types, so that the
//! types describe only the current version: what an old file lacked, or named otherwise, is
//! dealt with here, once, in the step that follows it. Only a file newer than this build, or
//! one with no version at all, is refused.

use serde_json::{Map, Value, json};

use super::SCHEMA_VERSION;

/// A step from one version of `results.json` to the next, on the file's top-level object.
type Step = fn(&mut Map<String, Value>);

/// `STEPS[i]` turns a file of version `i + 1` into one of version `i + 2`. The length ties the
/// list to [`SCHEMA_VERSION`]: raising the version without adding its step does not compile.
const STEPS: [Step; SCHEMA_VERSION as usize - 1] = [v1_to_v2, v2_to_v3, v3_to_v4];

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

/// Version 1 grew fields as sortmark grew, each read with a default when a file lacked it, so
/// a version-1 file may lack any of them. From version 2 every field is always there (`null` or
/// empty where there is nothing to say), so a reader, and the schema, can count on each one.
/// This step fills what a version-1 file lacked with the defaults version 1 read it with.
fn v1_to_v2(run: &mut Map<String, Value>) {
    fill(
        run,
        [("interrupted", json!(false)), ("sources", Value::Null)],
    );
    if let Some(sources) = object(run, "sources") {
        if let Some(definition) = object(sources, "definition") {
            fill(definition, [("archived", json!(false))]);
        }
        for peer in objects(sources, "peers") {
            fill(peer, [("archived", json!(false))]);
        }
    }
    if let Some(environment) = object(run, "environment") {
        fill(
            environment,
            [
                ("cuda", Value::Null),
                ("settings", settings_unknown()),
                ("gpus", json!([])),
                ("gpu_links", json!([])),
                ("gpu_links_note", Value::Null),
            ],
        );
    }
    if let Some(definition) = object(run, "definition") {
        fill(definition, [("overrides", json!({"only": [], "set": []}))]);
        // Runs made before rounds measured every case once, with no precision to reach.
        let rounds = [
            ("rounds", json!(1)),
            ("max_rounds", json!(1)),
            ("precision", Value::Null),
            ("max_time_s", json!(f64::MAX)),
        ];
        if let Some(measure) = object(definition, "measure") {
            fill(measure, rounds.clone());
        }
        for cell in objects(definition, "cells") {
            if let Some(measure) = object(cell, "measure") {
                fill(measure, rounds.clone());
            }
        }
    }
    for case in objects(run, "cases") {
        fill(
            case,
            [
                ("notes", json!([])),
                ("rounds_s", json!([])),
                ("interval", Value::Null),
                ("precision_reached", Value::Null),
                ("disturbance", Value::Null),
                ("speedup_interval", Value::Null),
            ],
        );
    }
}

/// Adds each field that `object` lacks, with its value.
/// Version 3 records the part of a plan a run measured (`shard`), the parts a merged run was
/// joined from (`parts`) and each merged case's `machine`: a run before it measured its whole
/// plan on one machine.
fn v2_to_v3(run: &mut Map<String, Value>) {
    fill(run, [("shard", Value::Null), ("parts", json!([]))]);
    for case in objects(run, "cases") {
        fill(case, [("machine", Value::Null)]);
    }
}

/// Version 4 records when a run was resumed (`resumed`): a run before it is recorded as never
/// resumed, since whether it was is not known.
fn v3_to_v4(run: &mut Map<String, Value>) {
    fill(run, [("resumed", json!([]))]);
}

/// The settings of a run that recorded none: nothing known.
fn settings_unknown() -> Value {
    json!({
        "variables": [],
        "transparent_hugepages": null,
        "transparent_hugepages_defrag": null,
        "cpu_governors": [],
        "cpu_boost": null,
        "smt": null,
    })
}

fn fill<const N: usize>(object: &mut Map<String, Value>, fields: [(&str, Value); N]) {
    for (name, value) in fields {
        object.entry(name).or_insert(value);
    }
}

/// The object under `key`, where there is one. A step leaves a part of the file it does not
/// recognise alone: deserializing the result says what is wrong with it.
fn object<'a>(parent: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Map<String, Value>> {
    parent.get_mut(key).and_then(Value::as_object_mut)
}

/// The objects in the list under `key` (none where there is no list).
fn objects<'a>(
    parent: &'a mut Map<String, Value>,
    key: &str,
) -> impl Iterator<Item = &'a mut Map<String, Value>> {
    parent
        .get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
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

    /// A version-1 file as the first sortmark wrote it: none of the fields added later.
    fn first_v1_file() -> Value {
        json!({
            "schema": 1,
            "environment": {"os": {"hostname": "h"}},
            "definition": {
                "measure": {"warmup": 1},
                "cells": [
                    {"kind": "markdown", "text": "t"},
                    {"kind": "sweep", "measure": {"warmup": 2}}
                ]
            },
            "cases": [{"n": 10}, {"n": 20}]
        })
    }

    #[test]
    fn version_1_gets_the_fields_it_lacked_with_the_defaults_it_was_read_with() {
        let run = to_current(first_v1_file()).unwrap();
        assert_eq!(run["schema"], SCHEMA_VERSION);
        assert_eq!(run["interrupted"], false);
        assert_eq!(run["sources"], Value::Null);
        let environment = &run["environment"];
        assert_eq!(environment["gpus"], json!([]));
        assert_eq!(environment["gpu_links"], json!([]));
        assert_eq!(environment["cuda"], Value::Null);
        assert_eq!(environment["gpu_links_note"], Value::Null);
        assert_eq!(environment["os"]["hostname"], "h");
        let cells = &run["definition"]["cells"];
        for measure in [&run["definition"]["measure"], &cells[1]["measure"]] {
            assert_eq!(measure["rounds"], 1);
            assert_eq!(measure["max_rounds"], 1);
            assert_eq!(measure["precision"], Value::Null);
            assert_eq!(measure["max_time_s"], f64::MAX);
        }
        assert_eq!(cells[1]["measure"]["warmup"], 2);
        assert!(cells[0].get("measure").is_none());
        for case in run["cases"].as_array().unwrap() {
            assert_eq!(case["notes"], json!([]));
            assert_eq!(case["rounds_s"], json!([]));
            for field in ["interval", "precision_reached", "disturbance"] {
                assert_eq!(case[field], Value::Null, "{field}");
            }
        }
        assert_eq!(run["cases"][1]["n"], 20);
    }

    #[test]
    fn version_2_measured_its_whole_plan_on_one_machine() {
        let file = json!({"schema": 2, "cases": [{"n": 10}]});
        let run = to_current(file).unwrap();
        assert_eq!(run["schema"], SCHEMA_VERSION);
        assert_eq!(run["shard"], Value::Null);
        assert_eq!(run["parts"], json!([]));
        assert_eq!(run["cases"][0]["machine"], Value::Null);
    }

    #[test]
    fn version_3_was_never_resumed() {
        let run = to_current(json!({"schema": 3, "cases": []})).unwrap();
        assert_eq!(run["schema"], SCHEMA_VERSION);
        assert_eq!(run["resumed"], json!([]));
    }

    #[test]
    fn version_1_keeps_the_fields_it_has() {
        let mut file = first_v1_file();
        file["interrupted"] = json!(true);
        file["sources"] = json!({"folder": "/d", "definition": null, "peers": [{"path": "p"}]});
        file["environment"]["gpus"] = json!([{"ordinal": 0}]);
        file["definition"]["measure"]["rounds"] = json!(6);
        file["cases"][0]["rounds_s"] = json!([[1.0], [2.0]]);
        file["cases"][0]["notes"] = json!(["n"]);
        let run = to_current(file).unwrap();
        assert_eq!(run["interrupted"], true);
        assert_eq!(run["sources"]["peers"][0]["archived"], false);
        assert_eq!(run["environment"]["gpus"][0]["ordinal"], 0);
        assert_eq!(run["definition"]["measure"]["rounds"], 6);
        assert_eq!(run["definition"]["measure"]["max_rounds"], 1);
        assert_eq!(run["cases"][0]["rounds_s"], json!([[1.0], [2.0]]));
        assert_eq!(run["cases"][0]["notes"], json!(["n"]));
        assert_eq!(run["cases"][1]["rounds_s"], json!([]));
    }

    #[test]
    fn parts_a_step_does_not_recognise_are_left_for_deserializing_to_report() {
        let run = to_current(json!({"schema": 1, "cases": 3, "environment": [1]})).unwrap();
        assert_eq!(run["cases"], 3);
        assert_eq!(run["environment"], json!([1]));
        assert_eq!(run["schema"], SCHEMA_VERSION);
    }
}
