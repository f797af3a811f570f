//! Whole-store runs of the 2PC store in the simulator.

use super::TwoPc;
use crate::scenario::Scenario;
use crate::sim::runner::{run, RunConfig};
use crate::workload::bank::BankOp;

fn scenario(text: &str) -> Scenario<BankOp> {
    Scenario::from_text(text).expect("scenario parses")
}

#[test]
fn transfers_commit_and_reads_see_them() {
    let s = scenario(
        "system twopc\nnodes 3\nseed 1\nc0 transfer a0 a1 5\nwait 300ms\nc1 read a1\nc2 read-all\nc0 transfer a2 a3 50\nwait 500ms\n",
    );
    let report = run(
        &TwoPc::default(),
        &s,
        &RunConfig {
            trace: true,
            ..RunConfig::default()
        },
    )
    .expect("runs");
    assert!(report.passed(), "{:?}\n{}", report.outcome, report.trace);
    assert!(
        report.trace.contains("-> \"a1=15 | 0.1\""),
        "{}",
        report.trace
    );
}
