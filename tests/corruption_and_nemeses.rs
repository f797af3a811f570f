//! Corruption that looks real (`corrupt P%`, `corrupt-disk nX`) and nemesis compositions
//! (`bounce leader`, `flap`, `bridge`, `ring`, `isolate primaries`): their text form and byte
//! form, that each takes effect and is counted, that runs stay deterministic, and that the
//! checks they need fire on a planted violation and stay quiet on a correct run.

#[path = "support/register.rs"]
#[allow(dead_code)]
mod register;

use register::{RegOp, Register};
use squall::scenario::text::ParseError;
use squall::scenario::{Fault, Scenario, Step};
use squall::sim::runner::{run, RunConfig};
use squall::systems::raft::RaftKv;
use squall::workload::kv::KvOp;

fn traced() -> RunConfig {
    RunConfig {
        trace: true,
        ..RunConfig::default()
    }
}

fn raft(text: &str) -> Scenario<KvOp> {
    Scenario::from_text(text).expect("test scenario parses")
}

const NEW_STEPS: &str = "system register
nodes 5
seed 42
weather crash corrupt corrupt-disk nemesis
c0 write 5
corrupt 5%
wait 100ms
crash n3
corrupt-disk n3
corrupt-disk n1
bounce leader
wait 200ms
flap n0 n2
bridge
ring
isolate primaries
heal all
corrupt 0%
c1 read
wait 50ms
";

#[test]
fn the_new_steps_round_trip_as_text_and_as_fuzzer_input() {
    let s: Scenario<RegOp> = Scenario::from_text(NEW_STEPS).expect("parses");
    assert_eq!(s.to_text(), NEW_STEPS);
    assert_eq!(s.steps[1], Step::Fault(Fault::Corrupt(5)));
    assert_eq!(s.steps[4], Step::Fault(Fault::CorruptDisk(3)));
    assert_eq!(s.steps[8], Step::Fault(Fault::Flap(0, 2)));
    // Every step is one the generator can make: the bytes decode back to the same scenario
    // (`corrupt-disk n3` aims at a node the generator knows is down, `n1` at any node).
    let offer = squall::scenario::generate::Offer {
        kinds: squall::scenario::Weather::all(),
        points: Vec::new(),
        clock: Default::default(),
    };
    let bytes = s
        .to_bytes_with(&offer, register::op_bytes)
        .expect("encodable");
    let mut u = arbitrary::Unstructured::new(&bytes);
    let back: Scenario<RegOp> =
        Scenario::generate_with("register", &offer, &mut u, |_, _| {}).expect("generates");
    assert_eq!(back, s);
}

fn error(text: &str) -> ParseError {
    Scenario::<RegOp>::from_text(text).expect_err("must not parse")
}

#[test]
fn mistakes_in_the_new_steps_name_line_and_column() {
    let head = "system register\nnodes 3\nseed 1\n";
    let e = error(&format!("{head}corrupt 101%\n"));
    assert_eq!((e.line, e.column), (4, 9), "{e}");
    let e = error(&format!("{head}corrupt-disk n3\n"));
    assert_eq!((e.line, e.column), (4, 14), "{e}");
    assert!(e.message.contains("n3 does not exist"), "{e}");
    let e = error(&format!("{head}flap n1 n1\n"));
    assert_eq!((e.line, e.column), (4, 9), "{e}");
    let e = error(&format!("{head}bounce n1\n"));
    assert_eq!((e.line, e.column), (4, 8), "{e}");
    assert!(e.message.contains("`bounce leader`"), "{e}");
    let e = error(&format!("{head}bounce\n"));
    assert!(e.message.contains("missing `leader`"), "{e}");
    let e = error(&format!("{head}bridge n1\n"));
    assert_eq!((e.line, e.column), (4, 8), "{e}");
    let e = error(&format!("{head}isolate primaries now\n"));
    assert_eq!((e.line, e.column), (4, 19), "{e}");
    let e = error(&format!("{head}weather partition\nring\n"));
    assert_eq!(e.line, 5, "{e}");
    assert!(e.message.contains("`nemesis` fault"), "{e}");
    let e = error(&format!("{head}weather corrupt\ncorrupt-disk n0\n"));
    assert!(e.message.contains("`corrupt-disk` fault"), "{e}");
}

#[test]
fn bit_flips_in_flight_are_counted_and_every_corrupted_frame_is_rejected() {
    let s = raft(
        "system raft\nnodes 3\nseed 11\ncorrupt 30%\nc0 put k1 1\nc1 append k1 2\nwait 600ms\n\
         c2 get k1\nwait 400ms\n",
    );
    let report = run(&RaftKv::default(), &s, &traced()).expect("runs");
    assert!(report.passed(), "{:?}\n{}", report.outcome, report.trace);
    let e = report.effects;
    assert!(e.corrupted > 20, "{e}");
    // Corrupted frames to running nodes and clients are all rejected (a few may reach a
    // client that gave up on its request, or be lost); nothing else is rejected.
    assert!(e.rejected > 0 && e.rejected <= e.corrupted, "{e}");
    // Off (and after `heal all`), nothing is corrupted: the same seed draws what it drew
    // before corruption existed.
    let calm = raft(
        "system raft\nnodes 3\nseed 11\nc0 put k1 1\nc1 append k1 2\nwait 600ms\n\
         c2 get k1\nwait 400ms\n",
    );
    let report = run(&RaftKv::default(), &calm, &traced()).expect("runs");
    assert_eq!((report.effects.corrupted, report.effects.rejected), (0, 0));
}

