//! Whole-store runs of the dynamo store in the simulator.

use super::Dynamo;
use crate::scenario::Scenario;
use crate::sim::runner::{run, RunConfig};
use crate::workload::siblings::SiblingsOp;

fn scenario(text: &str) -> Scenario<SiblingsOp> {
    Scenario::from_text(text).expect("scenario parses")
}

fn traced() -> RunConfig {
    RunConfig {
        trace: true,
        ..RunConfig::default()
    }
}

#[test]
fn writes_are_read_back_and_concurrent_writes_become_siblings() {
    let s = scenario(
        "system dynamo\nnodes 5\nseed 1\nc0 put k0 1\nwait 200ms\nc1 get k0\nwait 200ms\nc2 put k1 2\nc3 put k1 3\nwait 300ms\nc0 get k1\nwait 300ms\n",
    );
    let report = run(&Dynamo::default(), &s, &traced()).expect("runs");
    assert!(report.passed(), "{:?}\n{}", report.outcome, report.trace);
    assert!(
        report.trace.contains("c1 ok get k0 -> \"[1]\""),
        "{}",
        report.trace
    );
    assert!(
        report.trace.contains("c0 ok get k1 -> \"[2]|[3]\""),
        "{}",
        report.trace
    );
}

#[test]
fn a_delete_is_read_as_nothing() {
    let s = scenario(
        "system dynamo\nnodes 5\nseed 2\nc0 put k2 1\nwait 200ms\nc0 get k2\nwait 200ms\nc0 delete k2\nwait 200ms\nc1 get k2\nwait 1500ms\nc2 get k2\nwait 200ms\n",
    );
    let report = run(&Dynamo::default(), &s, &traced()).expect("runs");
    assert!(report.passed(), "{:?}\n{}", report.outcome, report.trace);
    assert!(
        report.trace.contains("c1 ok get k2 -> nil"),
        "{}",
        report.trace
    );
}

#[test]
fn the_lww_variant_keeps_one_value() {
    let s = scenario(
        "system dynamo-lww\nnodes 5\nseed 3\nc2 put k1 2\nc3 put k1 3\nwait 300ms\nc0 get k1\nwait 300ms\n",
    );
    let report = run(&Dynamo::lww(), &s, &traced()).expect("runs");
    assert!(report.passed(), "{:?}\n{}", report.outcome, report.trace);
    assert!(!report.trace.contains("|["), "{}", report.trace);
}

/// The history is shaped for the kv model (what `squall cap` runs on it): a run without
/// concurrent writes is linearizable, and a read that returned siblings is not.
#[test]
fn the_history_reads_as_a_kv_history() {
    use crate::check::model::ModelKind;
    use crate::check::{history_verdict, HistoryVerdict};
    let calm = scenario(
        "system dynamo\nnodes 5\nseed 4\nc0 put k0 1\nwait 200ms\nc1 get k0\nwait 200ms\nc1 delete k0\nwait 200ms\nc2 get k0\nwait 200ms\n",
    );
    let report = run(&Dynamo::default(), &calm, &traced()).expect("runs");
    assert!(report.passed(), "{:?}\n{}", report.outcome, report.trace);
    assert_eq!(
        history_verdict(ModelKind::Kv, &report.history),
        HistoryVerdict::Consistent
    );
    let siblings = scenario(
        "system dynamo\nnodes 5\nseed 1\nc2 put k1 2\nc3 put k1 3\nwait 300ms\nc0 get k1\nwait 300ms\n",
    );
    let report = run(&Dynamo::default(), &siblings, &traced()).expect("runs");
    assert!(report.passed(), "{:?}\n{}", report.outcome, report.trace);
    assert!(
        matches!(
            history_verdict(ModelKind::Kv, &report.history),
            HistoryVerdict::Violated(_)
        ),
        "{}",
        report.trace
    );
}
