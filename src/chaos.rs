//! Blind, time-boxed random search: the nightly chaos job.
//!
//! Workers (threads) run generated scenarios — each exactly what `squall run SYSTEM --seed N`
//! runs for its seed — until the time budget ends. Every new kind of failure is shrunk and
//! written out as a scenario file with its trace. Fault coverage is cross-tabulated against
//! the protocol phase each fault hit, and the summary fails loudly if a scheduled fault kind
//! never took effect.

use crate::cli::scenario_from_seed;
use crate::scenario::FaultKind;
use crate::shrink::{shrink, ShrinkBudget};
use crate::sim::effects::Effects;
use crate::sim::runner::{derive_seed, run, RunConfig};
use crate::systems::System;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// What a chaos campaign is asked to do.
#[derive(Clone, Debug)]
pub struct ChaosPlan {
    /// Campaign seed; every scenario's seed derives from it.
    pub seed: u64,
    /// This shard's index and the number of shards (for CI matrices).
    pub shard: (u64, u64),
    /// Worker threads.
    pub jobs: u64,
    /// When to stop.
    pub deadline: Instant,
    /// Stop after this many executions (all workers together), if set.
    pub max_execs: Option<u64>,
    /// Stop at the first violation (for hunting planted bugs).
    pub stop_at_first: bool,
    /// Shrink failures (and write them when `out` is set).
    pub shrink: bool,
    /// Where failing scenarios and traces go.
    pub out: Option<PathBuf>,
}

impl ChaosPlan {
    /// The seed of the `exec`-th scenario of worker `job`.
    pub fn scenario_seed(&self, job: u64, exec: u64) -> u64 {
        let (index, shards) = self.shard;
        derive_seed(self.seed, ((exec * self.jobs + job) * shards + index) + 1)
    }
}

/// A failure chaos found.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Found {
    /// safety / liveness / consistency.
    pub kind: String,
    /// The property.
    pub property: String,
    /// The first failure's detail.
    pub detail: String,
    /// Seed of the first scenario that failed this way (`squall run SYSTEM --seed N`).
    pub seed: u64,
    /// How many scenarios failed this way.
    pub count: u64,
    /// Executions (all workers) when it was first found.
    pub execs_at_first: u64,
    /// Seconds into the campaign when it was first found.
    pub seconds_at_first: f64,
    /// Steps before and after shrinking.
    pub steps: (usize, usize),
    /// The shrunk scenario's text.
    pub scenario: String,
    /// Where it was written.
    pub file: Option<String>,
}

/// Shared campaign state.
#[derive(Default)]
pub struct Campaign {
    /// Scenarios run.
    pub execs: AtomicU64,
    /// Scenarios that failed.
    pub violations: AtomicU64,
    /// Simulated milliseconds run.
    pub sim_ms: AtomicU64,
    /// Failures by (kind, property).
    pub found: Mutex<BTreeMap<(String, String), Found>>,
    /// Fault effects summed.
    pub effects: Mutex<Effects>,
    /// Faults applied, by kind and the protocol phase they hit.
    pub coverage: Mutex<BTreeMap<(FaultKind, &'static str), u64>>,
    /// Harness errors (scenarios the runner refused), which are never protocol bugs.
    pub harness_errors: Mutex<Vec<String>>,
    /// Set when a worker should stop everyone.
    pub stop: std::sync::atomic::AtomicBool,
}

impl Campaign {
    /// Whether any scenario failed.
    pub fn failed(&self) -> bool {
        self.violations.load(Ordering::Relaxed) > 0
    }

