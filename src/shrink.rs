//! Semantic shrinking: reduce a failing scenario to one a person can read.
//!
//! Every candidate is re-run deterministically and kept only if it fails the same way (same
//! kind, same property). Passes, repeated to a fixpoint:
//! 1. drop chunks of steps (halving chunk sizes down to single steps — at the fixpoint no
//!    single step can be removed: the result is 1-minimal);
//! 2. merge adjacent waits and shorten waits;
//! 3. simplify faults (power loss → crash, a split → an isolation, a nemesis → `isolate
//!    leader` or a plain cut, lower percentages and latencies, smaller skews and spreads,
//!    clock rates nearer 1);
//! 4. simplify operations (the system's suggestions) and move them to client `c0`;
//! 5. shrink the cluster by dropping its highest node and every step naming it.
//!
//! Liveness and consistency failures shrink the same way.

use crate::report::Failure;
use crate::scenario::{Fault, NodeId, NodeSet, Scenario, Step, Weather, TRUE_RATE_PPM};
use crate::sim::isolate::run_isolated;
use crate::sim::runner::RunConfig;
use crate::systems::Isolation;
use crate::systems::OpOf;
use crate::systems::System;
use crate::workload::Workload;
use std::time::{Duration, Instant};

/// Limits for one shrink, and where its candidates run.
#[derive(Clone, Debug)]
pub struct ShrinkBudget {
    /// Most candidate runs.
    pub max_runs: usize,
    /// Most wall time.
    pub max_time: Duration,
    /// Each candidate runs in a fresh environment: by default a process of its own, so that
    /// no candidate's verdict depends on the candidates before it.
    pub isolation: Isolation,
}

impl Default for ShrinkBudget {
    fn default() -> Self {
        ShrinkBudget {
            max_runs: 5_000,
            max_time: Duration::from_secs(120),
            isolation: Isolation::default(),
        }
    }
}

/// What a shrink produced.
#[derive(Clone, Debug)]
pub struct Shrunk<Op> {
    /// The smallest failing scenario found.
    pub scenario: Scenario<Op>,
    /// How it fails.
    pub failure: Failure,
    /// Steps before shrinking.
    pub steps_before: usize,
    /// Candidate runs made.
    pub runs: usize,
    /// Whether the fixpoint was reached (else the budget ran out first).
    pub complete: bool,
}

struct Shrinker<'a, S: System> {
    system: &'a S,
    config: RunConfig,
    target: Failure,
    runs: usize,
    budget: ShrinkBudget,
    started: Instant,
}

impl<S: System> Shrinker<'_, S> {
    fn out_of_budget(&self) -> bool {
        self.runs >= self.budget.max_runs || self.started.elapsed() >= self.budget.max_time
    }

    /// Runs a candidate; returns its failure if it fails the same way.
    fn fails(&mut self, candidate: &Scenario<OpOf<S>>) -> Option<Failure> {
        if candidate.validate().is_err() || self.out_of_budget() {
            return None;
        }
        self.runs += 1;
        let report =
            run_isolated(self.system, candidate, &self.config, self.budget.isolation).ok()?;
        let failure = report.failure()?;
        (failure.kind == self.target.kind && failure.property == self.target.property)
            .then(|| failure.clone())
    }

    /// Tries candidates in order; adopts the first that still fails.
    fn try_all(
        &mut self,
        best: &mut Scenario<OpOf<S>>,
        failure: &mut Failure,
        candidates: Vec<Scenario<OpOf<S>>>,
    ) -> bool {
        for c in candidates {
            if let Some(f) = self.fails(&c) {
                *best = c;
                *failure = f;
                return true;
            }
        }
        false
    }
}

/// The fault kinds a scenario's steps use: what its weather line should say once shrunk.
pub fn used_weather<Op>(scenario: &Scenario<Op>) -> Weather {
    scenario.steps.iter().fold(Weather::CALM, |w, s| match s {
        Step::Fault(f) => f.kind().map_or(w, |k| w.with(k)),
        _ => w,
    })
}

fn without<Op: Clone>(s: &Scenario<Op>, from: usize, len: usize) -> Scenario<Op> {
    let mut c = s.clone();
    c.steps.drain(from..(from + len).min(c.steps.len()));
    c.weather = used_weather(&c);
    c
}

fn with_step<Op: Clone>(s: &Scenario<Op>, i: usize, step: Step<Op>) -> Scenario<Op> {
    let mut c = s.clone();
    c.steps[i] = step;
    c.weather = used_weather(&c);
    c
}

