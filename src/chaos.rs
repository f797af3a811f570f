//! Blind, time-boxed random search: the nightly chaos job.
//!
//! Workers (threads) run generated scenarios — each exactly what `squall run SYSTEM --seed N`
//! runs for its seed — until the time budget ends. Every new kind of failure is shrunk and
//! written out as a scenario file with its trace — once it has failed again, from that file,
//! in a fresh process ([`crate::verify`]); one that does not is reported as not reproducible.
//! Each scenario runs in a process of its own by default ([`Isolation`]), so its outcome
//! cannot depend on the scenarios a worker ran before it. Fault coverage is cross-tabulated against
//! the protocol phase each fault hit, and the summary fails loudly if a scheduled fault kind
//! never took effect.

use crate::report::Effects;
use crate::report::Failure;
use crate::scenario::{FaultKind, Scenario};
use crate::shrink::{shrink, ShrinkBudget};
use crate::sim::isolate::run_isolated;
use crate::sim::runner::{derive_seed, RunConfig};
use crate::systems::Isolation;
use crate::systems::OpOf;
use crate::systems::System;
use crate::verify::{verify_file, ScratchFile, Verdict};
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
    /// The planted bug the system runs with (passed on to the replays that verify findings).
    pub mutant: Option<String>,
    /// Where each scenario runs; `None`: where the system says ([`System::isolation`]).
    pub isolation: Option<Isolation>,
    /// The properties checked (the scenarios' `check` line; empty: every property).
    pub check: Vec<String>,
}

impl ChaosPlan {
    /// The seed of the `exec`-th scenario of worker `job`.
    pub fn scenario_seed(&self, job: u64, exec: u64) -> u64 {
        let (index, shards) = self.shard;
        derive_seed(self.seed, ((exec * self.jobs + job) * shards + index) + 1)
    }
}

/// One scenario that failed: where in the campaign it ran, and whether its file failed again
/// in a fresh process.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FailingSeed {
    /// The scenario's seed (`squall run SYSTEM --seed N`).
    pub seed: u64,
    /// The worker that ran it.
    pub job: u64,
    /// Its position in that worker's sequence (0-based).
    pub position: u64,
    /// `true` reproduced, `false` did not, `null` not replayed (past
    /// [`VERIFY_PER_PROPERTY`] verified seeds of its property).
    pub verified: Option<bool>,
}

/// Failing seeds of one property replayed in a fresh process; later ones are listed
/// unreplayed (each replay costs a process start).
pub const VERIFY_PER_PROPERTY: usize = 8;

/// A failure chaos found, verified: its scenario failed again in a fresh process.
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
    /// Every scenario that failed this way, in the order found.
    pub seeds: Vec<FailingSeed>,
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
    /// Its HTML report, beside the file.
    pub report: Option<String>,
}

