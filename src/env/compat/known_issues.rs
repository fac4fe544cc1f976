//! Known incompatibilities as data: `src/env/known_issues.toml`, embedded in the binary and
//! matched against the facts the probes observed.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use super::version::{Version, VersionRange};
use crate::env::CheckStatus;

/// The rules file, embedded.
pub const KNOWN_ISSUES_TOML: &str = include_str!("../known_issues.toml");

/// The fact names a rule's condition may use, each with what it is.
pub const FACT_NAMES: &[(&str, &str)] = &[
    ("python", "Python version of the peer's interpreter"),
    ("cupy", "CuPy version"),
    ("cupy_cython", "the Cython version CuPy was compiled with"),
    ("cupy_build", "wheel, source, conda or unknown"),
    ("cupy_import_error", "the exception `import cupy` raised"),
    ("cupy_packages", "how many CuPy distributions are installed"),
    ("driver", "the NVIDIA driver's version"),
    (
        "driver_cuda",
        "the highest CUDA version the driver supports",
    ),
    ("nvrtc", "NVRTC's version"),
];

/// What was observed, by fact name; facts that were not observed are absent.
pub type RuleFacts = BTreeMap<&'static str, String>;

/// The parsed rules file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownIssues {
    /// The oldest driver for each CUDA major version (`[[driver_minimum]]`).
    #[serde(default)]
    pub driver_minimum: Vec<DriverMinimum>,
    /// The known issues (`[[rule]]`), in file order.
    #[serde(default)]
    pub rule: Vec<Rule>,
}

/// The oldest driver that runs code built with one CUDA major version.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriverMinimum {
    /// The CUDA major version, e.g. 13.
    pub cuda_major: u64,
    /// The oldest driver version that runs it, e.g. "525".
    pub driver: String,
    /// Where NVIDIA says so.
    pub source: String,
}

/// One known incompatibility.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// A stable identifier; the check's id is `known-issue.` and this.
    pub id: String,
    /// What is affected, e.g. `CuPy`.
    pub component: String,
    /// How bad it is when it applies.
    pub status: CheckStatus,
    /// What goes wrong, the check's summary.
    pub symptom: String,
    /// Why it goes wrong.
    pub cause: String,
    /// What to do about it.
    pub remedy: String,
    /// Where the issue is documented (an issue tracker or release notes).
    pub source: String,
    /// Alternatives: the rule applies when every condition of any one of them holds.
    pub when: Vec<BTreeMap<String, Condition>>,
}

/// A test on one fact.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// A version range such as ">=13.4, <13.5".
    pub version: Option<String>,
    /// The exact value.
    pub equals: Option<String>,
    /// A substring of the value.
    pub contains: Option<String>,
}

impl Condition {
    /// Whether `value` passes every test this condition sets.
    fn holds(&self, value: &str) -> bool {
        let version_ok = self.version.as_deref().is_none_or(|range| {
            match (VersionRange::parse(range), Version::parse(value)) {
                (Ok(range), Some(v)) => range.contains(&v),
                _ => false,
            }
        });
        version_ok
            && self.equals.as_deref().is_none_or(|e| e == value)
            && self.contains.as_deref().is_none_or(|c| value.contains(c))
    }
}

impl Rule {
    /// Whether the rule applies to `facts`; an absent fact fails its condition.
    pub fn matches(&self, facts: &RuleFacts) -> bool {
        self.when.iter().any(|all| {
            all.iter().all(|(name, condition)| {
                facts
                    .get(name.as_str())
                    .is_some_and(|value| condition.holds(value))
            })
        })
    }
}

impl KnownIssues {
    /// Parses and validates a rules file: known fact names, well-formed ranges, one test per
    /// condition, at least one alternative per rule.
    pub fn parse(text: &str) -> Result<KnownIssues, String> {
        let issues: KnownIssues = toml::from_str(text).map_err(|e| e.to_string())?;
        for rule in &issues.rule {
            if rule.when.is_empty() || rule.when.iter().any(BTreeMap::is_empty) {
                return Err(format!(
                    "rule {}: a `when` table is missing or empty",
                    rule.id
                ));
            }
            for (name, condition) in rule.when.iter().flatten() {
                if !FACT_NAMES.iter().any(|(fact, _)| fact == name) {
                    return Err(format!("rule {}: unknown fact `{name}`", rule.id));
                }
                let tests = [&condition.version, &condition.equals, &condition.contains];
                if tests.iter().filter(|t| t.is_some()).count() != 1 {
                    return Err(format!(
                        "rule {}: condition on `{name}` needs exactly one of version, equals, contains",
                        rule.id
                    ));
                }
                if let Some(range) = &condition.version {
                    VersionRange::parse(range).map_err(|e| format!("rule {}: {e}", rule.id))?;
                }
            }
        }
        Ok(issues)
    }

