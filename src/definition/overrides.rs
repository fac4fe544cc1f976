//! Changes to a definition from the command line: `--only SWEEP` keeps some sweeps, and
//! `--set KEY=VALUE` replaces a value of the definition's tables (`measure.repetitions=3`,
//! `seed=7`).
//!
//! A setting is written into the definition's TOML before validation, so that a value is checked
//! by the same rules as one in the file; a problem with it is located in the argument itself
//! (`--set measure.repetitions=0: repetitions must be at least 1`, with a caret under the 0). The definition text stays as the file has it:
//! the overrides are kept in the validated [`ReportDef`], and so in `results.json`, and a resume
//! or a reproduction applies them to the recorded text again ([`Overrides::load`]).

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use toml_edit::{DocumentMut, Item, TableLike};

use super::error::{DefinitionError, LoadError, closest};
use super::{Cell, MachineLimits, ReportDef};

/// What the command line changed in a definition; empty for a definition run as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Overrides {
    /// The sweeps to keep, by name (empty: every sweep).
    pub only: Vec<String>,
    /// The settings, in the order given, each as `KEY=VALUE`; a later one wins over an earlier
    /// one of the same key.
    #[schemars(with = "Vec<String>")]
    pub set: Vec<Setting>,
}

/// One `--set KEY=VALUE`: a dotted key into the definition's tables and a TOML value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The argument as given, `KEY=VALUE`.
    text: String,
    /// The key's parts: `measure.repetitions` is `["measure", "repetitions"]`.
    key: Vec<String>,
    /// Where the key and the value are in `text`.
    key_span: Range<usize>,
    value_span: Range<usize>,
}

/// Why a `--set` argument cannot be read, whatever the definition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    #[error("`{0}` has no `=`: write KEY=VALUE, such as measure.repetitions=3")]
    NoEquals(String),
    #[error(
        "`{0}` is not a key: write table and key names joined by dots, such as measure.repetitions"
    )]
    BadKey(String),
    #[error("`{value}` is not a TOML value ({reason}): quote text, as in title='\"My title\"'")]
    BadValue { value: String, reason: String },
}

impl FromStr for Setting {
    type Err = SettingError;

