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
        x if x == 0.0 => (0.0, "s"),
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
        if i > 0 && (digits.len() - i) % 3 == 0 {
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

/// Three significant digits without trailing noise: 1.23, 12.3, 123, 1234.
pub fn three_digits(v: f64) -> String {
    match v.abs() {
        x if x >= 100.0 => format!("{v:.0}"),
        x if x >= 10.0 => format!("{v:.1}"),
        _ => format!("{v:.2}"),
    }
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
}
