//! The determinism gate for openraft: the same scenario run twice in one process gives the
//! same trace and the same client history, for every cluster size 3..=7.

use squall::cli::scenario_from_seed;
use squall::sim::runner::{run, RunConfig};
use squall_openraft::OpenRaft;
use std::collections::BTreeSet;

#[test]
fn same_scenario_same_trace_for_every_cluster_size() {
    let config = RunConfig {
        trace: true,
        ..RunConfig::default()
    };
    let mut sizes = BTreeSet::new();
    let mut seed = 0;
    while sizes.len() < 5 {
        let scenario =
            scenario_from_seed(&OpenRaft::default(), seed).expect("seed gives a scenario");
        seed += 1;
        if !sizes.insert(scenario.nodes) {
            continue;
        }
        let first = run(&OpenRaft::default(), &scenario, &config).expect("valid scenario");
        let second = run(&OpenRaft::default(), &scenario, &config).expect("valid scenario");
        assert!(
            first.trace.len() > 100,
            "seed {}: suspiciously short trace",
            scenario.seed
        );
        assert_eq!(
            first.trace, second.trace,
            "seed {} ({} nodes): traces differ",
            scenario.seed, scenario.nodes
        );
        assert_eq!(first.history, second.history, "seed {}", scenario.seed);
        assert_eq!(first.outcome, second.outcome, "seed {}", scenario.seed);
    }
    assert_eq!(sizes, (3..=7).collect());
}
