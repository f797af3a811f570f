//! Clock faults: the `skew`, `drift` and `heal clocks` steps as text, generated and shrunk;
//! their effects on the systems that read their clocks and on those that do not; and the
//! Raft store's lease reads, which are safe within the drift bound they claim and not beyond
//! it.

#[path = "support/register.rs"]
#[allow(dead_code)]
mod register;

use register::{RegOp, Register};
use squall::chaos::Campaign;
use squall::report::Effects;
use squall::scenario::generate::Offer;
use squall::scenario::text::ParseError;
use squall::scenario::{ClockBound, Fault, FaultKind, Scenario, Step, Weather};
use squall::shrink::{shrink, ShrinkBudget};
use squall::sim::runner::{run, RunConfig};
use squall::systems::raft::RaftKv;
use squall::systems::supported_faults;
use squall::workload::kv::KvOp;

fn parse(text: &str) -> Result<Scenario<RegOp>, ParseError> {
    Scenario::from_text(text)
}

const HEAD: &str = "system register\nnodes 3\nseed 1\n";

#[test]
fn clock_steps_round_trip_and_bad_values_are_errors_with_line_and_column() {
    let text = format!(
        "{HEAD}weather clock\nskew n1 +300ms\nskew n2 -2s\nskew n0 +0ms\nspread clocks 1500ms\n\
         drift n1 1.05\ndrift n2 0.999999\ndrift n0 10\nheal clocks\n"
    );
    let s = parse(&text).expect("parses");
    assert_eq!(s.to_text(), text);
    assert_eq!(
        s.steps,
        [
            Fault::Skew(1, 300),
            Fault::Skew(2, -2000),
            Fault::Skew(0, 0),
            Fault::SpreadClocks(1_500),
            Fault::Drift(1, 1_050_000),
            Fault::Drift(2, 999_999),
            Fault::Drift(0, 10_000_000),
            Fault::HealClocks,
        ]
        .map(Step::Fault)
    );
    // Written without a sign, a skew is ahead; a rate without decimals is whole.
    let s = parse(&format!("{HEAD}skew n1 50ms\ndrift n1 1.\n")).expect("parses");
    assert_eq!(s.steps[0], Step::Fault(Fault::Skew(1, 50)));
    assert_eq!(s.steps[1], Step::Fault(Fault::Drift(1, 1_000_000)));
    assert!(s.weather.allows(FaultKind::Clock));

    let error = |step: &str| parse(&format!("{HEAD}{step}\n")).expect_err(step);
    for (step, column, says) in [
        ("skew n1", 9, "missing offset"),
        ("skew n1 300", 9, "expected an offset"),
        ("skew n1 +-3ms", 9, "expected an offset"),
        ("skew n1 ++3ms", 9, "expected an offset"),
        ("skew n1 +90000s", 9, "beyond the limit"),
        ("skew n5 +1ms", 6, "does not exist"),
        ("skew n1 +1ms now", 14, "unexpected `now`"),
        ("drift n1", 10, "missing clock rate"),
        ("drift n1 fast", 10, "expected a clock rate"),
        ("drift n1 1.0000001", 10, "at most six decimals"),
        ("drift n1 -1", 10, "expected a clock rate"),
        ("drift n1 0", 10, "must be 0.1 to 10"),
        ("drift n1 0.09", 10, "must be 0.1 to 10"),
        ("drift n1 10.5", 10, "must be 0.1 to 10"),
        ("drift n1 99999999999", 10, "must be 0.1 to 10"),
        ("heal clocks now", 13, "unexpected `now`"),
        ("spread n1 1s", 8, "expected `spread clocks`"),
        ("spread clocks", 15, "missing duration"),
        ("spread clocks -1s", 15, "expected a duration"),
        ("spread clocks 90000s", 15, "longer than the limit"),
    ] {
        let e = error(step);
        assert_eq!((e.line, e.column), (4, column), "{step}: {e}");
        assert!(e.message.contains(says), "{step}: {e}");
    }
    let e = parse(&format!("{HEAD}weather partition\ndrift n1 1.1\n")).expect_err("weather");
    assert!(e.message.contains("`clock` fault"), "{e}");
}

/// Generated scenarios with `offer`, from seeds `0..count`.
fn generated(offer: &Offer, count: u64) -> Vec<Scenario<RegOp>> {
    (0..count)
        .map(|seed| {
            let bytes = squall::scenario::generate::seed_bytes(seed);
            let mut u = arbitrary::Unstructured::new(&bytes);
            Scenario::generate_with("register", offer, &mut u, |_, _| {}).expect("generates")
        })
        .collect()
}

/// `s` as fuzzer input for `offer`, decoded again.
fn encoded_and_decoded(s: &Scenario<RegOp>, offer: &Offer) -> Scenario<RegOp> {
    let bytes = s
        .to_bytes_with(offer, register::op_bytes)
        .expect("encodable");
    let mut u = arbitrary::Unstructured::new(&bytes);
    Scenario::generate_with("register", offer, &mut u, |_, _| {}).expect("decodes")
}

