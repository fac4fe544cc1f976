//! Dotted versions ("13.4.1", "580.65.06", "3.1.0rc1") and ranges (">=13.4, <13.5") for matching
//! observed versions against known issues.
//!
//! Only the leading numeric parts count: "3.1.0rc1" compares as 3.1.0, and missing parts are
//! zero, so "13.4" equals "13.4.0". That is coarse for pre-releases, which no rule targets.

use std::cmp::Ordering;
use std::fmt;

/// A dotted numeric version.
#[derive(Debug, Clone)]
pub struct Version(Vec<u64>);

impl Version {
    /// Parses "13.4.1", "v12.8", "3.1.0rc1", "525.60.13"; `None` without a leading number.
    pub fn parse(text: &str) -> Option<Version> {
        let text = text.trim().trim_start_matches(['v', 'V']);
        let mut parts = Vec::new();
        for part in text.split('.') {
            let digits: String = part.chars().take_while(|c| c.is_ascii_digit()).collect();
            if digits.is_empty() {
                break;
            }
            parts.push(digits.parse().ok()?);
            if digits.len() < part.len() {
                break;
            }
        }
        (!parts.is_empty()).then_some(Version(parts))
    }

    /// The first part (the major version).
    pub fn major(&self) -> u64 {
        self.0[0]
    }

    /// The second part, zero when absent.
    pub fn minor(&self) -> u64 {
        self.0.get(1).copied().unwrap_or(0)
    }

    fn part(&self, i: usize) -> u64 {
        self.0.get(i).copied().unwrap_or(0)
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let n = self.0.len().max(other.0.len());
        (0..n)
            .map(|i| self.part(i).cmp(&other.part(i)))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|p| p.to_string()).collect();
        f.write_str(&parts.join("."))
    }
}

/// A conjunction of comparisons, written ">=13.4, <13.5"; a bare version means "==".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRange(Vec<(Op, Version)>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl VersionRange {
    /// Parses a comma-separated list of comparisons; the error names the part that is wrong.
    pub fn parse(text: &str) -> Result<VersionRange, String> {
        let mut bounds = Vec::new();
        for part in text.split(',').map(str::trim) {
            let (op, rest) = [
                (">=", Op::Ge),
                ("<=", Op::Le),
                ("==", Op::Eq),
                ("!=", Op::Ne),
                (">", Op::Gt),
                ("<", Op::Lt),
                ("=", Op::Eq),
            ]
            .iter()
            .find_map(|(s, op)| part.strip_prefix(s).map(|rest| (*op, rest)))
            .unwrap_or((Op::Eq, part));
            let version = Version::parse(rest)
                .filter(|_| rest.trim().chars().all(|c| c.is_ascii_digit() || c == '.'))
                .ok_or_else(|| format!("`{part}` is not a comparison such as `>=13.4`"))?;
            bounds.push((op, version));
        }
        Ok(VersionRange(bounds))
    }

    /// Whether `version` satisfies every comparison.
    pub fn contains(&self, version: &Version) -> bool {
        self.0.iter().all(|(op, bound)| {
            let o = version.cmp(bound);
            match op {
                Op::Lt => o.is_lt(),
                Op::Le => o.is_le(),
                Op::Gt => o.is_gt(),
                Op::Ge => o.is_ge(),
                Op::Eq => o.is_eq(),
                Op::Ne => o.is_ne(),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn parses_dotted_versions() {
        assert_eq!(v("13.4.1").to_string(), "13.4.1");
        assert_eq!(v("v12.8").to_string(), "12.8");
        assert_eq!(v("3.1.0rc1").to_string(), "3.1.0");
        assert_eq!(v("3.13.0+").to_string(), "3.13.0");
        assert_eq!(v("525.60.13").major(), 525);
        assert!(Version::parse("abc").is_none());
        assert!(Version::parse("").is_none());
    }

    #[test]
    fn compares_with_missing_parts_as_zero() {
        assert_eq!(v("13.4"), v("13.4.0"));
        assert!(v("13.4.1") > v("13.4"));
        assert!(v("13.10") > v("13.9"));
        assert!(v("580.65.06") > v("580"));
        assert!(v("3.0.12") < v("3.1"));
    }

    #[test]
    fn matches_ranges() {
        let r = VersionRange::parse(">=13.4, <13.5").unwrap();
        assert!(r.contains(&v("13.4.0")));
        assert!(r.contains(&v("13.4.1")));
        assert!(!r.contains(&v("13.5.0")));
        assert!(!r.contains(&v("13.3.0")));
        assert!(VersionRange::parse("<13.4").unwrap().contains(&v("13.3.0")));
        assert!(VersionRange::parse("13.4").unwrap().contains(&v("13.4.0")));
        assert!(
            VersionRange::parse("!=3.0.11")
                .unwrap()
                .contains(&v("3.0.12"))
        );
        assert!(VersionRange::parse(">3.1").unwrap().contains(&v("3.1.1")));
        assert!(!VersionRange::parse("<=3.0").unwrap().contains(&v("3.0.1")));
    }

    #[test]
    fn refuses_malformed_ranges() {
        assert!(VersionRange::parse(">=thirteen").is_err());
        assert!(VersionRange::parse(">=13.4rc1").is_err());
        assert!(VersionRange::parse(">=13.4,").is_err());
    }
}