    fn from_str(text: &str) -> Result<Setting, SettingError> {
        let (key, value) = text
            .split_once('=')
            .ok_or_else(|| SettingError::NoEquals(text.to_string()))?;
        let parts: Vec<String> = key.trim().split('.').map(str::to_string).collect();
        let bare = |p: &String| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        if !parts.iter().all(bare) {
            return Err(SettingError::BadKey(key.to_string()));
        }
        toml_edit::Value::from_str(value.trim()).map_err(|e| SettingError::BadValue {
            value: value.to_string(),
            reason: e.message().trim_end().to_string(),
        })?;
        let key_start = key.len() - key.trim_start().len();
        let value_start = key.len() + 1 + (value.len() - value.trim_start().len());
        Ok(Setting {
            text: text.to_string(),
            key: parts,
            key_span: key_start..key.trim_end().len(),
            value_span: value_start..key.len() + 1 + value.trim_end().len(),
        })
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Setting {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Setting {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Setting, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Setting {
    /// The value as TOML text.
    fn value(&self) -> &str {
        &self.text[self.value_span.clone()]
    }

    /// An error about this setting, located in the argument.
    fn error(&self, span: Range<usize>, message: impl Into<String>) -> DefinitionError {
        DefinitionError::in_argument("--set", &self.text, span, message)
    }
}

impl Overrides {
    /// Whether nothing is overridden.
    pub fn is_empty(&self) -> bool {
        self.only.is_empty() && self.set.is_empty()
    }

    /// The command-line arguments that make these overrides (`--only NAME`, `--set KEY=VALUE`).
    pub fn to_args(&self) -> Vec<String> {
        let only = self
            .only
            .iter()
            .flat_map(|n| ["--only".to_string(), n.clone()]);
        let set = self
            .set
            .iter()
            .flat_map(|s| ["--set".to_string(), s.text.clone()]);
        only.chain(set).collect()
    }

    /// Reads and validates a definition with these overrides, which the result keeps.
    ///
    /// The text must be valid as written first, so that a problem in the file is located in the
    /// file; then the settings are applied and the result validated again, a problem with a
    /// setting located in its argument; last, `--only` keeps the sweeps it names.
    pub fn load(
        &self,
        path: &str,
        text: &str,
        limits: &MachineLimits,
    ) -> Result<ReportDef, LoadError> {
        let mut def = super::load(path, text, limits)?;
        if !self.set.is_empty() {
            let effective = self.apply(text)?;
            def = super::load(path, &effective, limits)
                .map_err(|e| self.locate(path, &effective, e))?;
        }
        self.keep_only(&mut def, path)?;
        def.overrides = self.clone();
        Ok(def)
    }

    /// [`Overrides::load`] for the built-in definition, `reports/quick.toml`.
    pub fn load_builtin(&self, limits: &MachineLimits) -> Result<ReportDef, LoadError> {
        let mut def = self.load(super::QUICK_PATH, super::QUICK_TOML, limits)?;
        def.name = "quick".to_string();
        Ok(def)
    }

    /// The definition text with every setting written in.
    fn apply(&self, text: &str) -> Result<String, LoadError> {
        let mut doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
            let at = e.span().unwrap_or(0..0);
            LoadError {
                errors: vec![DefinitionError::at("definition", text, at, e.message())],
            }
        })?;
        let mut errors = Vec::new();
        for setting in &self.set {
            if let Err(e) = set(doc.as_table_mut(), setting) {
                errors.push(e);
            }
        }
        if errors.is_empty() {
            Ok(doc.to_string())
        } else {
            Err(LoadError { errors })
        }
    }

    /// Moves each error located on a setting's line of `effective` into that setting's argument;
    /// the rest stay in the effective text, named as such.
    fn locate(&self, path: &str, effective: &str, e: LoadError) -> LoadError {
        let placed_doc = toml_edit::Document::parse(effective).ok();
        let placed: Vec<Placed> = self
            .set
            .iter()
            .filter_map(|s| placed(placed_doc.as_ref()?.as_table(), s))
            .collect();
        let errors = e
            .errors
            .into_iter()
            .map(|mut error| {
                let at = offset_of(effective, error.line, error.column);
                // The last setting of a key is the one written in.
                for p in placed.iter().rev() {
                    if p.keys.iter().any(|k| k.contains(&at)) {
                        return p.setting.error(p.setting.key_span.clone(), error.message);
                    }
                    if p.value.contains(&at) {
                        return p.setting.error(p.setting.value_span.clone(), error.message);
                    }
                }
                error.path = format!("{path} (as --set changed it)");
                error
            })
            .collect();
        LoadError { errors }
    }

    /// Keeps the sweeps that `--only` names (and every Markdown cell); an unknown name is an
    /// error that lists the sweeps.
    fn keep_only(&self, def: &mut ReportDef, path: &str) -> Result<(), LoadError> {
        if self.only.is_empty() {
            return Ok(());
        }
        let names: Vec<&str> = def.sweeps().map(|s| s.name.as_str()).collect();
        let errors: Vec<DefinitionError> = self
            .only
            .iter()
            .filter(|n| !names.contains(&n.as_str()))
            .map(|n| {
                let hint = closest(n, names.iter().copied())
                    .map_or(String::new(), |c| format!("; did you mean `{c}`?"));
                let message = format!(
                    "no sweep named `{n}` in {path}{hint} (its sweeps: {})",
                    names.join(", ")
                );
                DefinitionError::in_argument("--only", n, 0..n.len(), message)
            })
            .collect();
        if !errors.is_empty() {
            return Err(LoadError { errors });
        }
        def.cells.retain(|c| match c {
            Cell::Sweep(s) => self.only.contains(&s.name),
            Cell::Markdown { .. } | Cell::Figure(_) => true,
        });
        Ok(())
    }
}

/// Writes `setting` into `table`, creating the tables on its way that do not exist yet.
fn set(table: &mut dyn TableLike, setting: &Setting) -> Result<(), DefinitionError> {
    let (last, parents) = setting.key.split_last().expect("a key has a part");
    let mut table = table;
    for (depth, part) in parents.iter().enumerate() {
        if !table.contains_key(part) {
            table.insert(part, toml_edit::table());
        }
        let item = table.get_mut(part).expect("just made");
        if item.is_array_of_tables() || item.is_array() {
            let message = format!(
                "`{}` is a list, which --set cannot reach into: it sets keys of tables, such as `seed` or `measure.repetitions`",
                setting.key[..=depth].join(".")
            );
            return Err(setting.error(setting.key_span.clone(), message));
        }
        table = item.as_table_like_mut().ok_or_else(|| {
            let message = format!("`{}` is not a table", setting.key[..=depth].join("."));
            setting.error(setting.key_span.clone(), message)
        })?;
    }
    let mut value: toml_edit::Value = setting.value().parse().expect("parsed when read");
    // A replaced value keeps its spacing and its comment.
    if let Some(Item::Value(old)) = table.get(last) {
        *value.decor_mut() = old.decor().clone();
    }
    table.insert(last, Item::Value(value));
    Ok(())
}

/// Where a setting landed in the effective text.
struct Placed<'a> {
    setting: &'a Setting,
    /// The spans of its key's parts, and of the headers of the tables it reaches through (a
    /// table it made has its header there).
    keys: Vec<Range<usize>>,
    /// The span of its value.
    value: Range<usize>,
}

/// Where `setting` landed in a parsed document.
fn placed<'a>(table: &dyn TableLike, setting: &'a Setting) -> Option<Placed<'a>> {
    let (last, parents) = setting.key.split_last()?;
    let mut keys = Vec::new();
    let mut table = table;
    for part in parents {
        let (key, item) = table.get_key_value(part)?;
        keys.extend(key.span());
        if let Item::Table(header) = item {
            keys.extend(header.span());
        }
        table = item.as_table_like()?;
    }
    let (key, item) = table.get_key_value(last)?;
    keys.extend(key.span());
    Some(Placed {
        setting,
        keys,
        value: item.span()?,
    })
}