/// A failure whose scenario did not fail again in a fresh process: reported, never saved as
/// a finding. Its scenario depended on something besides itself (state left by earlier
/// scenarios in the same process, randomness squall could not seed).
#[derive(Clone, Debug, serde::Serialize)]
pub struct NotReproducible {
    /// safety / liveness / consistency.
    pub kind: String,
    /// The property.
    pub property: String,
    /// What the original run saw.
    pub detail: String,
    /// What the replay showed instead.
    pub replay: String,
    /// The campaign seed.
    pub campaign_seed: u64,
    /// The worker that ran it.
    pub job: u64,
    /// Its position in that worker's sequence (0-based).
    pub position: u64,
    /// The scenario's seed.
    pub seed: u64,
    /// Where its scenario was kept for inspection (under `OUT/not-reproducible/`).
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
    /// Verified failures by (kind, property).
    pub found: Mutex<BTreeMap<(String, String), Found>>,
    /// Failures that did not reproduce in a fresh process.
    pub not_reproducible: Mutex<Vec<NotReproducible>>,
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
                FaultKind::Buggify => effects.buggified == 0,
                FaultKind::Forge => effects.forged == 0,
                FaultKind::Corrupt => effects.corrupted == 0,
                FaultKind::CorruptDisk => effects.disk_corruptions == 0,
                FaultKind::Nemesis => effects.nemesis_moves == 0,
                // A clock step no node ever read does nothing.
                FaultKind::Clock => effects.clock_faulty_reads == 0,
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

/// What the worker knows of a property when a scenario fails it.
enum Known {
    /// Not verified yet.
    New,
    /// Verified, with this many seeds replayed.
    Verified(usize),
}

/// Verifies a failure in a fresh process, then records it: as a new finding (shrunk,
/// verified again, written out), as one more seed of a known one, or as not reproducible.
#[allow(clippy::too_many_arguments)]
fn report_failure<S: System>(
    system: &S,
    plan: &ChaosPlan,
    campaign: &Campaign,
    started: Instant,
    execs: u64,
    scenario: &Scenario<OpOf<S>>,
    failure: &Failure,
    mut failing: FailingSeed,
) {
    let key = (failure.kind.to_string(), failure.property.clone());
    let known = {
        let found = campaign.found.lock().unwrap_or_else(|p| p.into_inner());
        match found.get(&key) {
            None => Known::New,
            Some(f) => Known::Verified(f.seeds.iter().filter(|s| s.verified.is_some()).count()),
        }
    };
    let header = format!(
        "# found by squall chaos: {} violation of {}\n# seed {} (squall run {} --seed {}{}); campaign seed {}, worker {}, position {}\n",
        failure.kind,
        failure.property,
        failing.seed,
        system.name(),
        failing.seed,
        mutant_flag(plan.mutant.as_deref()) + &property_flags(&plan.check),
        plan.seed,
        failing.job,
        failing.position,
    );
    let original = format!("{header}{}", scenario.to_text());
    let replay = |text: &str| match ScratchFile::new(&format!("seed{}", failing.seed), text) {
        Ok(file) => verify_file(system, file.path(), plan.mutant.as_deref(), failure),
        Err(e) => Verdict::Error(format!("writing the scenario to replay it: {e}")),
    };
    if let Known::Verified(replayed) = known {
        if replayed < VERIFY_PER_PROPERTY {
            let verdict = replay(&original);
            failing.verified = Some(verdict.reproduced());
            if !verdict.reproduced() {
                not_reproducible(plan, campaign, failure, &failing, &verdict, &original);
            }
        }
        let mut found = campaign.found.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = found.get_mut(&key) {
            if failing.verified != Some(false) {
                f.count += 1;
            }
            f.seeds.push(failing);
        }
        return;
    }
    let verdict = replay(&original);
    if !verdict.reproduced() {
        failing.verified = Some(false);
        not_reproducible(plan, campaign, failure, &failing, &verdict, &original);
        return;
    }
    failing.verified = Some(true);
    if plan.stop_at_first {
        campaign.stop.store(true, Ordering::Relaxed);
    }
    {
        let mut found = campaign.found.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = found.get_mut(&key) {
            // Another worker verified this property meanwhile.
            f.count += 1;
            f.seeds.push(failing);
            return;
        }
        found.insert(
            key.clone(),
            Found {
                kind: key.0.clone(),
                property: key.1.clone(),
                detail: failure.detail.clone(),
                seed: failing.seed,
                count: 1,
                seeds: vec![failing.clone()],
                execs_at_first: execs,
                seconds_at_first: started.elapsed().as_secs_f64(),
                steps: (scenario.steps.len(), scenario.steps.len()),
                scenario: original.clone(),
                file: None,
                report: None,
            },
        );
    }
    if !plan.shrink {
        return;
    }
    let config = RunConfig {
        quiet_panics: true,
        ..RunConfig::default()
    };
    let isolation = plan.isolation.unwrap_or_else(|| system.isolation());
    let budget = ShrinkBudget {
        isolation,
        ..ShrinkBudget::default()
    };
    let shrunk = shrink(system, scenario, failure, &config, budget);
    let mut text = format!(
        "{header}# shrunk from {} to {} steps\n{}",
        scenario.steps.len(),
        shrunk.scenario.steps.len(),
        shrunk.scenario.to_text()
    );
    let mut steps_after = shrunk.scenario.steps.len();
    let mut final_scenario = &shrunk.scenario;
    // The shrunk file is a new claim: it must fail in a fresh process too.
    let shrunk_verdict = replay(&text);
    if !shrunk_verdict.reproduced() {
        text = format!(
            "{header}# the shrunk scenario ({} steps) did not fail again in a fresh process ({}); this is the original\n{}",
            shrunk.scenario.steps.len(),
            shrunk_verdict.describe(),
            scenario.to_text()
        );
        steps_after = scenario.steps.len();
        final_scenario = scenario;
    }
    // The one run of a finding that records what its report draws.
    let traced = RunConfig {
        trace: true,
        record: plan.out.is_some(),
        ..config.clone()
    };
    let harness_error = |e: String| {
        campaign
            .harness_errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(e);
    };
    let traced_run = run_isolated(system, final_scenario, &traced, isolation);
    let trace = match &traced_run {
        Ok(r) => r.trace.clone(),
        Err(e) => {
            harness_error(format!("tracing the finding of seed {}: {e}", failing.seed));
            format!("(the traced run failed: {e})\n")
        }
    };
    let mut report_file = None;
    // A finding whose file cannot be written keeps no file (its text stays in the summary)
    // and says why among the harness errors.
    let file = plan.out.as_ref().and_then(|dir| {
        let name = format!(
            "{}-{}-{}-seed{}",
            system.name(),
            failure.kind,
            slug(&failure.property),
            failing.seed
        );
        let scn = dir.join(format!("{name}.scn"));
        let trace_file = dir.join(format!("{name}.trace"));
        let written = std::fs::create_dir_all(dir)
            .map_err(|e| format!("creating {}: {e}", dir.display()))
            .and_then(|()| {
                std::fs::write(&scn, &text).map_err(|e| format!("writing {}: {e}", scn.display()))
            });
        if let Err(e) = written {
            harness_error(format!(
                "the finding of seed {} is not saved: {e}",
                failing.seed
            ));
            return None;
        }
        if let Err(e) = std::fs::write(&trace_file, &trace) {
            harness_error(format!("writing {}: {e}", trace_file.display()));
        }
        if let Ok(report) = &traced_run {
            let html = dir.join(format!("{name}.html"));
            let replay = format!(
                "squall replay {}{}",
                scn.display(),
                mutant_flag(plan.mutant.as_deref())
            );
            let page = crate::report::html::run_page(
                &crate::report::html::RunPage {
                    system: system.name(),
                    mutant: plan.mutant.as_deref(),
                    seed: final_scenario.seed,
                    nodes: final_scenario.nodes,
                    scenario: &text,
                    source: &scn.display().to_string(),
                    replay: &replay,
                },
                report,
            );
            match std::fs::write(&html, page) {
                Ok(()) => report_file = Some(html.display().to_string()),
                Err(e) => harness_error(format!("writing {}: {e}", html.display())),
            }
        }
        Some(scn.display().to_string())
    });
    let mut found = campaign.found.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(f) = found.get_mut(&key) {
        f.steps = (scenario.steps.len(), steps_after);
        f.scenario = text;
        f.file = file;
        f.report = report_file;
    }
}

/// ` --property NAME` for each property of a selection (none: every property is checked).
pub fn property_flags(check: &[String]) -> String {
    check.iter().map(|n| format!(" --property {n}")).collect()
}

/// ` --mutant NAME`, or nothing.
pub fn mutant_flag(mutant: Option<&str>) -> String {
    mutant.map(|m| format!(" --mutant {m}")).unwrap_or_default()
}

/// Records a failure that did not reproduce, keeping its scenario for inspection.
fn not_reproducible(
    plan: &ChaosPlan,
    campaign: &Campaign,
    failure: &Failure,
    failing: &FailingSeed,
    verdict: &Verdict,
    original: &str,
) {
    let file = plan.out.as_ref().and_then(|dir| {
        let dir = dir.join("not-reproducible");
        let scn = dir.join(format!(
            "{}-{}-seed{}.scn",
            failure.kind,
            slug(&failure.property),
            failing.seed
        ));
        let text = format!(
            "# NOT REPRODUCIBLE: this scenario failed once inside a chaos campaign but not again in a fresh process ({})\n# {}\n{original}",
            verdict.describe(),
            failure.detail.replace('\n', " ")
        );
        match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&scn, text)) {
            Ok(()) => Some(scn.display().to_string()),
            Err(e) => {
                campaign
                    .harness_errors
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(format!(
                        "keeping the not-reproducible scenario of seed {}: writing {}: {e}",
                        failing.seed,
                        scn.display()
                    ));
                None
            }
        }
    });
    campaign
        .not_reproducible
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(NotReproducible {
            kind: failure.kind.to_string(),
            property: failure.property.clone(),
            detail: failure.detail.clone(),
            replay: verdict.describe(),
            campaign_seed: plan.seed,
            job: failing.job,
            position: failing.position,
            seed: failing.seed,
            file,
        });
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
    let isolation = plan.isolation.unwrap_or_else(|| system.isolation());
    let offer = crate::systems::offer(system);
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
        let scenario = match Scenario::from_seed::<S::Workload>(system.name(), &offer, seed) {
            Ok(mut s) => {
                s.check.clone_from(&plan.check);
                s
            }
            Err(e) => {
                campaign
                    .harness_errors
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(format!("seed {seed}: {e}"));
                continue;
            }
        };
        let report = match run_isolated(system, &scenario, &config, isolation) {
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
        let failing = FailingSeed {
            seed,
            job,
            position: exec - 1,
            verified: None,
        };
        report_failure(
            system, plan, campaign, started, execs, &scenario, failure, failing,
        );
    }
    flush(&mut local_effects, &mut local_coverage);
}
