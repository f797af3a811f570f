//! Shrinking keeps the failure, and ends 1-minimal and readable.

#[path = "support/register.rs"]
mod register;

use register::{RegOp, Register};
use squall::scenario::{Fault, Scenario, Step};
use squall::shrink::{shrink, ShrinkBudget};
use squall::sim::runner::{run, RunConfig};

#[test]
fn a_garbage_panic_shrinks_to_the_garbage_and_one_wait() {
    let system = Register {
        panic_on_garbage: true,
        ..Register::default()
    };
    let text = "system register\nnodes 5\nseed 9\n\
        c0 write 1\nc1 read\nwait 120ms\nloss 20%\ncrash n3\nc2 write 2\nwait 200ms\n\
        isolate n1\nwait 50ms\ngarbage n2\nc0 read\nwait 300ms\nheal all\nwait 100ms\nc3 write 4\n";
    let scenario: Scenario<RegOp> = Scenario::from_text(text).expect("parses");
    let config = RunConfig::default();
    let report = run(&system, &scenario, &config).expect("runs");
    let failure = report.failure().expect("fails").clone();
    assert_eq!(failure.property, "no panics");

    let shrunk = shrink(
        &system,
        &scenario,
        &failure,
        &config,
        ShrinkBudget::default(),
    );
    assert!(shrunk.complete);
    assert_eq!(shrunk.failure.property, "no panics");
    assert_eq!(shrunk.steps_before, 15);
    assert_eq!(shrunk.scenario.nodes, 3, "{}", shrunk.scenario.to_text());
    // The liveness phase still runs the node, so the garbage alone is enough.
    assert_eq!(
        shrunk.scenario.steps.len(),
        1,
        "{}",
        shrunk.scenario.to_text()
    );
    assert!(matches!(
        shrunk.scenario.steps[0],
        Step::Fault(Fault::Garbage(_))
    ));

    // 1-minimal: removing any single step loses the failure.
    for i in 0..shrunk.scenario.steps.len() {
        let mut c = shrunk.scenario.clone();
        c.steps.remove(i);
        let r = run(&system, &c, &config).expect("runs");
        assert!(r.passed(), "step {i} was removable");
    }
}

#[test]
fn liveness_failures_shrink_too() {
    let system = Register {
        never_live: true,
        ..Register::default()
    };
    let scenario: Scenario<RegOp> = Scenario::from_text(
        "system register\nnodes 4\nseed 1\nc0 write 1\nwait 100ms\ncrash n1\nwait 30ms\n",
    )
    .expect("parses");
    let config = RunConfig {
        liveness_budget: std::time::Duration::from_millis(200),
        ..RunConfig::default()
    };
    let failure = run(&system, &scenario, &config)
        .expect("runs")
        .failure()
        .expect("fails")
        .clone();
    let shrunk = shrink(
        &system,
        &scenario,
        &failure,
        &config,
        ShrinkBudget::default(),
    );
    assert_eq!(
        shrunk.scenario.steps.len(),
        0,
        "{}",
        shrunk.scenario.to_text()
    );
    assert_eq!(shrunk.scenario.nodes, 3);
    assert_eq!(
        shrunk.scenario.to_text(),
        "system register\nnodes 3\nseed 1\nweather calm\n"
    );
}
