//! The definition exactly as TOML spells it, with source spans kept for validation messages.
//!
//! Every table denies unknown keys, and no type uses `untagged` or `flatten`, so serde's
//! messages name the offending key and the valid ones.

use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use toml::Spanned;
use toml::de::{DeTable, DeValue, Deserializer as DocumentDeserializer, ValueDeserializer};

use super::DeviceSelection;
use super::error::{DefinitionError, LoadError, suggest_closest};
use super::size::Size;
use crate::catalog::BackendKind;
use crate::data::{Distribution, KeyType};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDef {
    pub title: Spanned<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_seed")]
    pub seed: u64,
    #[serde(default)]
    pub measure: RawMeasure,
    #[serde(default, rename = "cell")]
    pub cells: Vec<Spanned<RawCell>>,
}

fn default_seed() -> u64 {
    42
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMeasure {
    pub warmup: Option<Spanned<u32>>,
    pub repetitions: Option<Spanned<u32>>,
    /// Seconds.
    pub min_time: Option<Spanned<f64>>,
    pub max_repetitions: Option<Spanned<u32>>,
    /// Seconds.
    pub timeout: Option<Spanned<f64>>,
    pub rounds: Option<Spanned<u32>>,
    pub max_rounds: Option<Spanned<u32>>,
    /// A fraction, e.g. 0.01 for 1 %.
    pub precision: Option<Spanned<f64>>,
    /// Seconds.
    pub max_time: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCell {
    pub markdown: Option<String>,
    pub sweep: Option<Spanned<RawSweep>>,
    pub figure: Option<Spanned<super::figure::RawFigure>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSweep {
    pub name: Option<Spanned<String>>,
    pub backend: Spanned<BackendKind>,
    pub algorithms: Spanned<Vec<Spanned<String>>>,
    pub keys: Option<Spanned<Vec<KeyType>>>,
    pub distributions: Option<Spanned<Vec<Distribution>>>,
    pub sizes: Spanned<RawSizes>,
    pub threads: Option<Spanned<Vec<Spanned<ThreadCount>>>>,
    pub devices: Option<Spanned<DeviceSelection>>,
    #[serde(default)]
    pub exclude: Vec<Spanned<RawExclude>>,
    pub measure: Option<RawMeasure>,
    pub command: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExclude {
    pub algorithm: Option<Spanned<String>>,
    pub key: Option<KeyType>,
    pub distribution: Option<Distribution>,
    pub size: Option<Size>,
    pub threads: Option<u32>,
}

/// `sizes = ["2^16", "1Mi"]` or `sizes = { from = "2^16", to = "2^24", factor = 4 }`.
#[derive(Debug)]
pub enum RawSizes {
    List(Vec<Spanned<Size>>),
    Range(RawRange),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRange {
    pub from: Spanned<Size>,
    pub to: Spanned<Size>,
    #[serde(default = "default_factor")]
    pub factor: Spanned<u64>,
}

fn default_factor() -> Spanned<u64> {
    Spanned::new(0..0, 2)
}

impl<'de> Deserialize<'de> for RawSizes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SizesVisitor;
        impl<'de> Visitor<'de> for SizesVisitor {
            type Value = RawSizes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of sizes or a range table { from, to, factor }")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RawSizes, A::Error> {
                Vec::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(RawSizes::List)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawSizes, A::Error> {
                RawRange::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawSizes::Range)
            }
        }
        d.deserialize_any(SizesVisitor)
    }
}

/// A thread count: a positive number or `"all"` (the logical core count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadCount {
    All,
    Count(u64),
}

impl<'de> Deserialize<'de> for ThreadCount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ThreadVisitor;
        impl Visitor<'_> for ThreadVisitor {
            type Value = ThreadCount;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a thread count (a whole number) or \"all\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ThreadCount, E> {
                u64::try_from(v)
                    .map(ThreadCount::Count)
                    .map_err(|_| E::custom(format!("a thread count cannot be negative, got {v}")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ThreadCount, E> {
                Ok(ThreadCount::Count(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ThreadCount, E> {
                if v == "all" {
                    Ok(ThreadCount::All)
                } else {
                    Err(E::custom(format!(
                        "unknown thread count `{v}`: write a number or \"all\""
                    )))
                }
            }
        }
        d.deserialize_any(ThreadVisitor)
    }
}

impl serde::Serialize for DeviceSelection {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            DeviceSelection::All => s.serialize_str("all"),
            DeviceSelection::List(ordinals) => ordinals.serialize(s),
        }
    }
}

impl JsonSchema for DeviceSelection {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DeviceSelection".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Which GPUs a CUDA sweep runs on: \"all\", or a list of CUDA ordinals.",
            "oneOf": [{"const": "all"}, generator.subschema_for::<Vec<u32>>()]
        })
    }
}

impl<'de> Deserialize<'de> for DeviceSelection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct DeviceVisitor;
        impl<'de> Visitor<'de> for DeviceVisitor {
            type Value = DeviceSelection;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of GPU ordinals or \"all\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DeviceSelection, E> {
                if v == "all" {
                    Ok(DeviceSelection::All)
                } else {
                    Err(E::custom(format!(
                        "unknown device selection `{v}`: write \"all\" or a list such as [0, 1]"
                    )))
                }
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<DeviceSelection, A::Error> {
                Vec::deserialize(de::value::SeqAccessDeserializer::new(seq))
                    .map(DeviceSelection::List)
            }
        }
        d.deserialize_any(DeviceVisitor)
    }
}

