//! Benchmarks that are commands (`squall bench ...`), so BENCHMARKS.md numbers can be
//! reproduced. Times are wall-clock and per-thread CPU time side by side: the machines are
//! shared and noisy, so compare ratios from one run and quote medians.

use crate::scenario::{FaultKind, Scenario, Step};
use crate::sim::isolate::run_isolated;
use crate::sim::runner::RunConfig;
use crate::systems::Isolation;
use crate::systems::OpOf;
use crate::systems::System;
use std::time::{Duration, Instant};

/// CPU time consumed so far by this process and its reaped children (forked scenarios):
/// scenarios run on threads and processes of their own, so the caller's thread alone would
/// miss them. Zero where `getrusage` is unavailable.
pub fn process_cpu_time() -> Duration {
    #[cfg(unix)]
    {
        let used = |who| {
            // SAFETY: an all-zero rusage is valid, and getrusage only writes into it.
            let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
            // SAFETY: `usage` is a valid out pointer.
            if unsafe { libc::getrusage(who, &mut usage) } != 0 {
                return Duration::ZERO;
            }
            let tv = |t: libc::timeval| {
                Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
            };
            tv(usage.ru_utime) + tv(usage.ru_stime)
        };
        used(libc::RUSAGE_SELF) + used(libc::RUSAGE_CHILDREN)
    }
    #[cfg(not(unix))]
    {
        Duration::ZERO
    }
}

/// What `squall bench run` measured.
#[derive(Debug, Clone)]
pub struct SimBench {
    /// Scenarios run.
    pub scenarios: usize,
    /// Wall time.
    pub wall: Duration,
    /// CPU time of the process and its forked scenarios.
    pub cpu: Duration,
    /// Simulated time run (scenario plus liveness phase).
    pub simulated: Duration,
    /// Median wall time per scenario.
    pub median_wall: Duration,
    /// Scenarios that failed (should be none on a correct system).
    pub failures: usize,
    /// `sim.step()` calls.
    pub ticks: u64,
}

impl SimBench {
    /// Scenarios per wall second.
    pub fn per_second(&self) -> f64 {
        self.scenarios as f64 / self.wall.as_secs_f64()
    }

    /// Simulated seconds per wall second.
    pub fn speedup(&self) -> f64 {
        self.simulated.as_secs_f64() / self.wall.as_secs_f64()
    }

    /// Simulated seconds per CPU second.
    pub fn cpu_speedup(&self) -> f64 {
        self.simulated.as_secs_f64() / self.cpu.as_secs_f64().max(1e-9)
    }
}

/// A generated scenario cut to `nodes` nodes and about `duration_ms` of simulated time, with
/// at least one fault: the workload of the speed benchmark.
pub fn bench_scenario<S: System>(
    system: &S,
    seed: u64,
    nodes: u8,
    duration_ms: u64,
) -> Option<Scenario<OpOf<S>>> {
    bench_scenario_with(system, seed, nodes, duration_ms, false)
}

/// The fault kinds squall had before crash points and BUGGIFY: `--classic` benchmarks only
/// these, to compare speed side by side with builds that had nothing else.
pub const CLASSIC_KINDS: &[FaultKind] = FaultKind::ALL.split_at(8).0;

/// [`bench_scenario`]; with `classic`, generated without crash points and with every fault
/// of a kind outside [`CLASSIC_KINDS`] dropped.
pub fn bench_scenario_with<S: System>(
    system: &S,
    seed: u64,
    nodes: u8,
    duration_ms: u64,
    classic: bool,
) -> Option<Scenario<OpOf<S>>> {
    let offer = if classic {
        // Exactly the classic kinds, so the scenarios are the ones older builds generate.
        crate::scenario::generate::Offer {
            kinds: CLASSIC_KINDS
                .iter()
                .fold(crate::scenario::Weather::CALM, |w, k| w.with(*k)),
            ..Default::default()
        }
    } else {
        crate::systems::offer(system)
    };
    let mut s = Scenario::from_seed::<S::Workload>(system.name(), &offer, seed).ok()?;
    if classic {
        s.steps.retain(|st| match st {
            Step::Fault(f) => f.kind().is_none_or(|k| CLASSIC_KINDS.contains(&k)),
            _ => true,
        });
        s.weather = s
            .weather
            .kinds()
            .filter(|k| CLASSIC_KINDS.contains(k))
            .fold(
                crate::scenario::Weather::CALM,
                crate::scenario::Weather::with,
            );
    }
    if s.nodes != nodes || s.weather.is_calm() {
        return None;
    }
    let mut elapsed = 0;
    let mut keep = 0;
    for step in &s.steps {
        if elapsed >= duration_ms {
            break;
        }
        if let Step::Wait { ms } = step {
            elapsed += u64::from(*ms);
        }
        keep += 1;
    }
    s.steps.truncate(keep);
    if elapsed < duration_ms {
        s.steps.push(Step::Wait {
            ms: (duration_ms - elapsed) as u32,
        });
    }
    s.steps
        .iter()
        .any(|st| matches!(st, Step::Fault(_)))
        .then_some(s)
}

/// What a simulation benchmark runs.
#[derive(Clone, Copy, Debug)]
pub struct SimPlan {
    /// How many scenarios.
    pub count: usize,
    /// Cluster size.
    pub nodes: u8,
    /// Simulated time of each scenario's steps.
    pub duration_ms: u64,
    /// The first seed tried.
    pub first_seed: u64,
    /// Simulated time per step (squall runs use 10 ms; the benchmark can compare).
    pub tick: Duration,
    /// Where each scenario runs.
    pub isolation: Isolation,
    /// Only the fault kinds older builds had ([`bench_scenario_with`]).
    pub classic: bool,
}

/// Runs the benchmark scenarios of `plan` and measures them.
pub fn bench_sim<S: System>(system: &S, plan: &SimPlan) -> SimBench {
    let SimPlan {
        count,
        nodes,
        duration_ms,
        first_seed,
        tick,
        isolation,
        classic,
    } = *plan;
    let scenarios: Vec<_> = (first_seed..)
        .filter_map(|seed| bench_scenario_with(system, seed, nodes, duration_ms, classic))
        .take(count)
        .collect();
    let config = RunConfig {
        tick,
        ..RunConfig::default()
    };
    let mut per = Vec::with_capacity(count);
    let (mut simulated, mut failures, mut ticks) = (Duration::ZERO, 0, 0);
    let (wall0, cpu0) = (Instant::now(), process_cpu_time());
    for s in &scenarios {
        let t = Instant::now();
        match run_isolated(system, s, &config, isolation) {
            Ok(report) => {
                simulated += report.sim_time;
                ticks += report.ticks;
                failures += usize::from(!report.passed());
            }
            Err(_) => failures += 1,
        }
        per.push(t.elapsed());
    }
    let (wall, cpu) = (wall0.elapsed(), process_cpu_time() - cpu0);
    per.sort();
    SimBench {
        scenarios: scenarios.len(),
        wall,
        cpu,
        simulated,
        median_wall: per.get(per.len() / 2).copied().unwrap_or_default(),
        failures,
        ticks,
    }
}
