//! The determinism gate across orders and processes: the same scenarios, run forward, in
//! reverse and one per fresh process, must give the same traces byte for byte.
//!
//! Running a scenario twice in a row only proves that the simulator is deterministic. A
//! scenario whose outcome depends on the scenarios before it (state a third-party crate
//! keeps per thread or per process, randomness squall did not seed) passes that test and
//! still fails to replay on its own. Reversing the order moves every scenario to another
//! position; a fresh process per scenario removes every predecessor.

use crate::scenario::Scenario;
use crate::sim::isolate::run_isolated;
use crate::sim::runner::RunConfig;
use crate::systems::Isolation;
use crate::systems::OpOf;
use crate::systems::System;

/// A scenario whose traces differ.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Mismatch {
    /// The scenario's seed.
    pub seed: u64,
    /// Trace hash when run in forward order.
    pub forward: String,
    /// Trace hash when run in reverse order.
    pub reverse: String,
    /// Trace hash when run alone in a fresh process (`None`: not run that way).
    pub fresh: Option<String>,
}

/// What the gate saw.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct GateReport {
    /// Scenarios compared.
    pub scenarios: usize,
    /// How many of them failed a property (the failures must be deterministic too).
    pub failing: usize,
    /// Distinct traces among them (a gate over identical traces would prove little).
    pub distinct_traces: usize,
    /// Scenarios whose traces differ.
    pub mismatches: Vec<Mismatch>,
    /// Scenarios that could not be run (harness errors), with the reason.
    pub errors: Vec<String>,
}

impl GateReport {
    /// Whether every scenario gave the same trace every way.
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty() && self.errors.is_empty()
    }
}

fn hex(hash: u64) -> String {
    format!("{hash:016x}")
}

/// Runs one scenario alone in a fresh process and returns its trace's hash.
pub type Fresh<'a, Op> = &'a mut dyn FnMut(&Scenario<Op>) -> Result<u64, String>;

/// Runs `scenarios` forward and in reverse in this process (each with `isolation`), and each
/// alone through `fresh` (which runs it in a fresh process and returns its trace hash), and
/// compares the traces.
pub fn check_orders<S: System>(
    system: &S,
    scenarios: &[Scenario<OpOf<S>>],
    isolation: Isolation,
    mut fresh: Option<Fresh<'_, OpOf<S>>>,
) -> GateReport {
    let config = RunConfig {
        trace: true,
        quiet_panics: true,
        ..RunConfig::default()
    };
    let mut report = GateReport {
        scenarios: scenarios.len(),
        ..GateReport::default()
    };
    let run_one = |s: &Scenario<OpOf<S>>, failing: Option<&mut usize>| {
        run_isolated(system, s, &config, isolation)
            .map(|r| {
                if let Some(count) = failing {
                    *count += usize::from(!r.passed());
                }
                crate::report::trace_hash(&r.trace)
            })
            .map_err(|e| e.to_string())
    };
    let mut forward = Vec::with_capacity(scenarios.len());
    for s in scenarios {
        forward.push(run_one(s, Some(&mut report.failing)));
    }
    let mut reverse = vec![None; scenarios.len()];
    for (i, s) in scenarios.iter().enumerate().rev() {
        reverse[i] = Some(run_one(s, None));
    }
    let mut distinct = std::collections::BTreeSet::new();
    for (i, s) in scenarios.iter().enumerate() {
        let (f, r) = match (&forward[i], &reverse[i]) {
            (Ok(f), Some(Ok(r))) => (*f, *r),
            (Err(e), _) | (_, Some(Err(e))) => {
                report.errors.push(format!("seed {}: {e}", s.seed));
                continue;
            }
            (Ok(_), None) => continue,
        };
        distinct.insert(f);
        let alone = match fresh.as_mut().map(|fresh| fresh(s)) {
            None => None,
            Some(Ok(h)) => Some(h),
            Some(Err(e)) => {
                report.errors.push(format!("seed {} alone: {e}", s.seed));
                continue;
            }
        };
        if f != r || alone.is_some_and(|a| a != f) {
            report.mismatches.push(Mismatch {
                seed: s.seed,
                forward: hex(f),
                reverse: hex(r),
                fresh: alone.map(hex),
            });
        }
    }
    report.distinct_traces = distinct.len();
    report
}
