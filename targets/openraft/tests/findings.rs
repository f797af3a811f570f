//! Every finding stays reproducible: its scenario, run with the openraft configuration it
//! was found in, still breaks the property the write-up names; and passes with the
//! configuration the adapter uses. The write-ups are in `docs/findings/` at the repo root;
//! the scenarios stay in this crate's `findings/`.

use squall::report::FailureKind;
use squall::scenario::Scenario;
use squall::sim::runner::{run, RunConfig};
use squall::systems::with_mutant;
use squall_openraft::OpenRaft;
use std::path::Path;

fn scenario(name: &str) -> Scenario<squall_openraft::KvOp> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("findings")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("finding scenario is readable");
    Scenario::from_text(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn leader_restore_after_power_loss_reuses_a_log_id() {
    let s = scenario("001-leader-restore-log-id-reuse.scn");
    let with_restore = with_mutant(&OpenRaft::default(), "leader-restore").expect("known variant");
    let report = run(&with_restore, &s, &RunConfig::default()).expect("valid scenario");
    let failure = report
        .failure()
        .expect("openraft's default config breaks log matching");
    assert_eq!(failure.property, "log matching", "{failure}");
    assert!(
        report.effects.lost_writes > 0,
        "the power loss lost nothing"
    );

    let report = run(&OpenRaft::default(), &s, &RunConfig::default()).expect("valid scenario");
    assert!(report.passed(), "{:?}", report.failure());
}

#[test]
fn a_leader_that_reaches_one_follower_blocks_a_connected_majority() {
    let s = scenario("002-leader-lease-blocks-connected-majority.scn");
    let default = with_mutant(&OpenRaft::default(), "no-quorum-loss-probe").expect("known variant");
    let report = run(&default, &s, &RunConfig::default()).expect("valid scenario");
    let failure = report
        .failure()
        .expect("openraft's default config never elects in the connected majority");
    assert_eq!(failure.property, "progress under faults", "{failure}");
    assert_eq!(failure.kind, FailureKind::Liveness, "{failure}");

    let report = run(&OpenRaft::default(), &s, &RunConfig::default()).expect("valid scenario");
    assert!(report.passed(), "{:?}", report.failure());
}

#[test]
fn replication_to_a_follower_that_cannot_answer_keeps_it_leased() {
    let s = scenario("005-replication-keeps-follower-leased.scn");
    // The adapter's configuration, quorum-loss probe on: still no progress.
    let report = run(&OpenRaft::default(), &s, &RunConfig::default()).expect("valid scenario");
    let failure = report
        .failure()
        .expect("the old leader's replication keeps n2 leased");
    assert_eq!(failure.property, "progress under faults", "{failure}");
    assert_eq!(failure.kind, FailureKind::Liveness, "{failure}");

    // The same partition without the write: nothing is left to replicate, the probe silences
    // the old leader's heartbeats, and n0 and n2 elect.
    let mut idle = s.clone();
    idle.steps
        .retain(|step| !matches!(step, squall::scenario::Step::Op { .. }));
    assert!(idle.steps.len() < s.steps.len(), "the scenario has a write");
    let report = run(&OpenRaft::default(), &idle, &RunConfig::default()).expect("valid scenario");
    assert!(report.passed(), "{:?}", report.failure());
}
