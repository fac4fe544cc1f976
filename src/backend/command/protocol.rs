//! The peer protocol: the one JSON object a peer prints as the last non-empty line of stdout.
//!
//! Fields the protocol does not know are ignored, so a peer may add its own; the fields it does
//! know are type-checked by serde and then validated here.

use serde::Deserialize;

use crate::measure::{Transfers, Verification};

/// The newest protocol version this build speaks: 2, where the peer writes its sorted output
/// to `{output}` for sortmark to verify. Version 1 (the peer verifies alone) is still read.
pub const PROTOCOL_VERSION: u32 = 2;

/// A peer's report for one case, as printed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Report {
    /// Must be [`PROTOCOL_VERSION`].
    pub protocol: u32,
    /// Seconds of each timed repetition (warm-ups excluded).
    #[serde(default)]
    pub samples_s: Vec<f64>,
    /// How the samples were timed: `"cuda-events"`, `"host-clock"` or free text.
    pub timing: Option<String>,
    /// Whether every output passed the peer's checks.
    pub verified: Option<bool>,
    /// The individual checks.
    pub verification: Option<PeerVerification>,
    /// Host↔device copies, timed apart from the sort.
    pub transfers: Option<Transfers>,
    /// The library that sorted.
    pub library: Option<Library>,
    /// Set when the peer cannot run this case: the reason.
    pub skip: Option<String>,
    /// Remarks to show beside the case.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// The checks a peer made on its outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct PeerVerification {
    /// Every output was in the library's documented order.
    pub sorted: bool,
    /// Every output's order-independent checksum (sortmark's) equals the input's.
    pub checksum_matches: bool,
    /// Equal keys kept their input order (pairs only).
    pub stable: Option<bool>,
    /// The outputs were also in IEEE 754 total order, sortmark's order (floats).
    pub total_order: Option<bool>,
    /// The outputs hold the input's exact bits (floats): false when the library rewrote NaNs'
    /// sign or payload, treating every NaN as one value (`checksum_matches` then compares the
    /// values with every NaN made the canonical NaN).
    pub bits_preserved: Option<bool>,
}

/// A library name and version.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Library {
    pub name: String,
    pub version: String,
}

/// What a peer's report means for its case.
#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    /// The peer cannot run the case.
    Skip(String),
    /// The peer measured the case; `verification` is `None` when it gave no details.
    Measured {
        samples_s: Vec<f64>,
        timing: String,
        verified: bool,
        verification: Option<Verification>,
        transfers: Option<Transfers>,
        notes: Vec<String>,
    },
}

/// The most samples a peer's report may hold: more would cost minutes of statistics after the
/// peer's timeout, for no better figure.
pub const MAX_SAMPLES: usize = 100_000;

/// The shortest time a sample may claim, in seconds: no sort of even one key, timed by any
/// clock a peer has, takes less than a nanosecond; 0, -0.0 and subnormal numbers are mistakes.
pub const MIN_SECONDS: f64 = 1e-9;

/// Whether `seconds` can be the time of a sort.
fn plausible_seconds(seconds: f64) -> bool {
    seconds.is_finite() && seconds >= MIN_SECONDS
}

/// Reads the last non-empty line of `stdout` as a report and validates it.
pub fn read(stdout: &str) -> Result<Reading, String> {
    let line = stdout
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .ok_or("the peer printed nothing on stdout; it must end with one protocol JSON line")?;
    let report: Report = serde_json::from_str(line)
        .map_err(|e| format!("the peer's last line is not a protocol JSON object: {e}"))?;
    interpret(report)
}

