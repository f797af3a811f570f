//! The determinism gate with third-party randomness in the loop: the same scenarios give
//! the same traces forward, in reverse, and each alone in a fresh process, although the
//! nodes draw from std's `RandomState`, `rand`'s thread RNG, `getrandom` and
//! `futures::select!` (tests/support/dice.rs). The same holds with skewed and drifting node
//! clocks (the lease Raft store, whose timers and leases read them). Nothing in this binary runs a scenario on a
//! thread of its own process (see tests/isolation.rs for that), so every forked scenario
//! starts from the same per-process state as a fresh process.

#[path = "support/dice.rs"]
mod dice;

use dice::{Dice, Noop};
use squall::cli::scenario_from_seed;
use squall::determinism::check_orders;
use squall::report::trace_hash;
use squall::scenario::Scenario;
use squall::sim::isolate::run_isolated;
use squall::sim::runner::{derive_seed, RunConfig};
use squall::systems::raft::RaftKv;
use squall::systems::{Isolation, OpOf, System};
use squall::workload::kv::KvOp;
use std::process::Command;

/// Where the child test reads the scenario it runs alone.
const CHILD_SCENARIO: &str = "SQUALL_TEST_DICE_SCENARIO";

fn scenarios(count: u64, seed: u64) -> Vec<Scenario<Noop>> {
    (0..count)
        .map(|i| scenario_from_seed(&Dice::default(), derive_seed(seed, i)).expect("generates"))
        .collect()
}

/// Runs one scenario alone in a fresh process: this test binary, running only `child`,
/// which prints the trace's hash.
fn alone_in_a_fresh_process<Op: std::fmt::Display>(
    scenario: &Scenario<Op>,
    child: &str,
) -> Result<u64, String> {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("squall-dice-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let file = dir.join(format!("{child}-seed{}.scn", scenario.seed));
    std::fs::write(&file, scenario.to_text()).map_err(|e| e.to_string())?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let output = Command::new(exe)
        .args(["--exact", child, "--ignored", "--nocapture"])
        .env(CHILD_SCENARIO, &file)
        .output()
        .map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(&file);
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("TRACE_HASH="))
        .and_then(|h| u64::from_str_radix(h.trim(), 16).ok())
        .ok_or_else(|| format!("the child printed no trace hash: {stdout}"))
}

/// What a child test of `alone_in_a_fresh_process` does: runs the scenario file it was
/// given against `system` and prints its trace's hash.
fn run_child<S: System>(system: &S)
where
    OpOf<S>: std::str::FromStr<Err = String>,
{
    let path = std::env::var(CHILD_SCENARIO).expect("the scenario file to run");
    let text = std::fs::read_to_string(path).expect("reads the scenario");
    let scenario: Scenario<OpOf<S>> = Scenario::from_text(&text).expect("parses");
    let config = RunConfig {
        trace: true,
        ..RunConfig::default()
    };
    // Run here, on this process's own threads: nothing ran before it.
    let report = run_isolated(system, &scenario, &config, Isolation::Thread).expect("runs");
    println!("TRACE_HASH={:016x}", trace_hash(&report.trace));
}

/// The child half of `alone_in_a_fresh_process`; ignored unless run by it.
#[test]
#[ignore = "run by the determinism test, one scenario per process"]
fn fresh_process_child() {
    run_child(&Dice::default());
}

#[test]
fn third_party_randomness_gives_the_same_traces_in_any_order_and_process() {
    let scenarios = scenarios(60, 11);
    let mut fresh = |s: &Scenario<Noop>| alone_in_a_fresh_process(s, "fresh_process_child");
    let report = check_orders(
        &Dice::default(),
        &scenarios,
        Isolation::Process,
        Some(&mut fresh),
    );
    assert!(report.passed(), "{report:#?}");
    // Every scenario drew differently: the gate compared real randomness, not constants.
    assert_eq!(report.distinct_traces, scenarios.len(), "{report:#?}");
}

#[test]
fn the_traces_show_every_source_of_randomness() {
    let scenario = &scenarios(1, 5)[0];
    let config = RunConfig {
        trace: true,
        ..RunConfig::default()
    };
    let report =
        run_isolated(&Dice::default(), scenario, &config, Isolation::Process).expect("runs");
    let draws: Vec<&str> = report
        .trace
        .lines()
        .filter(|l| l.contains(" drew "))
        .collect();
    assert!(draws.len() > 10, "{}", report.trace);
    // Draws differ from each other (seeded streams, not a constant).
    let mut distinct = draws
        .iter()
        .map(|l| l.split(" drew ").nth(1).unwrap_or(""))
        .collect::<Vec<_>>();
    distinct.sort_unstable();
    distinct.dedup();
    assert!(distinct.len() > draws.len() / 2, "{}", report.trace);
    assert!(
        draws.iter().any(|l| l.ends_with("select 1"))
            && draws.iter().any(|l| l.ends_with("select 0")),
        "select! took both branches: {}",
        report.trace
    );
}

/// The child half of `alone_in_a_fresh_process` for the lease store; ignored unless run by it.
#[test]
#[ignore = "run by the determinism test, one scenario per process"]
fn fresh_process_child_lease() {
    run_child(&RaftKv::lease());
}

#[test]
fn skewed_and_drifting_clocks_give_the_same_traces_in_any_order_and_process() {
    let system = RaftKv::lease();
    let with_clock_steps = |s: &Scenario<KvOp>| {
        s.steps.iter().any(|st| {
            matches!(
                st,
                squall::scenario::Step::Fault(
                    squall::scenario::Fault::Skew(..) | squall::scenario::Fault::Drift(..)
                )
            )
        })
    };
    let scenarios: Vec<Scenario<KvOp>> = (0..200)
        .map(|i| scenario_from_seed(&system, derive_seed(21, i)).expect("generates"))
        .filter(with_clock_steps)
        .take(12)
        .collect();
    assert_eq!(
        scenarios.len(),
        12,
        "enough generated scenarios skew or drift a clock"
    );
    let mut fresh = |s: &Scenario<KvOp>| alone_in_a_fresh_process(s, "fresh_process_child_lease");
    let report = check_orders(&system, &scenarios, Isolation::Shared, Some(&mut fresh));
    assert!(report.passed(), "{report:#?}");
    assert_eq!(report.distinct_traces, scenarios.len(), "{report:#?}");
}

/// The dynamo store and its LWW variant (whose sessions stamp writes on hybrid clocks fed by
/// skewed wall clocks): generated scenarios give the same traces forward and in reverse in one
/// thread (the isolation the store declares); `squall determinism dynamo` adds the pass with
/// each alone in a fresh process.
#[test]
fn the_dynamo_store_gives_the_same_traces_in_any_order() {
    use squall::systems::dynamo::Dynamo;
    for system in [Dynamo::default(), Dynamo::lww()] {
        let scenarios: Vec<_> = (0..40)
            .map(|i| scenario_from_seed(&system, derive_seed(23, i)).expect("generates"))
            .collect();
        let report = check_orders(&system, &scenarios, Isolation::Shared, None);
        assert!(report.passed(), "{}: {report:#?}", system.name());
        assert_eq!(
            report.distinct_traces,
            scenarios.len(),
            "{}: {report:#?}",
            system.name()
        );
    }
}
