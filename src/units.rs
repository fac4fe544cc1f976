//! Human-readable units, one place for every number a person reads.

/// Bytes in binary units: `512 B`, `1.5 KiB`, `24.0 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A duration in seconds with an SI prefix and three significant digits: `812 ns`, `1.23 ms`.
pub fn seconds(s: f64) -> String {
    if !s.is_finite() {
        return "–".to_string();
    }
    let (value, unit) = match s.abs() {
        0.0 => (0.0, "s"),
        x if x < 1e-6 => (s * 1e9, "ns"),
        x if x < 1e-3 => (s * 1e6, "µs"),
        x if x < 1.0 => (s * 1e3, "ms"),
        _ => (s, "s"),
    };
    format!("{} {unit}", three_digits(value))
}

/// A rate in keys per second with an SI prefix: `212 Mkeys/s`, `1.05 Gkeys/s`.
pub fn keys_per_s(rate: f64) -> String {
    scaled(rate, "keys/s")
}

/// A rate in bytes per second with an SI prefix: `2.95 TB/s`.
pub fn bytes_per_s(rate: f64) -> String {
    scaled(rate, "B/s")
}

/// A key count as a power of two where exact (`2^20`), else with a thousands separator.
pub fn count(n: u64) -> String {
    if n >= 1024 && n.is_power_of_two() {
        return format!("2^{}", n.trailing_zeros());
    }
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn scaled(value: f64, unit: &str) -> String {
    if !value.is_finite() {
        return "–".to_string();
    }
    let (v, prefix) = match value.abs() {
        x if x >= 1e12 => (value / 1e12, "T"),
        x if x >= 1e9 => (value / 1e9, "G"),
        x if x >= 1e6 => (value / 1e6, "M"),
        x if x >= 1e3 => (value / 1e3, "k"),
        _ => (value, ""),
    };
    format!("{} {prefix}{unit}", three_digits(v))
}

/// Three significant digits without trailing noise: 0.0123, 1.23, 12.3, 123, 1234.
pub fn three_digits(v: f64) -> String {
    match v.abs() {
        x if x >= 100.0 => format!("{v:.0}"),
        x if x >= 10.0 => format!("{v:.1}"),
        x if x >= 1.0 || x == 0.0 || !x.is_finite() => format!("{v:.2}"),
        x => {
            let decimals = (2 - x.log10().floor() as i32).clamp(2, 9) as usize;
            format!("{v:.decimals$}")
        }
    }
}

/// A unit of time chosen for a whole column, so every cell in it reads in the same unit.
/// Chosen for the column's largest value, every cell reads below 1000.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeUnit {
    /// Seconds per unit.
    scale: f64,
    /// The unit's symbol: `s`, `ms`, `µs`, `ns`.
    pub symbol: &'static str,
}

impl TimeUnit {
    /// The largest unit in which `value_s` is at least 1 (seconds for an empty column).
    pub fn fitting(value_s: f64) -> TimeUnit {
        let (scale, symbol) = match value_s.abs() {
            x if !x.is_finite() || x == 0.0 || x >= 1.0 => (1.0, "s"),
            x if x >= 1e-3 => (1e-3, "ms"),
            x if x >= 1e-6 => (1e-6, "µs"),
            _ => (1e-9, "ns"),
        };
        TimeUnit { scale, symbol }
    }

    /// `s` in this unit with three significant digits, without the symbol.
    pub fn format(self, s: f64) -> String {
        if s.is_finite() {
            three_digits(s / self.scale)
        } else {
            "–".to_string()
        }
    }
}

/// An SI prefix chosen for a whole column of rates (`M` for millions …).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatePrefix {
    scale: f64,
    /// `""`, `k`, `M`, `G` or `T`.
    pub symbol: &'static str,
}

impl RatePrefix {
    /// The largest prefix in which `value` is at least 1.
    pub fn fitting(value: f64) -> RatePrefix {
        let (scale, symbol) = si_prefix(value);
        RatePrefix { scale, symbol }
    }

    /// `value` in this prefix with three significant digits, without the unit.
    pub fn format(self, value: f64) -> String {
        if value.is_finite() {
            three_digits(value / self.scale)
        } else {
            "–".to_string()
        }
    }
}

fn si_prefix(value: f64) -> (f64, &'static str) {
    match value.abs() {
        x if x >= 1e12 => (1e12, "T"),
        x if x >= 1e9 => (1e9, "G"),
        x if x >= 1e6 => (1e6, "M"),
        x if x >= 1e3 => (1e3, "k"),
        _ => (1.0, ""),
    }
}