fn interpret(r: Report) -> Result<Reading, String> {
    if !(1..=PROTOCOL_VERSION).contains(&r.protocol) {
        return Err(format!(
            "the peer speaks protocol {}; this sortmark understands protocols 1 to \
             {PROTOCOL_VERSION}",
            r.protocol
        ));
    }
    if let Some(reason) = r.skip {
        return Ok(Reading::Skip(reason));
    }
    let verified = r
        .verified
        .ok_or("the peer's report lacks `verified` (true or false)")?;
    if r.samples_s.is_empty() {
        return Err("the peer's report has no samples (`samples_s` is empty)".to_string());
    }
    if r.samples_s.len() > MAX_SAMPLES {
        return Err(format!(
            "the peer reported {} samples: at most {MAX_SAMPLES} are read",
            r.samples_s.len()
        ));
    }
    if let Some(bad) = r.samples_s.iter().find(|s| !plausible_seconds(**s)) {
        return Err(format!(
            "the peer reported a sample of {bad:e} s: a sort takes at least {MIN_SECONDS:e} s, \
             and a sample must be a finite number"
        ));
    }
    if let Some(t) = &r.transfers
        && let Some(bad) = [t.h2d_s, t.d2h_s]
            .into_iter()
            .find(|s| !(s.is_finite() && *s >= 0.0))
    {
        return Err(format!(
            "the peer reported a transfer of {bad:e} s: transfers must be finite and not negative"
        ));
    }
    let timing = r
        .timing
        .filter(|t| !t.trim().is_empty())
        .ok_or("the peer's report lacks `timing` (how the samples were timed)")?;
    let mut notes = Vec::new();
    if let Some(lib) = &r.library {
        notes.push(format!("library: {} {}", lib.name, lib.version));
    }
    if let Some(v) = r.verification {
        if v.total_order == Some(false) && v.sorted {
            notes.push(
                "the output is in the library's own float order, not IEEE 754 total order \
                 (sortmark's): NaNs and ±0.0 are placed differently; this is not a failure"
                    .to_string(),
            );
        }
        if v.bits_preserved == Some(false) && v.checksum_matches {
            notes.push(
                "the library rewrote NaNs' sign and payload bits (it treats every NaN as one \
                 value): the output is a permutation of the input's values, not of its bytes"
                    .to_string(),
            );
        }
    }
    notes.extend(r.notes);
    Ok(Reading::Measured {
        samples_s: r.samples_s,
        timing,
        verified,
        verification: r.verification.map(|v| Verification {
            sorted: v.sorted,
            permutation: v.checksum_matches,
            stable: v.stable,
            first_unsorted: None,
        }),
        transfers: r.transfers,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_full_report_from_the_last_line() {
        let out = "warming up\n{\"protocol\": 1, \"samples_s\": [0.5, 0.25], \"timing\": \"cuda-events\", \"verified\": true, \"verification\": {\"sorted\": true, \"checksum_matches\": true, \"total_order\": false}, \"transfers\": {\"h2d_s\": 0.1, \"d2h_s\": 0.2}, \"library\": {\"name\": \"cupy\", \"version\": \"14.2.0\"}, \"extra\": [1, 2]}\n\n";
        let Reading::Measured {
            samples_s,
            timing,
            verified,
            verification,
            transfers,
            notes,
        } = read(out).unwrap()
        else {
            panic!("not measured")
        };
        assert_eq!(samples_s, [0.5, 0.25]);
        assert_eq!(timing, "cuda-events");
        assert!(verified);
        assert!(verification.unwrap().passed());
        assert_eq!(transfers.unwrap().d2h_s, 0.2);
        assert_eq!(notes[0], "library: cupy 14.2.0");
        assert!(notes[1].contains("not a failure"), "{notes:?}");
    }

    #[test]
    fn a_skip_needs_nothing_else() {
        assert_eq!(
            read(r#"{"protocol": 1, "skip": "no f16"}"#).unwrap(),
            Reading::Skip("no f16".to_string())
        );
    }

    #[test]
    fn refuses_wrong_types_versions_and_missing_fields() {
        let err = |s: &str| read(s).unwrap_err();
        assert!(err("").contains("printed nothing"));
        assert!(err("hello").contains("not a protocol JSON object"));
        assert!(err(r#"{"protocol": 1, "samples_s": "fast"}"#).contains("not a protocol JSON"));
        assert!(err(r#"{"protocol": 3, "skip": "x"}"#).contains("protocol 3"));
        assert!(err(r#"{"protocol": 0, "skip": "x"}"#).contains("protocols 1 to 2"));
        assert!(read(r#"{"protocol": 2, "skip": "x"}"#).is_ok());
        assert!(err(r#"{"protocol": 1, "samples_s": [1.0], "timing": "x"}"#).contains("verified"));
        assert!(
            err(r#"{"protocol": 1, "samples_s": [], "timing": "x", "verified": true}"#)
                .contains("no samples")
        );
        assert!(
            err(r#"{"protocol": 1, "samples_s": [-1.0], "timing": "x", "verified": true}"#)
                .contains("-1")
        );
        assert!(err(r#"{"protocol": 1, "samples_s": [1.0], "verified": true}"#).contains("timing"));
        for impossible in ["0", "-0.0", "5e-324", "1e-10"] {
            let report = format!(
                r#"{{"protocol": 1, "samples_s": [{impossible}], "timing": "x", "verified": true}}"#
            );
            assert!(err(&report).contains("at least 1e-9 s"), "{impossible}");
        }
        let negative = r#"{"protocol": 1, "samples_s": [1.0], "timing": "x", "verified": true, "transfers": {"h2d_s": -1.0, "d2h_s": 0.1}}"#;
        assert!(err(negative).contains("transfers must be finite"));
        let many = format!(
            r#"{{"protocol": 1, "samples_s": [{}], "timing": "x", "verified": true}}"#,
            vec!["0.001"; MAX_SAMPLES + 1].join(",")
        );
        assert!(err(&many).contains("at most 100000"));
    }
}
