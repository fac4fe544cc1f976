//! What a finished run leaves on the terminal, as hyperfine does after its measurements: per
//! sweep a compact table of its leading results (see [`super::view::leaders`]) with their
//! medians, intervals and ratios to the sweep's best, then every check that failed or warned,
//! one line each. The caller prints the run folder after it, as the last line of stdout.

use crate::env::{Check, CheckStatus};
use crate::record::{CaseResult, Run};
use crate::units::{self, RatePrefix, TimeUnit};

use super::table::{Header, Row, Table};
use super::view::leaders::{Leader, Leaders, Scaling, leaders};
use super::view::short_label;

/// The most algorithms a sweep's terminal table shows; the reports show them all.
pub const LEADERS_SHOWN: usize = 5;

/// The results and the checks that need a reader's attention, as lines of text.
pub fn render(run: &Run) -> String {
    let mut text = String::new();
    let cases: Vec<&CaseResult> = run.cases.iter().collect();
    for sweep in run.definition.sweeps() {
        match leaders(sweep, &cases) {
            Some(found) => text.push_str(&sweep_block(&sweep.name, &found)),
            None => text.push_str(&format!("{}: no verified results\n", sweep.name)),
        }
        text.push('\n');
    }
    text.push_str(&check_lines(&run.checks));
    text
}

/// A sweep's heading, its table of leaders and a line on its scaling.
fn sweep_block(name: &str, found: &Leaders) -> String {
    let shape = found.shape;
    let mut text = format!(
        "{name}: {} {} {} keys",
        shape.key,
        shape.distribution,
        units::count(shape.n)
    );
    if found.oversubscribed > 0 {
        text.push_str(&format!(
            " ({} oversubscribed case{} left out)",
            found.oversubscribed,
            plural(found.oversubscribed)
        ));
    }
    text.push('\n');
    for line in leaders_table(&found.leaders).to_plain().lines() {
        text.push_str(&format!("  {line}\n"));
    }
    let hidden = found.leaders.len().saturating_sub(LEADERS_SHOWN);
    if hidden > 0 {
        text.push_str(&format!(
            "  … and {hidden} more algorithm{} in the report\n",
            plural(hidden)
        ));
    }
    if let Some(scaling) = &found.scaling {
        text.push_str(&format!("  {}\n", scaling_text(scaling)));
    }
    text
}

/// `s` for a count other than one.
fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The leaders as a table: case, median, interval, rate and time against the best.
fn leaders_table(leaders: &[Leader]) -> Table {
    let shown = &leaders[..leaders.len().min(LEADERS_SHOWN)];
    let medians = shown
        .iter()
        .filter_map(|l| l.case.stats.as_ref().map(|s| s.median_s));
    let time = TimeUnit::fitting(medians.fold(f64::NAN, f64::max));
    let rate = RatePrefix::fitting(
        shown
            .iter()
            .filter_map(|l| l.case.keys_per_s)
            .fold(f64::NAN, f64::max),
    );
    Table {
        headers: vec![
            Header::new("Case", false),
            Header::new(&format!("Median [{}]", time.symbol), true),
            Header::new(&format!("Interval [{}]", time.symbol), true),
            Header::new(&format!("Rate [{}keys/s]", rate.symbol), true),
            Header::new("Time vs best", true),
        ],
        rows: shown.iter().map(|l| leader_row(l, time, rate)).collect(),
    }
}

/// One leader's row.
fn leader_row(l: &Leader, time: TimeUnit, rate: RatePrefix) -> Row {
    let c = l.case;
    let interval = c
        .median_interval_s()
        .map_or("–".to_string(), |(low, high)| {
            format!("{} – {}", time.format(low), time.format(high))
        });
    let vs_best = match &l.vs_best_interval {
        Some(i) => format!(
            "{} ({} – {})",
            units::times(l.vs_best),
            units::three_digits(i.low),
            units::three_digits(i.high)
        ),
        None => units::times(l.vs_best),
    };
    Row {
        cells: vec![
            short_label(c),
            c.stats
                .as_ref()
                .map_or("–".to_string(), |s| time.format(s.median_s)),
            interval,
            c.keys_per_s.map_or("–".to_string(), |r| rate.format(r)),
            vs_best,
        ],
        status: c.status.name().to_string(),
    }
}

/// `speed-up 3.10× (2.95 – 3.27) on 4 threads over the fastest one-thread sort (radix), 78 %
/// efficiency`.
fn scaling_text(s: &Scaling) -> String {
    let interval = s.interval.map_or(String::new(), |i| {
        format!(
            " ({} – {})",
            units::three_digits(i.low),
            units::three_digits(i.high)
        )
    });
    format!(
        "speed-up {}{interval} on {} threads over the fastest one-thread sort ({}), {} efficiency",
        units::times(s.speedup),
        s.case.threads.unwrap_or(1),
        s.baseline.algorithm,
        units::percent(s.efficiency)
    )
}

/// Every failed check, then every warning, one line each: `FAIL  CuPy: … (fix: …)`.
pub fn check_lines(checks: &[Check]) -> String {
    let mut flagged: Vec<&Check> = checks
        .iter()
        .filter(|c| matches!(c.status, CheckStatus::Fail | CheckStatus::Warn))
        .collect();
    flagged.sort_by_key(|c| std::cmp::Reverse(c.status));
    flagged
        .iter()
        .map(|c| {
            let remedy = c
                .remedy
                .as_deref()
                .map_or(String::new(), |r| format!(" (fix: {r})"));
            let line = format!(
                "{:<4}  {}: {}{remedy}",
                c.status.name().to_uppercase(),
                c.component,
                c.summary
            );
            format!("{}\n", crate::terminal::one_line(&line))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(status: CheckStatus, component: &str) -> Check {
        Check {
            id: component.to_lowercase(),
            component: component.to_string(),
            status,
            summary: format!("{component} says\nso"),
            detail: String::new(),
            remedy: (status == CheckStatus::Fail).then(|| "do this".to_string()),
        }
    }

    #[test]
    fn failed_checks_come_first_each_on_one_line() {
        let checks = [
            check(CheckStatus::Warn, "Host"),
            check(CheckStatus::Ok, "Build"),
            check(CheckStatus::Fail, "CuPy"),
            check(CheckStatus::Info, "Load"),
        ];
        assert_eq!(
            check_lines(&checks),
            "FAIL  CuPy: CuPy says ⏎ so (fix: do this)\nWARN  Host: Host says ⏎ so\n"
        );
    }
}