    /// The embedded rules, parsed once. The file is tested, so a parse failure is a bug in this
    /// build; it yields no rules rather than a crash.
    pub fn embedded() -> &'static KnownIssues {
        static ISSUES: OnceLock<KnownIssues> = OnceLock::new();
        ISSUES.get_or_init(|| {
            KnownIssues::parse(KNOWN_ISSUES_TOML).unwrap_or(KnownIssues {
                driver_minimum: Vec::new(),
                rule: Vec::new(),
            })
        })
    }

    /// The rules that apply to `facts`, in file order.
    pub fn matching(&self, facts: &RuleFacts) -> Vec<&Rule> {
        self.rule.iter().filter(|r| r.matches(facts)).collect()
    }

    /// The oldest driver for CUDA major version `major`, when the file knows it.
    pub fn driver_minimum(&self, major: u64) -> Option<&DriverMinimum> {
        self.driver_minimum.iter().find(|m| m.cuda_major == major)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(pairs: &[(&'static str, &str)]) -> RuleFacts {
        pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
    }

    fn ids(f: &RuleFacts) -> Vec<String> {
        KnownIssues::parse(KNOWN_ISSUES_TOML)
            .unwrap()
            .rule
            .iter()
            .filter(|r| r.matches(f))
            .map(|r| r.id.clone())
            .collect()
    }

    #[test]
    fn embedded_file_is_valid_and_every_rule_has_a_source() {
        let issues = KnownIssues::parse(KNOWN_ISSUES_TOML).unwrap();
        assert!(issues.rule.len() >= 3);
        for rule in &issues.rule {
            assert!(rule.source.starts_with("https://"), "{}", rule.id);
            assert!(!rule.remedy.is_empty(), "{}", rule.id);
        }
        let mins: Vec<(u64, &str)> = issues
            .driver_minimum
            .iter()
            .map(|m| (m.cuda_major, m.driver.as_str()))
            .collect();
        assert_eq!(mins, [(11, "450.80.02"), (12, "525"), (13, "580")]);
        assert_eq!(KnownIssues::embedded().rule.len(), issues.rule.len());
    }

    #[test]
    fn cupy_9128_matches_by_versions_or_by_symptom() {
        let source_build = facts(&[
            ("cupy", "13.4.1"),
            ("cupy_cython", "3.1.2"),
            ("cupy_build", "source"),
        ]);
        assert_eq!(ids(&source_build), ["cupy-9128-cython-3.1"]);
        let wheel = facts(&[
            ("cupy", "13.4.1"),
            ("cupy_cython", "3.1.2"),
            ("cupy_build", "wheel"),
        ]);
        assert!(ids(&wheel).is_empty());
        let fixed = facts(&[
            ("cupy", "13.5.0"),
            ("cupy_cython", "3.1.2"),
            ("cupy_build", "source"),
        ]);
        assert!(ids(&fixed).is_empty());
        let old_cython = facts(&[
            ("cupy", "13.4.0"),
            ("cupy_cython", "3.0.12"),
            ("cupy_build", "source"),
        ]);
        assert!(ids(&old_cython).is_empty());
        let symptom = facts(&[(
            "cupy_import_error",
            "AttributeError: attribute '__name__' of 'builtin_function_or_method' objects is not writable",
        )]);
        assert_eq!(ids(&symptom), ["cupy-9128-cython-3.1"]);
    }

    #[test]
    fn python_3_13_needs_cupy_13_4() {
        assert_eq!(
            ids(&facts(&[("python", "3.13.1"), ("cupy", "13.3.0")])),
            ["cupy-python-3.13"]
        );
        assert!(ids(&facts(&[("python", "3.13.1"), ("cupy", "13.4.0")])).is_empty());
        assert!(ids(&facts(&[("python", "3.12.7"), ("cupy", "13.3.0")])).is_empty());
        // A fact that was not observed satisfies no condition.
        assert!(ids(&facts(&[("python", "3.13.1")])).is_empty());
    }

    #[test]
    fn several_cupy_packages() {
        assert_eq!(
            ids(&facts(&[("cupy_packages", "2")])),
            ["cupy-several-packages"]
        );
        assert!(ids(&facts(&[("cupy_packages", "1")])).is_empty());
    }

    #[test]
    fn refuses_bad_rules() {
        let rule = |when: &str| {
            format!(
                "[[rule]]\nid = \"x\"\ncomponent = \"c\"\nstatus = \"warn\"\nsymptom = \"s\"\n\
                 cause = \"c\"\nremedy = \"r\"\nsource = \"https://x\"\n{when}"
            )
        };
        assert!(KnownIssues::parse(&rule("[[rule.when]]\ncupy = { version = \">=1\" }")).is_ok());
        assert!(KnownIssues::parse(&rule("[[rule.when]]\ncupyy = { version = \">=1\" }")).is_err());
        assert!(KnownIssues::parse(&rule("[[rule.when]]\ncupy = { version = \"new\" }")).is_err());
        assert!(KnownIssues::parse(&rule("[[rule.when]]\ncupy = {}")).is_err());
        assert!(KnownIssues::parse(&rule("when = []")).is_err());
        assert!(KnownIssues::parse(&rule("[[rule.when]]\ncupy = { like = \"1\" }")).is_err());
    }
}