/// The byte offset of a 1-based line and character column in `text`.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let rest = &text[line_start.min(text.len())..];
    line_start
        + rest
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(rest.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: MachineLimits = MachineLimits {
        logical_cores: 4,
        host_memory_bytes: 8 << 30,
    };

    const TEXT: &str = "title = \"t\"
# The settings every sweep starts from.
[measure]
repetitions = 2 # two each
max_repetitions = 5

[[cell]]
markdown = \"## First\"

[[cell]]
sweep = { name = \"first\", backend = \"cpu\", algorithms = [\"std-unstable\"], sizes = [8] }

[[cell]]
sweep = { name = \"second\", backend = \"cpu\", algorithms = [\"std-stable\"], sizes = [8] }
";

    fn overrides(only: &[&str], set: &[&str]) -> Overrides {
        Overrides {
            only: only.iter().map(|s| s.to_string()).collect(),
            set: set.iter().map(|s| s.parse().unwrap()).collect(),
        }
    }

    fn refused(o: &Overrides, text: &str) -> Vec<String> {
        let e = o.load("t.toml", text, &LIMITS).expect_err("refused");
        e.errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_setting_replaces_a_value_adds_a_key_and_makes_a_table() {
        let o = overrides(
            &[],
            &["measure.repetitions=3", "measure.warmup=0", "seed=9"],
        );
        let def = o.load("t.toml", TEXT, &LIMITS).unwrap();
        assert_eq!((def.measure.repetitions, def.measure.warmup), (3, 0));
        assert_eq!(def.seed, 9);
        let sweep = def.sweeps().next().unwrap();
        assert_eq!(
            sweep.measure.repetitions, 3,
            "sweeps start from the new settings"
        );
        assert_eq!(def.overrides, o);
        let effective = o.apply(TEXT).unwrap();
        assert!(
            effective.contains("repetitions = 3 # two each\n"),
            "{effective}"
        );
        assert!(
            effective.contains("# The settings every sweep starts from.\n"),
            "{effective}"
        );

        let bare = "title = \"t\"\n[[cell]]\nsweep = { backend = \"cpu\", algorithms = [\"radix\"], sizes = [8] }\n";
        let def = overrides(&[], &["measure.rounds=2"])
            .load("t.toml", bare, &LIMITS)
            .unwrap();
        assert_eq!(def.measure.rounds, 2);
    }

    #[test]
    fn the_last_setting_of_a_key_wins() {
        let o = overrides(&[], &["seed=1", "seed=2"]);
        assert_eq!(o.load("t.toml", TEXT, &LIMITS).unwrap().seed, 2);
    }

    #[test]
    fn a_refused_value_is_located_in_its_argument() {
        let errors = refused(&overrides(&[], &["measure.repetitions=0"]), TEXT);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with("--set measure.repetitions=0: repetitions must be at least 1"),
            "{errors:?}"
        );
        assert!(
            errors[0]
                .ends_with("\n  | --set measure.repetitions=0\n  |                           ^"),
            "{errors:?}"
        );

        let errors = refused(&overrides(&[], &["seed=\"x\""]), TEXT);
        assert!(
            errors[0].starts_with("--set seed=\"x\": invalid type: string \"x\""),
            "{errors:?}"
        );
    }

    #[test]
    fn an_unknown_key_is_located_in_its_argument_with_a_suggestion() {
        let errors = refused(&overrides(&[], &["measure.repetitons=3"]), TEXT);
        assert!(
            errors[0].starts_with("--set measure.repetitons=3: unknown field `repetitons`"),
            "{errors:?}"
        );
        assert!(
            errors[0].contains("did you mean `repetitions`?"),
            "{errors:?}"
        );
    }

    #[test]
    fn a_problem_a_setting_causes_elsewhere_names_the_changed_definition() {
        let errors = refused(&overrides(&[], &["measure.repetitions=9"]), TEXT);
        assert!(
            errors[0].starts_with(
                "t.toml (as --set changed it):5:19: max_repetitions (5) is below repetitions (9)"
            ),
            "{errors:?}"
        );
    }

    #[test]
    fn a_list_cannot_be_set_into() {
        let errors = refused(&overrides(&[], &["cell.sweep=1"]), TEXT);
        assert!(
            errors[0].starts_with("--set cell.sweep=1: `cell` is a list"),
            "{errors:?}"
        );
        let errors = refused(&overrides(&[], &["seed=1", "seed.x=1"]), TEXT);
        assert!(errors[0].contains("`seed` is not a table"), "{errors:?}");
        // A table a setting makes is its own: a problem with it is the setting's.
        let errors = refused(&overrides(&[], &["seed.x=1"]), TEXT);
        assert!(
            errors[0].starts_with("--set seed.x=1: invalid type: map, expected u64"),
            "{errors:?}"
        );
    }

    #[test]
    fn the_file_is_checked_as_written_first() {
        let bad = TEXT.replace("repetitions = 2", "repetitions = 0");
        let errors = refused(&overrides(&[], &["measure.repetitions=3"]), &bad);
        assert!(errors[0].starts_with("t.toml:4:15:"), "{errors:?}");
    }

    #[test]
    fn only_keeps_the_named_sweeps_and_every_markdown_cell() {
        let def = overrides(&["second"], &[])
            .load("t.toml", TEXT, &LIMITS)
            .unwrap();
        let names: Vec<&str> = def.sweeps().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["second"]);
        assert_eq!(def.cells.len(), 2);
        assert_eq!(
            def.sweeps().next().unwrap().cell,
            2,
            "cells keep their places"
        );
    }

    #[test]
    fn an_unknown_sweep_lists_the_sweeps_and_the_closest() {
        let errors = refused(&overrides(&["secnod"], &[]), TEXT);
        assert!(
            errors[0].starts_with(
                "--only secnod: no sweep named `secnod` in t.toml; did you mean `second`? (its sweeps: first, second)"
            ),
            "{errors:?}"
        );
    }

    #[test]
    fn a_malformed_argument_is_refused_before_any_definition() {
        assert!(matches!(
            "seed".parse::<Setting>(),
            Err(SettingError::NoEquals(_))
        ));
        assert!(matches!(
            "a..b=1".parse::<Setting>(),
            Err(SettingError::BadKey(_))
        ));
        assert!(matches!(
            "=1".parse::<Setting>(),
            Err(SettingError::BadKey(_))
        ));
        let e = "title=My title".parse::<Setting>().unwrap_err();
        assert!(matches!(e, SettingError::BadValue { .. }), "{e}");
        let s: Setting = " measure.rounds = 4".parse().unwrap();
        assert_eq!(s.key, ["measure", "rounds"]);
        assert_eq!(s.value(), "4");
    }

    #[test]
    fn overrides_round_trip_through_json_as_their_arguments() {
        let o = overrides(&["first"], &["measure.repetitions=3", "title=\"x = y\""]);
        let json = serde_json::to_string(&o).unwrap();
        assert_eq!(
            json,
            r#"{"only":["first"],"set":["measure.repetitions=3","title=\"x = y\""]}"#
        );
        assert_eq!(serde_json::from_str::<Overrides>(&json).unwrap(), o);
        assert_eq!(
            serde_json::to_string(&Overrides::default()).unwrap(),
            r#"{"only":[],"set":[]}"#
        );
        assert_eq!(
            o.to_args(),
            [
                "--only",
                "first",
                "--set",
                "measure.repetitions=3",
                "--set",
                "title=\"x = y\""
            ]
        );
    }
}
