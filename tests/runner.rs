//! The simulation driver, on the smallest system: faults take effect, runs are deterministic,
//! the properties fire.

#[path = "support/register.rs"]
mod register;

use register::{RegOp, Register};
use squall::scenario::Scenario;
use squall::sim::runner::{run, RunConfig};

fn scenario(text: &str) -> Scenario<RegOp> {
    Scenario::from_text(text).expect("test scenario parses")
}

fn traced() -> RunConfig {
    RunConfig {
        trace: true,
        ..RunConfig::default()
    }
}

#[test]
fn a_calm_register_run_passes_and_records_its_history() {
    let s = scenario(
        "system register\nnodes 3\nseed 1\nc0 write 5\nc1 read\nwait 200ms\nc1 read\nwait 200ms\n",
    );
    let report = run(&Register::default(), &s, &traced()).expect("runs");
    println!("{}", report.trace);
    assert!(report.passed(), "{:?}", report.outcome);
    assert!(report.ops.ok >= 3, "{:?}", report.ops);
    assert!(report.trace.contains("c0 ok write 5"));
}