/// A short axis tick: three significant digits and an SI prefix, no unit (`212M`, `1.05G`).
pub fn si_short(value: f64) -> String {
    if !value.is_finite() {
        return "–".to_string();
    }
    if value == 0.0 {
        return "0".to_string();
    }
    let (scale, prefix) = si_prefix(value);
    let digits = three_digits(value / scale);
    let digits = if digits.contains('.') {
        digits
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    } else {
        digits
    };
    format!("{digits}{prefix}")
}

/// A ratio such as a speed-up: `3.52×`.
pub fn times(ratio: f64) -> String {
    if ratio.is_finite() {
        format!("{}×", three_digits(ratio))
    } else {
        "–".to_string()
    }
}

/// A fraction as a whole percentage: `0.876` → `88 %`.
pub fn percent(fraction: f64) -> String {
    if fraction.is_finite() {
        format!("{:.0} %", fraction * 100.0)
    } else {
        "–".to_string()
    }
}

/// A clock frequency given in MHz: `3.10 GHz`, `800 MHz`.
pub fn mhz(mhz: u64) -> String {
    if mhz >= 1000 {
        format!("{:.2} GHz", mhz as f64 / 1000.0)
    } else {
        format!("{mhz} MHz")
    }
}

/// Wall-clock seconds between two RFC 3339 timestamps, as `1 min 05 s`; `None` if unparsable.
pub fn elapsed(start: &str, end: &str) -> Option<String> {
    let start = chrono::DateTime::parse_from_rfc3339(start).ok()?;
    let end = chrono::DateTime::parse_from_rfc3339(end).ok()?;
    let secs = (end - start).num_seconds().max(0);
    Some(match secs {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min {:02} s", s / 60, s % 60),
        s => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
    })
}

/// An RFC 3339 timestamp as a person reads it: `2026-11-24 06:39 UTC` (as given if unparsable).
pub fn timestamp(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.to_utc().format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|_| rfc3339.to_string())
}

/// A median and its interval, `(median, low, high)` in seconds, as `1.23 ms [1.20 ms, 1.25 ms]`;
/// `–` where there is none.
pub fn seconds_with_interval(median: Option<(f64, f64, f64)>) -> String {
    median.map_or("–".to_string(), |(m, lo, hi)| {
        format!("{} [{}, {}]", seconds(m), seconds(lo), seconds(hi))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_each_unit() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(3 << 29), "1.5 GiB");
        assert_eq!(seconds(0.001234), "1.23 ms");
        assert_eq!(seconds(8.12e-7), "812 ns");
        assert_eq!(seconds(2.5), "2.50 s");
        assert_eq!(keys_per_s(2.12e8), "212 Mkeys/s");
        assert_eq!(keys_per_s(1.05e9), "1.05 Gkeys/s");
        assert_eq!(bytes_per_s(2.95e12), "2.95 TB/s");
        assert_eq!(count(1 << 20), "2^20");
        assert_eq!(count(1_000_000), "1,000,000");
        assert_eq!(count(100), "100");
    }

    #[test]
    fn column_units_share_one_scale() {
        let ms = TimeUnit::fitting(0.0042);
        assert_eq!(
            (ms.symbol, ms.format(0.0042), ms.format(1.5)),
            ("ms", "4.20".to_string(), "1500".to_string())
        );
        assert_eq!(TimeUnit::fitting(3e-7).symbol, "ns");
        assert_eq!(TimeUnit::fitting(f64::NAN).symbol, "s");
        assert_eq!(ms.format(0.0000163), "0.0163");
        assert_eq!(three_digits(0.5), "0.500");
        let m = RatePrefix::fitting(2.5e7);
        assert_eq!(
            (m.symbol, m.format(2.5e7), m.format(1.2e9)),
            ("M", "25.0".to_string(), "1200".to_string())
        );
    }

    #[test]
    fn short_forms() {
        assert_eq!(si_short(2.12e8), "212M");
        assert_eq!(si_short(1.5e9), "1.5G");
        assert_eq!(si_short(0.0), "0");
        assert_eq!(si_short(2e6), "2M");
        assert_eq!(times(3.5166), "3.52×");
        assert_eq!(percent(0.876), "88 %");
        assert_eq!(mhz(3100), "3.10 GHz");
        assert_eq!(
            elapsed("2026-11-24T06:00:00Z", "2026-11-24T06:01:05Z").as_deref(),
            Some("1 min 05 s")
        );
        assert_eq!(timestamp("2026-11-24T06:00:00Z"), "2026-11-24 06:00 UTC");
    }
}