#[test]
fn a_system_that_frames_its_own_bytes_takes_a_flipped_bit_for_data_and_its_history_shows_it() {
    // The register frames its own bytes with no checksum, on the raw transport: squall cannot
    // tell at the transport that it took a corrupted frame for a message ("corrupt frames
    // are rejected" covers typed receives only), but a flipped value read back breaks
    // linearizability.
    let caught = (1..40u64).find_map(|seed| {
        let s: Scenario<RegOp> = Scenario::from_text(&format!(
            "system register\nnodes 3\nseed {seed}\ncorrupt 30%\nc0 write 1\nwait 200ms\n\
             c1 read\nwait 200ms\nc0 write 2\nwait 200ms\nc1 read\nwait 200ms\n"
        ))
        .expect("parses");
        let report = run(&Register::default(), &s, &RunConfig::default()).expect("runs");
        report.failure().cloned()
    });
    let failure = caught.expect("some seed flips a value the register then serves");
    assert_eq!(failure.property, "linearizability", "{failure}");
}

const ONE_REFUSES: &str = "system raft\nnodes 3\nseed 7\nc0 put k1 1\nc1 put k2 2\n\
    c2 append k1 3\nwait 400ms\ncrash n1\ncorrupt-disk n1\nrestart n1\nwait 300ms\n";

#[test]
fn a_node_that_finds_its_disk_corrupt_refuses_and_the_rest_stay_live() {
    let report = run(&RaftKv::default(), &raft(ONE_REFUSES), &traced()).expect("runs");
    assert!(report.passed(), "{:?}\n{}", report.outcome, report.trace);
    assert_eq!(report.effects.disk_corruptions, 1);
    assert!(
        report.trace.contains("n1 refused to start"),
        "{}",
        report.trace
    );
    assert!(
        report.trace.contains("liveness: recovered"),
        "{}",
        report.trace
    );
}

#[test]
fn a_corrupt_record_used_as_valid_is_caught_at_the_restart() {
    let system = RaftKv::from_mutant_name(Some("unverified-records")).expect("known");
    let report = run(&system, &raft(ONE_REFUSES), &traced()).expect("runs");
    let failure = report.failure().expect("caught");
    assert_eq!(failure.property, "corrupt records are never trusted");
    assert_eq!(failure.step, Some(8), "{failure}");
}

#[test]
fn disks_corrupted_on_a_majority_make_recovery_impossible_not_a_failure() {
    let s = raft(
        "system raft\nnodes 3\nseed 5\nc0 put k1 1\nwait 400ms\ncrash n0\ncrash n2\n\
         corrupt-disk n0\ncorrupt-disk n2\nrestart all\nc3 get k1\nwait 600ms\n",
    );
    let report = run(&RaftKv::default(), &s, &traced()).expect("runs");
    assert!(report.passed(), "{:?}\n{}", report.outcome, report.trace);
    assert!(
        report.trace.contains("liveness: not expected"),
        "{}",
        report.trace
    );
    assert_eq!(report.effects.disk_corruptions, 2);
}

#[test]
fn a_corrupt_disk_step_on_a_node_that_synced_nothing_does_nothing() {
    let s = raft("system raft\nnodes 3\nseed 1\ncorrupt-disk n2\nwait 100ms\n");
    let report = run(&RaftKv::default(), &s, &traced()).expect("runs");
    assert!(report.passed(), "{:?}", report.outcome);
    assert_eq!(report.effects.disk_corruptions, 0);
    assert!(report.trace.contains("n2 has synced nothing to corrupt"));
}

#[test]
fn bounce_leader_brings_leadership_back_to_the_first_leader() {
    let s = raft(
        "system raft\nnodes 3\nseed 2\nc0 put k1 1\nwait 400ms\nc1 append k1 2\n\
         bounce leader\nc2 append k1 3\nwait 1500ms\nc3 get k1\nwait 300ms\n",
    );
    let report = run(&RaftKv::default(), &s, &traced()).expect("runs");
    assert!(report.passed(), "{:?}\n{}", report.outcome, report.trace);
    assert_eq!(report.effects.bounced, 1, "{}", report.trace);
    assert_eq!(report.effects.nemesis_moves, 2, "{}", report.trace);
    assert!(report.trace.contains("n1 became leader of term 3"));
    assert!(report.trace.contains("leadership returned to n1"));
}

