//! The JSON Schema of `results.json`, generated from the types of the [`Run`], so that it
//! cannot drift from them.
//!
//! The schema says what this build writes: every field is required (an absent value is
//! `null`), and `schema` is this build's [`SCHEMA_VERSION`]. A file of an earlier version
//! matches it once [`super::migrate`] has made it current. The repository ships it as
//! [`SCHEMA_FILE`], and a test fails when that file is not what the types generate.

use schemars::generate::SchemaSettings;

use super::{Run, SCHEMA_VERSION};

/// Where the repository ships the schema, relative to its root.
pub const SCHEMA_FILE: &str = "reports/schema/results.schema.json";

/// The command that writes [`SCHEMA_FILE`] afresh, from the repository's root.
pub const REGENERATE: &str = "cargo run -- schema > reports/schema/results.schema.json";

/// The JSON Schema (draft 2020-12) of the `results.json` this build writes, as the text of
/// [`SCHEMA_FILE`].
pub fn results_schema() -> String {
    let mut schema = SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<Run>();
    schema.insert(
        "title".to_string(),
        format!("sortmark results.json, schema {SCHEMA_VERSION}").into(),
    );
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema is plain JSON");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_requires_this_version_and_every_field() {
        let schema: serde_json::Value = serde_json::from_str(&results_schema()).unwrap();
        assert_eq!(
            schema["properties"]["schema"]["const"],
            serde_json::json!(SCHEMA_VERSION)
        );
        let required = schema["required"].as_array().unwrap();
        for field in ["schema", "run_id", "interrupted", "sources", "cases"] {
            assert!(required.contains(&field.into()), "{field} is not required");
        }
        let case = &schema["$defs"]["CaseResult"];
        for field in ["rounds_s", "interval", "reason"] {
            assert!(
                case["required"].as_array().unwrap().contains(&field.into()),
                "a case's {field} is not required"
            );
        }
    }
}
