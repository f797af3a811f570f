//! Whole-store runs of the saga store in the simulator.

use super::Saga;
use crate::scenario::Scenario;
use crate::sim::runner::{run, RunConfig};
use crate::workload::orders::OrderOp;

fn scenario(text: &str) -> Scenario<OrderOp> {
    Scenario::from_text(text).expect("scenario parses")
}

fn traced() -> RunConfig {
    RunConfig {
        trace: true,
        ..RunConfig::default()
    }
}

#[test]
fn orders_complete_and_reads_see_them() {
    let s = scenario(
        "system saga\nnodes 3\nseed 1\nc0 order u1 i2 3\nwait 300ms\nc1 read u1\nc2 read-all\nc3 audit\nwait 500ms\n",
    );
    let report = run(&Saga::default(), &s, &traced()).expect("runs");
    assert!(report.passed(), "{:?}\n{}", report.outcome, report.trace);
    assert!(
        report.trace.contains("-> \"u1=11 | payment: 0.1\""),
        "{}",
        report.trace
    );
}

#[test]
fn an_order_that_cannot_be_paid_is_compensated() {
    // u0 has 20; 8 units of i2 cost 24: stock is reserved, the charge refused, the
    // reservation released.
    let s = scenario(
        "system saga\nnodes 4\nseed 2\nc0 order u0 i2 8\nwait 400ms\nc1 read-all\nwait 300ms\n",
    );
    let report = run(&Saga::default(), &s, &traced()).expect("runs");
    assert!(report.passed(), "{:?}\n{}", report.outcome, report.trace);
    assert!(
        report.trace.contains("c0 fail order u0 i2 8: compensated"),
        "{}",
        report.trace
    );
    assert!(report.trace.contains("i2=8"), "{}", report.trace);
}
