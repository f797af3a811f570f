//! Where scenarios run, and what that does to findings: a fresh thread resets thread-local
//! state but not per-process state; a failure that depends on the runs before it is
//! reported as not reproducible, never as a finding. These tests run scenarios on threads of
//! this very process, so they live apart from tests/determinism.rs, whose forked scenarios
//! must find the process untouched.

#[path = "support/dice.rs"]
mod dice;

use dice::{Dice, Noop};
use squall::chaos::{work, Campaign, ChaosPlan};
use squall::cli::scenario_from_seed;
use squall::determinism::check_orders;
use squall::scenario::Scenario;
use squall::sim::runner::derive_seed;
use squall::systems::Isolation;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The tests here count runs of this process: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn scenarios(system: &Dice, count: u64, seed: u64) -> Vec<Scenario<Noop>> {
    (0..count)
        .map(|i| scenario_from_seed(system, derive_seed(seed, i)).expect("generates"))
        .collect()
}

#[test]
fn a_fresh_thread_resets_what_is_seeded_per_thread() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    // RandomState, rand's thread RNG and getrandom: per-thread, seeded from the scenario.
    let system = Dice {
        select: false,
        ..Dice::default()
    };
    let report = check_orders(&system, &scenarios(&system, 40, 3), Isolation::Thread, None);
    assert!(report.passed(), "{report:#?}");
    assert_eq!(report.distinct_traces, 40);
}

#[test]
fn a_shared_thread_keeps_thread_local_state() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    // std's RandomState draws its keys once per thread: scenarios sharing a thread see keys
    // the first of them drew, so HashMap order depends on position.
    let system = Dice {
        select: false,
        ..Dice::default()
    };
    let report = check_orders(&system, &scenarios(&system, 40, 3), Isolation::Shared, None);
    assert!(!report.mismatches.is_empty(), "{report:#?}");
}

#[test]
fn a_fresh_thread_cannot_reset_per_process_state() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    // futures::select! seeds its thread-local PRNG from a process-wide counter: on threads of
    // one process, a scenario's trace depends on how many ran before it. This is why a
    // system's default isolation is a process per scenario.
    let system = Dice::default();
    let report = check_orders(&system, &scenarios(&system, 40, 3), Isolation::Thread, None);
    assert!(!report.mismatches.is_empty(), "{report:#?}");
}

fn plan(out: Option<std::path::PathBuf>, isolation: Isolation, max_execs: u64) -> ChaosPlan {
    ChaosPlan {
        seed: 99,
        shard: (0, 1),
        jobs: 1,
        deadline: Instant::now() + Duration::from_secs(120),
        max_execs: Some(max_execs),
        stop_at_first: false,
        shrink: true,
        out,
        mutant: None,
        isolation: Some(isolation),
        check: Vec::new(),
    }
}

#[test]
fn a_failure_that_does_not_replay_is_reported_as_not_reproducible_and_never_saved() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("squall-isolation-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    // The campaign's second scenario fails because it is the second run of this process;
    // replayed alone, it passes.
    let system = Dice {
        select: false,
        fail_run: Some(dice::runs_so_far() + 1),
        ..Dice::default()
    };
    let plan = plan(Some(out.clone()), Isolation::Thread, 4);
    let campaign = Campaign::default();
    work(&system, &plan, 0, &campaign, Instant::now());
    let found = campaign.found.lock().expect("lock");
    let unreproduced = campaign.not_reproducible.lock().expect("lock");
    assert!(found.is_empty(), "{found:#?}");
    assert_eq!(unreproduced.len(), 1, "{unreproduced:#?}");
    let u = &unreproduced[0];
    assert_eq!(u.property, "not the marked run");
    assert_eq!((u.campaign_seed, u.job, u.position), (99, 0, 1));
    assert_eq!(u.seed, plan.scenario_seed(0, 1));
    assert!(u.replay.contains("passed"), "{}", u.replay);
    // Kept for inspection under not-reproducible/, never beside the findings.
    let kept = u.file.as_ref().expect("kept");
    assert!(kept.contains("not-reproducible"), "{kept}");
    let text = std::fs::read_to_string(kept).expect("reads");
    assert!(text.starts_with("# NOT REPRODUCIBLE"), "{text}");
    let findings: Vec<_> = std::fs::read_dir(&out)
        .expect("out exists")
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "scn"))
        .collect();
    assert!(findings.is_empty(), "{findings:?}");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn a_failure_that_replays_is_a_finding_with_every_failing_seed() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("squall-isolation-found-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    // One draw in three fails: a failure that depends on the seeded randomness only.
    let system = Dice {
        dice_property: Some(3),
        ..Dice::default()
    };
    let plan = plan(Some(out.clone()), Isolation::Process, 12);
    let campaign = Campaign::default();
    work(&system, &plan, 0, &campaign, Instant::now());
    assert!(
        campaign.not_reproducible.lock().expect("lock").is_empty(),
        "{:#?}",
        campaign.not_reproducible.lock().expect("lock")
    );
    let found = campaign.found.lock().expect("lock");
    let f = found.values().next().expect("found");
    assert_eq!(f.property, "no low rolls");
    assert_eq!(f.seeds.len() as u64, f.count);
    // Every seed is listed; the first few of a property are replayed in a fresh process.
    assert!(
        f.count as usize > squall::chaos::VERIFY_PER_PROPERTY,
        "{f:#?}"
    );
    for (i, s) in f.seeds.iter().enumerate() {
        let replayed = i < squall::chaos::VERIFY_PER_PROPERTY;
        assert_eq!(s.verified, replayed.then_some(true), "{f:#?}");
    }
    assert_eq!(f.seeds[0].seed, f.seed);
    let file = f.file.as_ref().expect("written");
    assert!(std::path::Path::new(file).exists(), "{file}");
    let _ = std::fs::remove_dir_all(&out);
}