fn simpler_faults(fault: Fault) -> Vec<Fault> {
    match fault {
        Fault::PowerLoss(n) => vec![Fault::Crash(n)],
        // A crash at a point is simpler as a crash now, or as the same point without power
        // loss.
        Fault::CrashAt {
            node,
            point,
            power_loss,
        } => {
            let mut v = vec![if power_loss {
                Fault::PowerLoss(node)
            } else {
                Fault::Crash(node)
            }];
            if power_loss {
                v.push(Fault::CrashAt {
                    node,
                    point,
                    power_loss: false,
                });
            }
            v
        }
        Fault::SplitLeader(2) => vec![Fault::IsolateLeader],
        Fault::SplitLeader(size) if size > 2 => {
            vec![Fault::IsolateLeader, Fault::SplitLeader(size - 1)]
        }
        Fault::CrashLeader { power_loss: true } => vec![Fault::CrashLeader { power_loss: false }],
        Fault::Split(side) if side.len() > 1 => {
            let mut v: Vec<Fault> = side.iter().map(Fault::Isolate).collect();
            // Or the same split with one member fewer.
            v.extend(
                side.iter()
                    .map(|n| Fault::Split(NodeSet(side.0 & !(1 << n)))),
            );
            v
        }
        Fault::Split(side) => side.iter().map(Fault::Isolate).collect(),
        Fault::Loss(p) if p > 5 => vec![Fault::Loss(p / 2)],
        Fault::Duplicate(p) if p > 5 => vec![Fault::Duplicate(p / 2)],
        Fault::Delay(p) if p > 1 => vec![Fault::Delay(p / 2)],
        Fault::Latency(a, b, ms) if ms > 1 => vec![Fault::Latency(a, b, ms / 2)],
        Fault::Corrupt(p) if p > 1 => vec![Fault::Corrupt(p / 2)],
        // A nemesis is simpler as its first move, or as a plainer shape.
        Fault::BounceLeader | Fault::Bridge | Fault::IsolatePrimaries => {
            vec![Fault::IsolateLeader]
        }
        Fault::Ring => vec![Fault::Bridge, Fault::IsolateLeader],
        Fault::Flap(a, b) => vec![Fault::Cut(a, b)],
        // Half the offset, toward true time.
        Fault::Skew(n, ms) if ms.unsigned_abs() > 1 => vec![Fault::Skew(n, ms / 2)],
        Fault::SpreadClocks(ms) if ms > 1 => vec![Fault::SpreadClocks(ms / 2)],
        // Half as far from true rate (in whole thousandths, so that shrinking ends).
        Fault::Drift(n, ppm) if ppm.abs_diff(TRUE_RATE_PPM) > 1_000 => {
            let half = (i64::from(ppm) - i64::from(TRUE_RATE_PPM)) / 2 / 1_000 * 1_000;
            vec![Fault::Drift(n, (i64::from(TRUE_RATE_PPM) + half) as u32)]
        }
        _ => vec![],
    }
}

/// Renames the nodes of a fault through `map` (`None`: the fault names a dropped node).
fn remap_fault(f: Fault, map: impl Fn(NodeId) -> Option<NodeId>) -> Option<Fault> {
    Some(match f {
        Fault::Isolate(n) => Fault::Isolate(map(n)?),
        Fault::Crash(n) => Fault::Crash(map(n)?),
        Fault::PowerLoss(n) => Fault::PowerLoss(map(n)?),
        Fault::Restart(n) => Fault::Restart(map(n)?),
        Fault::Garbage(n) => Fault::Garbage(map(n)?),
        Fault::CorruptDisk(n) => Fault::CorruptDisk(map(n)?),
        Fault::Flap(a, b) => Fault::Flap(map(a)?, map(b)?),
        Fault::CrashAt {
            node,
            point,
            power_loss,
        } => Fault::CrashAt {
            node: map(node)?,
            point,
            power_loss,
        },
        Fault::Forge(n, k) => Fault::Forge(map(n)?, k),
        Fault::Skew(n, ms) => Fault::Skew(map(n)?, ms),
        Fault::Drift(n, ppm) => Fault::Drift(map(n)?, ppm),
        Fault::IsolateLeader
        | Fault::SplitLeader(_)
        | Fault::CrashLeader { .. }
        | Fault::RestartAll
        | Fault::Buggify(_)
        | Fault::Corrupt(_)
        | Fault::BounceLeader
        | Fault::Bridge
        | Fault::Ring
        | Fault::IsolatePrimaries => f,
        Fault::Split(side) => Fault::Split(
            side.iter()
                .map(&map)
                .try_fold(NodeSet::default(), |s, n| n.map(|n| s.with(n)))?,
        ),
        Fault::Cut(a, b) => Fault::Cut(map(a)?, map(b)?),
        Fault::Heal(a, b) => Fault::Heal(map(a)?, map(b)?),
        Fault::Hold(a, b) => Fault::Hold(map(a)?, map(b)?),
        Fault::Release(a, b) => Fault::Release(map(a)?, map(b)?),
        Fault::Latency(a, b, ms) => Fault::Latency(map(a)?, map(b)?, ms),
        Fault::OneWay { from, to } => Fault::OneWay {
            from: map(from)?,
            to: map(to)?,
        },
        Fault::HealAll
        | Fault::HealClocks
        | Fault::SpreadClocks(_)
        | Fault::Loss(_)
        | Fault::Duplicate(_)
        | Fault::Delay(_) => f,
    })
}

