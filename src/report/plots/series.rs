//! Cases grouped into series: the axes a case varies along, which of them vary in a sweep,
//! and the legend label and style of each group.

use crate::record::CaseResult;
use crate::units;

use super::Style;

/// The axes of a case, in the order labels name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Axis {
    Algorithm,
    Key,
    Distribution,
    Size,
    Threads,
    Device,
}

impl Axis {
    /// The case's value on this axis, as a legend or a tick reads it.
    pub(super) fn value(self, c: &CaseResult) -> String {
        match self {
            Axis::Algorithm => c.algorithm.clone(),
            Axis::Key => c.key_type.to_string(),
            Axis::Distribution => c.distribution.to_string(),
            Axis::Size => units::count(c.n),
            Axis::Threads => match c.threads {
                Some(1) => "1 thread".to_string(),
                Some(t) => format!("{t} threads"),
                None => "–".to_string(),
            },
            Axis::Device => c.device.map_or("–".to_string(), |d| format!("GPU {d}")),
        }
    }

    /// A value that sorts as the axis does (numbers numerically).
    pub(super) fn order(self, c: &CaseResult) -> (u64, String) {
        match self {
            Axis::Size => (c.n, String::new()),
            Axis::Threads => (u64::from(c.threads.unwrap_or(0)), String::new()),
            Axis::Device => (u64::from(c.device.unwrap_or(0)), String::new()),
            _ => (0, self.value(c)),
        }
    }

    /// Every axis, in the order labels name them.
    const ALL: [Axis; 6] = [
        Axis::Algorithm,
        Axis::Key,
        Axis::Distribution,
        Axis::Size,
        Axis::Threads,
        Axis::Device,
    ];
}

/// The axes whose values differ between cases. Thread counts and GPUs count only where
/// they differ for one algorithm: std's sorts always run on one thread, and a sweep of std
/// against rayon on every core is no thread sweep.
pub(super) fn varying_axes(cases: &[&CaseResult]) -> Vec<Axis> {
    let distinct = |a: Axis, of: &mut dyn Iterator<Item = &&CaseResult>| {
        let mut values: Vec<String> = of.map(|c| a.value(c)).collect();
        values.sort();
        values.dedup();
        values.len()
    };
    Axis::ALL
        .into_iter()
        .filter(|&a| match a {
            Axis::Threads | Axis::Device => cases
                .iter()
                .any(|c| distinct(a, &mut cases.iter().filter(|o| o.algorithm == c.algorithm)) > 1),
            _ => distinct(a, &mut cases.iter()) > 1,
        })
        .collect()
}

/// Groups cases into series by the values of `axes`, in the order the cases ran (the
/// definition's order), each with its legend label and style.
pub(super) fn group<'a>(
    cases: &[&'a CaseResult],
    axes: &[Axis],
) -> Vec<(String, Style, Vec<&'a CaseResult>)> {
    let mut groups: Vec<(Vec<String>, Vec<&CaseResult>)> = Vec::new();
    for c in cases {
        let key: Vec<String> = axes.iter().map(|a| a.value(c)).collect();
        match groups.iter_mut().find(|g| g.0 == key) {
            Some(g) => g.1.push(c),
            None => groups.push((key, vec![c])),
        }
    }
    let keys: Vec<Vec<String>> = groups.iter().map(|g| g.0.clone()).collect();
    let device_at = axes.iter().position(|a| *a == Axis::Device);
    groups
        .into_iter()
        .zip(styles(&keys, device_at))
        .map(|((key, members), style)| (key.join(", "), style, members))
        .collect()
}

/// The style of each series, given the axis values that name it and which of them (if any)
/// is the GPU. Where the GPU is one of several axes, series that differ only in it share a
/// colour (see [`Style`]); otherwise every series has its own.
fn styles(keys: &[Vec<String>], device_at: Option<usize>) -> Vec<Style> {
    let without_device = |key: &Vec<String>, d: usize| -> Vec<String> {
        key.iter()
            .enumerate()
            .filter(|(i, _)| *i != d)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let Some(d) = device_at else {
        return plain_styles(keys.len());
    };
    let mut colours: Vec<Vec<String>> = Vec::new();
    let colour_of: Vec<usize> = keys
        .iter()
        .map(|key| index_or_push(&mut colours, without_device(key, d)))
        .collect();
    if colours.len() < 2 {
        return plain_styles(keys.len());
    }
    // Variants count within their colour (cases run GPU by GPU in order), so a series on one GPU
    // only, or on the CPU, is drawn plainly whatever the other series ran on.
    let mut per_colour = vec![0; colours.len()];
    colour_of
        .into_iter()
        .map(|colour| {
            let variant = per_colour[colour];
            per_colour[colour] += 1;
            Style { colour, variant }
        })
        .collect()
}

/// A colour of its own for each of `count` series.
fn plain_styles(count: usize) -> Vec<Style> {
    (0..count)
        .map(|colour| Style { colour, variant: 0 })
        .collect()
}

/// Where `value` is in `list`, appending it first if it is not there.
fn index_or_push<T: PartialEq>(list: &mut Vec<T>, value: T) -> usize {
    list.iter().position(|v| *v == value).unwrap_or_else(|| {
        list.push(value);
        list.len() - 1
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(rows: &[[&str; 2]]) -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| r.iter().map(|v| v.to_string()).collect())
            .collect()
    }

    #[test]
    fn series_that_differ_only_in_their_gpu_share_a_colour() {
        let named = keys(&[
            ["u32", "GPU 0"],
            ["u32", "GPU 1"],
            ["u64", "GPU 0"],
            ["u64", "GPU 1"],
        ]);
        let got: Vec<(usize, usize)> = styles(&named, Some(1))
            .iter()
            .map(|s| (s.colour, s.variant))
            .collect();
        assert_eq!(got, [(0, 0), (0, 1), (1, 0), (1, 1)]);
    }

    #[test]
    fn a_cpu_series_beside_two_gpus_leaves_the_first_gpu_plain() {
        let named = keys(&[["std", "–"], ["radix", "GPU 0"], ["radix", "GPU 1"]]);
        let got: Vec<(usize, usize)> = styles(&named, Some(1))
            .iter()
            .map(|s| (s.colour, s.variant))
            .collect();
        assert_eq!(got, [(0, 0), (1, 0), (1, 1)]);
    }

    #[test]
    fn without_a_gpu_axis_or_with_only_gpus_every_series_has_its_own_colour() {
        let named = keys(&[["u32", "radix"], ["u64", "radix"]]);
        let got: Vec<usize> = styles(&named, None).iter().map(|s| s.colour).collect();
        assert_eq!(got, [0, 1]);
        let gpus_only = keys(&[["radix", "GPU 0"], ["radix", "GPU 1"]]);
        let got: Vec<(usize, usize)> = styles(&gpus_only, Some(1))
            .iter()
            .map(|s| (s.colour, s.variant))
            .collect();
        assert_eq!(got, [(0, 0), (1, 0)]);
    }
}
