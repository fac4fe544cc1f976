//! Size expressions: `65536`, `"2^20"`, `"16Mi"`, `"1M"`, `"1e6"`, `"4Ki"`.
//!
//! Binary suffixes (`Ki`, `Mi`, `Gi`) multiply by powers of 1024, decimal ones (`k`, `M`, `G`)
//! by powers of 1000. Every expression must denote a whole number of keys.

use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A number of keys written as a size expression; remembers how it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Size {
    /// The number of keys.
    pub n: u64,
    /// The expression as written in the definition (for reports).
    pub text: String,
}

/// Why a size expression could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "bad size expression `{text}`: {why} (write e.g. 65536, \"2^16\", \"64Ki\", \"1M\" or \"1e6\")"
)]
pub struct SizeError {
    text: String,
    why: &'static str,
}

impl Size {
    /// Parses a size expression.
    pub fn parse(text: &str) -> Result<Size, SizeError> {
        let err = |why| SizeError {
            text: text.to_string(),
            why,
        };
        let t = text.trim().replace('_', "");
        if t.is_empty() {
            return Err(err("it is empty"));
        }
        let n = if let Some((base, exp)) = t.split_once('^') {
            let base: u64 = base
                .trim()
                .parse()
                .map_err(|_| err("the base is not a whole number"))?;
            let exp: u32 = exp
                .trim()
                .parse()
                .map_err(|_| err("the exponent is not a whole number"))?;
            base.checked_pow(exp)
                .ok_or_else(|| err("it is too large"))?
        } else if let Some((mantissa, exp)) = t.split_once(['e', 'E']) {
            let mantissa: u64 = mantissa
                .parse()
                .map_err(|_| err("the mantissa is not a whole number"))?;
            let exp: u32 = exp
                .parse()
                .map_err(|_| err("the exponent is not a whole number"))?;
            10u64
                .checked_pow(exp)
                .and_then(|p| p.checked_mul(mantissa))
                .ok_or_else(|| err("it is too large"))?
        } else {
            let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
            let (digits, suffix) = t.split_at(split);
            let value: u64 = digits
                .parse()
                .map_err(|_| err("it does not start with a number"))?;
            let multiplier: u64 = match suffix.trim() {
                "" => 1,
                "k" | "K" => 1_000,
                "M" => 1_000_000,
                "G" => 1_000_000_000,
                "Ki" => 1 << 10,
                "Mi" => 1 << 20,
                "Gi" => 1 << 30,
                _ => return Err(err("the suffix is not one of k, M, G, Ki, Mi, Gi")),
            };
            value
                .checked_mul(multiplier)
                .ok_or_else(|| err("it is too large"))?
        };
        Ok(Size {
            n,
            text: text.trim().to_string(),
        })
    }

    /// A size from a plain number.
    pub fn from_n(n: u64) -> Size {
        Size {
            n,
            text: n.to_string(),
        }
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Size {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// A size is written as the expression the definition gave, so that a report shows it as its
/// author wrote it.
impl JsonSchema for Size {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Size".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A number of keys as the definition wrote it: a whole number or an expression such as \"2^20\", \"1Mi\" or \"1e6\".",
            "type": "string"
        })
    }
}

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Size, D::Error> {
        struct SizeVisitor;
        impl Visitor<'_> for SizeVisitor {
            type Value = Size;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a size: a whole number or an expression such as \"2^20\", \"1Mi\" or \"1e6\"",
                )
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Size, E> {
                Ok(Size::from_n(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Size, E> {
                u64::try_from(v).map(Size::from_n).map_err(|_| {
                    E::custom(format!(
                        "bad size expression `{v}`: a size cannot be negative"
                    ))
                })
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Size, E> {
                Size::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(SizeVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_documented_form() {
        let cases = [
            ("65536", 65536),
            ("2^20", 1 << 20),
            ("2 ^ 4", 16),
            ("1Mi", 1 << 20),
            ("16Mi", 16 << 20),
            ("4Ki", 4096),
            ("1Gi", 1 << 30),
            ("1e6", 1_000_000),
            ("3E2", 300),
            ("1M", 1_000_000),
            ("10k", 10_000),
            ("1_000", 1000),
            ("0", 0),
        ];
        for (text, n) in cases {
            assert_eq!(Size::parse(text).map(|s| s.n), Ok(n), "{text}");
        }
    }

    #[test]
    fn refuses_malformed_expressions() {
        for text in [
            "", "abc", "2^", "^3", "1.5e6", "12Q", "2^99", "1e30", "-3", "1.5Mi", "Mi",
        ] {
            assert!(Size::parse(text).is_err(), "{text} should be refused");
        }
        let msg = Size::parse("12Q").unwrap_err().to_string();
        assert!(msg.contains("12Q") && msg.contains("suffix"), "{msg}");
    }

    #[test]
    fn keeps_the_written_text() {
        assert_eq!(Size::parse(" 2^10 ").unwrap().to_string(), "2^10");
    }
}
