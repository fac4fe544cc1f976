//! A sweep measured in rounds: every round runs each case that still needs one, once, in an
//! order shuffled per round from the definition's seed, so that slow drift, a change of clock or
//! a noisy neighbour hits every case of the sweep alike instead of whichever ran at that moment.
//! A case leaves the rounds when it has had its `rounds` (or, with a `precision`, when its
//! interval is narrow enough or its rounds or time run out), or at once when it is skipped or
//! fails.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

use super::executor::Executor;
use super::progress::Progress;
use crate::catalog::BackendKind;
use crate::env::load::{LoadSample, LoadTally};
use crate::measure::{Measurement, Outcome, half_width_at_level};
use crate::plan::Case;
use crate::record::CaseResult;

/// One case's rounds so far.
struct CaseRounds<'a> {
    case: &'a Case,
    rounds: Vec<Measurement>,
    /// A skip or failure, which ends the case's rounds.
    ended: Option<Outcome>,
    load: LoadTally,
}

impl<'a> CaseRounds<'a> {
    fn new(case: &'a Case) -> CaseRounds<'a> {
        CaseRounds {
            case,
            rounds: Vec::new(),
            ended: None,
            load: LoadTally::default(),
        }
    }

    /// Whether the case needs another round.
    fn wants_another(&self) -> bool {
        if self.ended.is_some() {
            return false;
        }
        let rounds_s: Vec<Vec<f64>> = self.rounds.iter().map(|m| m.samples_s.clone()).collect();
        let half_width = half_width_at_level(&rounds_s);
        self.case.measure.wants_another_round(&rounds_s, half_width)
    }

    /// Runs one round, watching the machine's load around CPU cases (whose own threads are
    /// the only work the machine should be doing).
    fn run_round(&mut self, executor: &mut Executor) -> Outcome {
        let watch = self.case.backend == BackendKind::Cpu;
        let before = watch.then(LoadSample::now).flatten();
        let outcome = executor.run(self.case);
        if let (Some(before), Some(after)) = (before, watch.then(LoadSample::now).flatten()) {
            self.load.add(&before, &after);
        }
        outcome
    }

    fn absorb(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Measured(m) => self.rounds.push(m),
            ended => self.ended = Some(ended),
        }
    }

    /// The case's result from all its rounds (taking them: call once).
    fn finish(&mut self, executor: &Executor) -> CaseResult {
        let outcome = self.ended.take().unwrap_or_else(|| {
            Outcome::Measured(Measurement::from_rounds(std::mem::take(&mut self.rounds)))
        });
        let mut result = executor.result(self.case, outcome);
        // The report flags a case under load from this record; it is no note of its own.
        result.disturbance = self.load.disturbance();
        result
    }
}

/// Measures the cases of one sweep in rounds, handing each case's result to `done` as soon as
/// the case needs no more rounds (skipped and failed cases in the first round, measured ones in
/// their last). Returns `Ok(false)` when `stop` said so before the sweep was done: the cases
/// not handed over are then to run again.
pub fn measure_sweep(
    cases: &[Case],
    executor: &mut Executor,
    progress: &mut dyn Progress,
    stop: &dyn Fn() -> bool,
    seed: u64,
    done: &mut dyn FnMut(CaseResult) -> anyhow::Result<()>,
) -> anyhow::Result<bool> {
    let mut states: Vec<CaseRounds> = cases.iter().map(CaseRounds::new).collect();
    let mut finished = vec![false; cases.len()];
    for round in 0u64.. {
        let mut order: Vec<usize> = (0..states.len()).filter(|&i| !finished[i]).collect();
        if order.is_empty() {
            return Ok(true);
        }
        shuffle(&mut order, round_seed(seed, cases, round));
        for i in order {
            if stop() {
                return Ok(false);
            }
            progress.case_started(states[i].case);
            let outcome = states[i].run_round(executor);
            if stop() {
                // The round in flight may have been cut short.
                return Ok(false);
            }
            states[i].absorb(outcome);
            if !states[i].wants_another() {
                finished[i] = true;
                let result = states[i].finish(executor);
                progress.case_finished(&result);
                done(result)?;
            }
        }
    }
    Ok(true)
}

/// The seed of one round's order: the definition's seed, the sweep and the round.
fn round_seed(seed: u64, cases: &[Case], round: u64) -> u64 {
    let sweep = cases.first().map_or(0, |c| c.cell as u64);
    crate::data::mix64(seed ^ crate::data::mix64(sweep.wrapping_mul(0x9e37_79b9) ^ round))
}

/// Fisher–Yates shuffle driven by `seed`: the same order for the same seed on every machine.
fn shuffle(order: &mut [usize], seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for i in (1..order.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shuffle_is_a_permutation_fixed_by_its_seed() {
        let mut a: Vec<usize> = (0..50).collect();
        let mut b = a.clone();
        shuffle(&mut a, 7);
        shuffle(&mut b, 7);
        assert_eq!(a, b);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        let mut c: Vec<usize> = (0..50).collect();
        shuffle(&mut c, 8);
        assert_ne!(a, c, "another seed gives another order");
        assert_ne!(a, (0..50).collect::<Vec<_>>());
    }
}