#[test]
fn a_later_partition_step_ends_a_running_nemesis() {
    // The flap would go on for 200 ms; the `isolate` 50 ms in ends it, and its link stays
    // as the flap left it (healed, 40 ms in).
    let s = raft(
        "system raft\nnodes 3\nseed 3\nc0 put k1 1\nwait 400ms\nflap n0 n1\nwait 50ms\n\
         isolate n2\nwait 300ms\n",
    );
    let report = run(&RaftKv::default(), &s, &traced()).expect("runs");
    assert!(report.passed(), "{:?}\n{}", report.outcome, report.trace);
    // The cut at the step and the heal 40 ms later; none after the isolation.
    assert_eq!(report.effects.nemesis_moves, 2, "{}", report.trace);
}

#[test]
fn flaps_and_partition_shapes_take_effect() {
    let s = raft(
        "system raft\nnodes 5\nseed 1\nc0 put k1 1\nwait 400ms\nflap n0 n1\nwait 300ms\n\
         bridge\nc1 append k1 2\nwait 500ms\nring\nwait 500ms\nisolate primaries\nwait 500ms\n",
    );
    let report = run(&RaftKv::default(), &s, &traced()).expect("runs");
    assert!(report.passed(), "{:?}\n{}", report.outcome, report.trace);
    let e = report.effects;
    // Flap: 6 changes; bridge on 5 nodes: 4 cuts; ring: 5 cuts; one primary isolated.
    assert_eq!(e.nemesis_moves, 6 + 4 + 5 + 1, "{e}");
    assert!(e.dropped_by_partition > 0, "{e}");
}

#[test]
fn runs_with_the_new_faults_are_deterministic() {
    let s = raft(
        "system raft\nnodes 5\nseed 9\ncorrupt 10%\nc0 put k1 1\nc1 append k1 2\nwait 400ms\n\
         bounce leader\nc2 append k1 3\nwait 700ms\ncrash n3\ncorrupt-disk n3\nflap n0 n4\n\
         wait 300ms\nrestart n3\nring\nwait 300ms\nisolate primaries\nwait 300ms\n",
    );
    let a = run(&RaftKv::default(), &s, &traced()).expect("runs");
    let b = run(&RaftKv::default(), &s, &traced()).expect("runs");
    assert!(a.passed(), "{:?}\n{}", a.outcome, a.trace);
    assert_eq!(a.trace, b.trace);
    assert_eq!(a.effects, b.effects);
    assert!(a.effects.corrupted > 0 && a.effects.disk_corruptions == 1);
}

#[test]
fn the_unverified_records_bug_is_invisible_to_every_older_fault() {
    // Without a bit flipped on a disk, the planted bug reads exactly what the correct store
    // reads: intact records and torn tails of zeros, which no record decodes from. So every
    // generated scenario, with its `corrupt-disk` steps taken out, runs the same trace with
    // and without it.
    let system = RaftKv::default();
    let mutant = RaftKv::from_mutant_name(Some("unverified-records")).expect("known");
    let mut restarts = 0;
    for seed in 0..150u64 {
        let mut s = squall::cli::scenario_from_seed(&system, seed).expect("generates");
        s.steps
            .retain(|st| !matches!(st, Step::Fault(Fault::CorruptDisk(_))));
        s.weather = squall::shrink::used_weather(&s);
        let a = run(&system, &s, &traced()).expect("runs");
        let b = run(&mutant, &s, &traced()).expect("runs");
        assert_eq!(a.trace, b.trace, "seed {seed}");
        restarts += a.effects.restarts;
    }
    assert!(restarts > 50, "the scenarios restart nodes ({restarts})");
}

#[test]
fn only_systems_that_opt_in_get_corruption_in_generated_scenarios() {
    use squall::scenario::FaultKind;
    let kinds_in = |kinds: squall::scenario::Weather| {
        let mut seen = std::collections::BTreeSet::new();
        for seed in 0..300u64 {
            let offer = squall::scenario::generate::Offer {
                kinds,
                points: Vec::new(),
                clock: Default::default(),
            };
            let s: Scenario<RegOp> = Scenario::from_seed::<squall::workload::register::Register>(
                "register", &offer, seed,
            )
            .expect("generates");
            assert!(s.weather.kinds().all(|k| kinds.allows(k)), "{}", s.weather);
            seen.extend(s.steps.iter().filter_map(|st| match st {
                Step::Fault(f) => f.kind(),
                _ => None,
            }));
        }
        seen
    };
    // The register frames its own bytes and stores its value without a checksum: it keeps
    // the default, which leaves both corruption kinds out.
    let register = kinds_in(squall::systems::supported_faults(&Register::default()));
    assert!(!register.contains(&FaultKind::Corrupt));
    assert!(!register.contains(&FaultKind::CorruptDisk));
    assert!(register.contains(&FaultKind::Nemesis));
    // The Raft store checksums frames and records, and opts in to every kind but clock
    // faults, which only its lease variant depends on.
    let raft = kinds_in(squall::systems::supported_faults(&RaftKv::default()));
    assert_eq!(raft.len(), FaultKind::ALL.len() - 1);
    assert!(!raft.contains(&FaultKind::Clock));
    let lease = kinds_in(squall::systems::supported_faults(&RaftKv::lease()));
    assert_eq!(lease.len(), FaultKind::ALL.len());
}