    /// Fault kinds that were scheduled but never took effect.
    pub fn ineffective_kinds(&self) -> Vec<FaultKind> {
        let effects = *self.effects.lock().unwrap_or_else(|p| p.into_inner());
        let coverage = self.coverage.lock().unwrap_or_else(|p| p.into_inner());
        let scheduled: std::collections::BTreeSet<FaultKind> =
            coverage.keys().map(|(k, _)| *k).collect();
        scheduled
            .into_iter()
            .filter(|kind| match kind {
                FaultKind::Partition | FaultKind::Partial => {
                    effects.dropped_by_partition + effects.dropped_in_flight == 0
                }
                FaultKind::Loss => effects.dropped_by_loss == 0,
                FaultKind::Duplicate => effects.duplicated == 0,
                FaultKind::Reorder => effects.held + effects.delayed == 0,
                FaultKind::Crash => effects.crashes == 0,
                FaultKind::PowerLoss => effects.power_losses == 0,
                FaultKind::Garbage => effects.garbage == 0,
            })
            .collect()
    }
}

fn slug(property: &str) -> String {
    property
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// One worker's loop: run scenarios until the plan says stop.
pub fn work<S: System>(
    system: &S,
    plan: &ChaosPlan,
    job: u64,
    campaign: &Campaign,
    started: Instant,
) {
    let config = RunConfig {
        quiet_panics: true,
        ..RunConfig::default()
    };
    let mut local_effects = Effects::default();
    let mut local_coverage: BTreeMap<(FaultKind, &'static str), u64> = BTreeMap::new();
    let flush = |effects: &mut Effects, coverage: &mut BTreeMap<(FaultKind, &'static str), u64>| {
        campaign
            .effects
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .add(effects);
        let mut shared = campaign.coverage.lock().unwrap_or_else(|p| p.into_inner());
        for (k, v) in std::mem::take(coverage) {
            *shared.entry(k).or_default() += v;
        }
        *effects = Effects::default();
    };
    let mut exec = 0u64;
    loop {
        if Instant::now() >= plan.deadline || campaign.stop.load(Ordering::Relaxed) {
            break;
        }
        if plan
            .max_execs
            .is_some_and(|max| campaign.execs.load(Ordering::Relaxed) >= max)
        {
            break;
        }
        let seed = plan.scenario_seed(job, exec);
        exec += 1;
        let scenario = match scenario_from_seed(system, seed) {
            Ok(s) => s,
            Err(e) => {
                campaign
                    .harness_errors
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(format!("seed {seed}: {e}"));
                continue;
            }
        };
        let report = match run(system, &scenario, &config) {
            Ok(r) => r,
            Err(e) => {
                campaign
                    .harness_errors
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(format!("seed {seed}: {e}"));
                continue;
            }
        };
        let execs = campaign.execs.fetch_add(1, Ordering::Relaxed) + 1;
        campaign
            .sim_ms
            .fetch_add(report.sim_time.as_millis() as u64, Ordering::Relaxed);
        local_effects.add(&report.effects);
        for (kind, phase) in &report.fault_phases {
            *local_coverage.entry((*kind, phase)).or_default() += 1;
        }
        if exec % 32 == 0 {
            flush(&mut local_effects, &mut local_coverage);
        }
        let Some(failure) = report.failure() else {
            continue;
        };
        campaign.violations.fetch_add(1, Ordering::Relaxed);
        if plan.stop_at_first {
            campaign.stop.store(true, Ordering::Relaxed);
        }
        let key = (failure.kind.to_string(), failure.property.clone());
        {
            let mut found = campaign.found.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(f) = found.get_mut(&key) {
                f.count += 1;
                continue;
            }
            found.insert(
                key.clone(),
                Found {
                    kind: key.0.clone(),
                    property: key.1.clone(),
                    detail: failure.detail.clone(),
                    seed,
                    count: 1,
                    execs_at_first: execs,
                    seconds_at_first: started.elapsed().as_secs_f64(),
                    steps: (scenario.steps.len(), scenario.steps.len()),
                    scenario: scenario.to_text(),
                    file: None,
                },
            );
        }
        if !plan.shrink {
            continue;
        }
        let shrunk = shrink(system, &scenario, failure, &config, ShrinkBudget::default());
        let traced = RunConfig {
            trace: true,
            ..config.clone()
        };
        let trace = run(system, &shrunk.scenario, &traced)
            .map(|r| r.trace)
            .unwrap_or_default();
        let mut text = format!(
            "# found by squall chaos: {} violation of {}\n# seed {seed} (squall run {} --seed {seed}); shrunk from {} to {} steps\n",
            failure.kind,
            failure.property,
            system.name(),
            scenario.steps.len(),
            shrunk.scenario.steps.len()
        );
        text.push_str(&shrunk.scenario.to_text());
        let file = plan.out.as_ref().and_then(|dir| {
            let name = format!(
                "{}-{}-{}-seed{seed}",
                system.name(),
                failure.kind,
                slug(&failure.property)
            );
            let scn = dir.join(format!("{name}.scn"));
            std::fs::create_dir_all(dir).ok()?;
            std::fs::write(&scn, &text).ok()?;
            std::fs::write(dir.join(format!("{name}.trace")), &trace).ok()?;
            Some(scn.display().to_string())
        });
        let mut found = campaign.found.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = found.get_mut(&key) {
            f.steps = (scenario.steps.len(), shrunk.scenario.steps.len());
            f.scenario = text;
            f.file = file;
        }
    }
    flush(&mut local_effects, &mut local_coverage);
}