/// Drops node `gone` from the cluster, with every step that names it; the nodes above it
/// move down one, so the result is a valid smaller cluster.
fn drop_node<Op: Clone>(s: &Scenario<Op>, gone: NodeId) -> Option<Scenario<Op>> {
    if s.nodes <= crate::scenario::MIN_NODES || gone >= s.nodes {
        return None;
    }
    let map = |n: NodeId| match n.cmp(&gone) {
        std::cmp::Ordering::Less => Some(n),
        std::cmp::Ordering::Equal => None,
        std::cmp::Ordering::Greater => Some(n - 1),
    };
    let mut c = s.clone();
    c.nodes -= 1;
    c.steps = s
        .steps
        .iter()
        .filter_map(|st| match st {
            Step::Fault(f) => remap_fault(*f, map).map(Step::Fault),
            other => Some(other.clone()),
        })
        .collect();
    c.weather = used_weather(&c);
    Some(c)
}

/// Shrinks `scenario`, which fails with `failure`, within `budget`.
pub fn shrink<S: System>(
    system: &S,
    scenario: &Scenario<OpOf<S>>,
    failure: &Failure,
    config: &RunConfig,
    budget: ShrinkBudget,
) -> Shrunk<OpOf<S>> {
    let mut shrinker = Shrinker {
        system,
        config: RunConfig {
            trace: false,
            quiet_panics: true,
            ..config.clone()
        },
        target: failure.clone(),
        runs: 0,
        budget,
        started: Instant::now(),
    };
    let mut best = scenario.clone();
    let mut failure = failure.clone();
    let mut complete = false;
    while !shrinker.out_of_budget() {
        let mut progress = false;

        // 1. Chunks of steps, largest first.
        let mut size = best.steps.len().div_ceil(2).max(1);
        loop {
            let mut start = 0;
            while start < best.steps.len() && !shrinker.out_of_budget() {
                let candidate = without(&best, start, size);
                if shrinker.try_all(&mut best, &mut failure, vec![candidate]) {
                    progress = true;
                } else {
                    start += size;
                }
            }
            if size == 1 {
                break;
            }
            size = size.div_ceil(2);
        }

        // 5. A smaller cluster: try dropping each node in turn, highest first.
        'cluster: while best.nodes > crate::scenario::MIN_NODES && !shrinker.out_of_budget() {
            for gone in (0..best.nodes).rev() {
                if let Some(c) = drop_node(&best, gone) {
                    if shrinker.try_all(&mut best, &mut failure, vec![c]) {
                        progress = true;
                        continue 'cluster;
                    }
                }
            }
            break;
        }

        // 2–4. Step by step simplification.
        let mut i = 0;
        while i < best.steps.len() && !shrinker.out_of_budget() {
            let mut candidates = Vec::new();
            match &best.steps[i] {
                Step::Wait { ms } => {
                    if let Some(Step::Wait { ms: next }) = best.steps.get(i + 1) {
                        let mut c = without(&best, i + 1, 1);
                        c.steps[i] = Step::Wait { ms: ms + next };
                        candidates.push(c);
                    }
                    if *ms > 10 {
                        // Whole ticks only: halve, then drop to one tick.
                        candidates.push(with_step(
                            &best,
                            i,
                            Step::Wait {
                                ms: (ms / 2).max(10) / 10 * 10,
                            },
                        ));
                        candidates.push(with_step(&best, i, Step::Wait { ms: 10 }));
                    }
                }
                Step::Fault(f) => {
                    for g in simpler_faults(*f) {
                        candidates.push(with_step(&best, i, Step::Fault(g)));
                    }
                }
                Step::Op { client, op } => {
                    for simpler in S::Workload::simpler_ops(op) {
                        candidates.push(with_step(
                            &best,
                            i,
                            Step::Op {
                                client: *client,
                                op: simpler,
                            },
                        ));
                    }
                    if *client != 0 {
                        candidates.push(with_step(
                            &best,
                            i,
                            Step::Op {
                                client: 0,
                                op: op.clone(),
                            },
                        ));
                    }
                }
            }
            if shrinker.try_all(&mut best, &mut failure, candidates) {
                progress = true;
            } else {
                i += 1;
            }
        }

        if !progress {
            complete = !shrinker.out_of_budget();
            break;
        }
    }
    best.weather = used_weather(&best);
    Shrunk {
        scenario: best,
        failure,
        steps_before: scenario.steps.len(),
        runs: shrinker.runs,
        complete,
    }
}