/// Deserializes the TOML, turning syntax and type errors into a located [`LoadError`].
///
/// A syntax error is reported alone: nothing after it can be read reliably. Type errors (an
/// unknown key, a value of the wrong kind, a missing field) stop serde at the first, so on one
/// the top level, `[measure]` and every `[[cell]]` are read again separately, and every part's
/// first problem is listed at once.
pub fn parse(path: &str, text: &str) -> Result<RawDef, LoadError> {
    let document = DeTable::parse(text).map_err(|e| LoadError {
        errors: vec![located(path, text, &e)],
    })?;
    RawDef::deserialize(DocumentDeserializer::from(document.clone())).map_err(|first| {
        let mut errors: Vec<DefinitionError> = type_errors_by_part(document)
            .iter()
            .map(|e| located(path, text, e))
            .collect();
        if errors.is_empty() {
            errors.push(located(path, text, &first));
        }
        errors.sort_by_key(|e| (e.line, e.column));
        errors.dedup();
        LoadError { errors }
    })
}

/// When some parts of a definition did not read: the parts that did, to be validated so that
/// their problems are reported beside the reading problems. The top level stands in with an
/// empty title where it did not read, `[measure]` with the defaults, and only the cells that
/// read on their own are kept, less the figure cells when a cell did not read (a figure may
/// name a sweep that was left out). The byte ranges returned are those of the kept `[measure]`
/// and cells, each up to the next part: the only places whose validation problems are real.
/// `None` when the text is not TOML at all.
pub fn readable_parts(text: &str) -> Option<(RawDef, Vec<std::ops::Range<usize>>)> {
    let document = DeTable::parse(text).ok()?;
    let span = document.span();
    let mut top = document.into_inner();
    let cells: Vec<Spanned<DeValue<'_>>> = match top.remove("cell").map(Spanned::into_inner) {
        Some(DeValue::Array(cells)) => cells.into_iter().collect(),
        _ => Vec::new(),
    };
    let measure = top.remove("measure");
    let mut def = RawDef::deserialize(DocumentDeserializer::from(Spanned::new(span, top)))
        .unwrap_or_else(|_| RawDef {
            title: Spanned::new(0..0, "unread".to_string()),
            description: String::new(),
            seed: default_seed(),
            measure: RawMeasure::default(),
            cells: Vec::new(),
        });
    // A part's span may be its `[[cell]]` header only: each part reaches to the next one.
    let mut starts: Vec<usize> = cells.iter().map(|c| c.span().start).collect();
    starts.extend(measure.as_ref().map(|m| m.span().start));
    let region = |start: usize| {
        let end = starts.iter().copied().filter(|&s| s > start).min();
        start..end.unwrap_or(text.len())
    };
    let mut kept = Vec::new();
    if let Some(measure) = measure {
        let start = measure.span().start;
        if let Ok(m) = RawMeasure::deserialize(ValueDeserializer::from(measure)) {
            def.measure = m;
            kept.push(region(start));
        }
    }
    let total = cells.len();
    let mut read: Vec<Spanned<RawCell>> = cells
        .into_iter()
        .filter_map(|cell| Spanned::<RawCell>::deserialize(ValueDeserializer::from(cell)).ok())
        .collect();
    if read.len() < total {
        read.retain(|c| c.get_ref().figure.is_none());
    }
    kept.extend(read.iter().map(|c| region(c.span().start)));
    def.cells = read;
    Some((def, kept))
}

/// The first type error of each independent part of `document`: the top level without its
/// cells and measurement settings, `[measure]`, and each `[[cell]]` on its own.
fn type_errors_by_part(document: Spanned<DeTable<'_>>) -> Vec<toml::de::Error> {
    let span = document.span();
    let mut top = document.into_inner();
    let cells = top.remove("cell");
    let measure = top.remove("measure");
    let mut errors = Vec::new();
    errors.extend(RawDef::deserialize(DocumentDeserializer::from(Spanned::new(span, top))).err());
    if let Some(measure) = measure {
        errors.extend(RawMeasure::deserialize(ValueDeserializer::from(measure)).err());
    }
    match cells.map(|c| (c.span(), c.into_inner())) {
        Some((_, DeValue::Array(cells))) => {
            for cell in cells {
                errors.extend(RawCell::deserialize(ValueDeserializer::from(cell)).err());
            }
        }
        Some((span, other)) => {
            let cells = ValueDeserializer::from(Spanned::new(span, other));
            errors.extend(Vec::<RawCell>::deserialize(cells).err());
        }
        None => {}
    }
    errors
}

/// A TOML error located in `text`, with a "did you mean" for a misspelt name.
fn located(path: &str, text: &str, e: &toml::de::Error) -> DefinitionError {
    let span = e.span().unwrap_or(0..0);
    DefinitionError::at(path, text, span, suggest_closest(e.message().trim_end()))
}
