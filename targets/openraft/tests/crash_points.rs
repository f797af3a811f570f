//! The adapter's storage callbacks mark crash points, and each one is reachable: armed on
//! every node, it fires during an election and a few writes, and the cluster recovers.

use squall::scenario::Scenario;
use squall::sim::runner::{run, RunConfig};
use squall_openraft::{OpenRaft, CRASH_POINTS};

#[test]
fn every_storage_crash_point_fires_and_the_cluster_recovers() {
    for point in CRASH_POINTS {
        let name = point.name;
        let text = format!(
            "system openraft\nnodes 3\nseed 3\n\
             crash n0 at {name}\ncrash n1 at {name}\ncrash n2 at {name}\n\
             wait 800ms\nc0 put k0 1\nc1 put k1 2\nwait 300ms\nc2 get k0\nwait 300ms\n"
        );
        let scenario: Scenario<_> = Scenario::from_text(&text).expect("parses");
        let config = RunConfig {
            trace: true,
            ..RunConfig::default()
        };
        let report = run(&OpenRaft::default(), &scenario, &config).expect("runs");
        let e = &report.effects;
        assert_eq!(e.points_armed, 3, "{name}: {e}");
        assert!(
            e.points_fired >= 1,
            "{name} never fired: {e}\n{}",
            report.trace
        );
        assert!(
            report.passed(),
            "{name}: {:?}\n{}",
            report.outcome,
            report.trace
        );
    }
}