#[test]
fn generated_clock_faults_stay_within_the_claimed_bound_and_encode_back() {
    let tight = ClockBound {
        max_skew_ms: 100,
        max_drift_ppm: 20_000,
    };
    for bound in [ClockBound::WIDEST, tight] {
        let offer = Offer {
            kinds: Weather::universal().with(FaultKind::Clock),
            clock: bound,
            ..Offer::default()
        };
        let (mut skews, mut spreads, mut drifts, mut heals) = (0, 0, 0, 0);
        for s in generated(&offer, 400) {
            for step in &s.steps {
                match *step {
                    Step::Fault(Fault::Skew(_, ms)) => {
                        skews += 1;
                        assert!(
                            ms.unsigned_abs() <= bound.max_skew_ms,
                            "{ms} beyond {bound:?}"
                        );
                        assert_ne!(ms, 0);
                    }
                    Step::Fault(Fault::SpreadClocks(ms)) => {
                        spreads += 1;
                        assert!(ms <= bound.max_skew_ms, "{ms} beyond {bound:?}");
                        assert_ne!(ms, 0);
                    }
                    Step::Fault(Fault::Drift(_, ppm)) => {
                        drifts += 1;
                        assert!(
                            ppm.abs_diff(1_000_000) <= bound.max_drift_ppm,
                            "{ppm} beyond {bound:?}"
                        );
                        assert_ne!(ppm, 1_000_000);
                    }
                    Step::Fault(Fault::HealClocks) => heals += 1,
                    _ => {}
                }
            }
            // Every generated step is one the encoder can express: the bytes decode back.
            assert_eq!(encoded_and_decoded(&s, &offer), s);
        }
        assert!(
            skews > 50 && spreads > 50 && drifts > 30 && heals > 10,
            "{skews} {spreads} {drifts} {heals}"
        );
    }
    // Without the kind in the offer, no clock step is drawn, and scenarios decode as before.
    for s in generated(&Offer::default(), 200) {
        assert!(!s.weather.allows(FaultKind::Clock));
        assert!(s.steps.iter().all(|st| !matches!(
            st,
            Step::Fault(
                Fault::Skew(..) | Fault::SpreadClocks(_) | Fault::Drift(..) | Fault::HealClocks
            )
        )));
    }
}

#[test]
fn a_hand_written_clock_step_encodes_to_the_nearest_the_generator_draws() {
    let s = parse(&format!(
        "{HEAD}skew n1 -250ms\nspread clocks 4s\ndrift n2 1.07\nheal clocks\n"
    ))
    .expect("parses");
    let offer = Offer {
        kinds: Weather::universal().with(FaultKind::Clock),
        ..Offer::default()
    };
    assert_eq!(
        encoded_and_decoded(&s, &offer).steps,
        [
            Fault::Skew(1, -300),
            Fault::SpreadClocks(5_000),
            Fault::Drift(2, 1_050_000),
            Fault::HealClocks
        ]
        .map(Step::Fault)
    );
}

#[test]
fn only_systems_whose_properties_rest_on_their_clocks_are_offered_clock_faults() {
    assert!(!supported_faults(&Register::default()).allows(FaultKind::Clock));
    assert!(!supported_faults(&RaftKv::default()).allows(FaultKind::Clock));
    assert!(supported_faults(&RaftKv::lease()).allows(FaultKind::Clock));
    let bound = squall::systems::offer(&RaftKv::lease()).clock;
    assert_eq!(bound.max_drift_ppm, 100_000);
}

fn kv(text: &str) -> Scenario<KvOp> {
    Scenario::from_text(text).expect("parses")
}

fn effects_of(system: &RaftKv, text: &str) -> Effects {
    run(system, &kv(text), &RunConfig::default())
        .expect("runs")
        .effects
}

#[test]
fn effects_show_how_far_clocks_went_and_whether_anyone_read_them() {
    let skews = "nodes 3\nseed 3\nc0 put k1 1\nskew n0 +300ms\nskew n1 -200ms\nwait 500ms\n";
    let drifts =
        "nodes 3\nseed 3\nc0 put k1 1\ndrift n0 1.1\nwait 500ms\nheal clocks\nwait 100ms\n";
    // raft reads its monotonic clock (its timers), never the wall clock.
    let e = effects_of(&RaftKv::default(), &format!("system raft\n{skews}"));
    assert_eq!(
        (e.clock_changes, e.clock_faulty_reads, e.clock_divergence_ms),
        (2, 0, 500)
    );
    let e = effects_of(&RaftKv::default(), &format!("system raft\n{drifts}"));
    assert_eq!((e.clock_changes, e.clock_divergence_ms), (1, 50));
    assert!(e.clock_faulty_reads > 0);
    // The unbounded-lease bug reads the wall clock; the correct lease store does not.
    let buggy = RaftKv::named("raft-lease", Some("unbounded-lease")).expect("known");
    let e = effects_of(&buggy, &format!("system raft-lease\n{skews}"));
    assert!(e.clock_faulty_reads > 0);
    let e = effects_of(&RaftKv::lease(), &format!("system raft-lease\n{skews}"));
    assert_eq!(e.clock_faulty_reads, 0);
    // A system that reads no clock at all: clock steps change nothing it sees.
    let s = parse(&format!(
        "{HEAD}c0 write 1\nskew n0 +1s\ndrift n1 2\nwait 300ms\nc1 read\nwait 200ms\n"
    ))
    .expect("parses");
    let report = run(&Register::default(), &s, &RunConfig::default()).expect("runs");
    assert!(report.passed());
    assert_eq!(report.effects.clock_changes, 2);
    assert_eq!(report.effects.clock_faulty_reads, 0);
    // Runs add up: changes and reads sum, divergence is the widest of any.
    let mut sum = Effects::default();
    for d in [500, 50] {
        sum.add(&Effects {
            clock_changes: 1,
            clock_faulty_reads: 3,
            clock_divergence_ms: d,
            ..Effects::default()
        });
    }
    assert_eq!(
        (
            sum.clock_changes,
            sum.clock_faulty_reads,
            sum.clock_divergence_ms
        ),
        (2, 6, 500)
    );
}

#[test]
fn chaos_calls_clock_faults_no_node_read_ineffective() {
    let campaign = Campaign::default();
    campaign
        .coverage
        .lock()
        .expect("lock")
        .insert((FaultKind::Clock, "any"), 3);
    campaign.effects.lock().expect("lock").clock_changes = 3;
    assert_eq!(campaign.ineffective_kinds(), vec![FaultKind::Clock]);
    campaign.effects.lock().expect("lock").clock_faulty_reads = 1;
    assert!(campaign.ineffective_kinds().is_empty());
}

/// n1 leads term 1; its clock is changed to `leader_rate` (the followers' run 10 % fast), it
/// is cut off, n0 commits a write in term 2, and then a client that still knows n1 as leader
/// reads: stale if n1's lease outlasted its followers' patience.
fn lease_scenario(leader_rate: &str) -> Scenario<KvOp> {
    kv(&format!(
        "system raft-lease\nnodes 3\nseed 7\nc0 put k1 1\nwait 300ms\n\
         drift n1 {leader_rate}\ndrift n0 1.1\ndrift n2 1.1\nc0 get k1\nwait 100ms\n\
         isolate n1\nc1 put k1 2\nwait 230ms\nc0 get k1\nwait 300ms\n"
    ))
}

#[test]
fn lease_reads_hold_at_the_claimed_drift_bound_and_break_beyond_it() {
    let traced = RunConfig {
        trace: true,
        ..RunConfig::default()
    };
    // At the bound: the leader's clock 10 % slow. Leases are taken (the trace shows reads
    // served under one), and every read is linearizable.
    let at = run(&RaftKv::lease(), &lease_scenario("0.9"), &traced).expect("runs");
    assert!(at.passed(), "{}", at.trace);
    assert!(at.trace.contains("n1 read under its lease"), "{}", at.trace);
    // Far beyond it (five times slow), the same store serves a stale read: the bound is a
    // real assumption, and linearizability sees it broken.
    let beyond = run(&RaftKv::lease(), &lease_scenario("0.2"), &traced).expect("runs");
    let failure = beyond.failure().expect("a stale read");
    assert_eq!(failure.property, "linearizability", "{}", beyond.trace);
    // Plain raft reads through the log: no clock makes its reads stale.
    let mut plain = lease_scenario("0.2");
    plain.system = "raft".to_string();
    assert!(run(&RaftKv::default(), &plain, &traced)
        .expect("runs")
        .passed());
}

#[test]
fn the_lease_bug_shrinks_to_the_steps_that_need_each_other() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/corpus/raft/lease-reads-with-clocks-at-the-edge-of-the-bound.scn"
    ))
    .expect("reads the corpus file");
    let scenario = kv(&text);
    let buggy = RaftKv::named("raft-lease", Some("unbounded-lease")).expect("known");
    let config = RunConfig::default();
    let report = run(&buggy, &scenario, &config).expect("runs");
    let failure = report.failure().expect("the bug is caught").clone();
    let shrunk = shrink(
        &buggy,
        &scenario,
        &failure,
        &config,
        ShrinkBudget::default(),
    );
    assert_eq!(shrunk.failure.property, "linearizability");
    let steps = &shrunk.scenario.steps;
    assert!(
        steps.len() < shrunk.steps_before,
        "{}",
        shrunk.scenario.to_text()
    );
    // Wall clocks apart (the cut-off leader's behind its follower's) is what the bug needs:
    // a skew stays, and the drifts (which the bug does not need) go.
    assert!(
        steps
            .iter()
            .any(|s| matches!(s, Step::Fault(Fault::Skew(..)))),
        "{}",
        shrunk.scenario.to_text()
    );
    assert!(
        !steps
            .iter()
            .any(|s| matches!(s, Step::Fault(Fault::Drift(..)))),
        "{}",
        shrunk.scenario.to_text()
    );
    // It replays, and it passes without the bug.
    assert!(!run(&buggy, &shrunk.scenario, &config)
        .expect("runs")
        .passed());
    assert!(run(&RaftKv::lease(), &shrunk.scenario, &config)
        .expect("runs")
        .passed());
}
