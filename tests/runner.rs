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

#[test]
fn every_fault_kind_takes_effect_and_is_counted() {
    let s = scenario(
        "system register\nnodes 3\nseed 2\n\
         c0 write 1\nwait 50ms\n\
         loss 50%\nc0 write 2\nc1 read\nwait 300ms\nloss 0%\n\
         duplicate 100%\nc0 write 3\nwait 100ms\nduplicate 0%\n\
         delay 100%\nc0 write 31\nc1 read\nwait 2100ms\ndelay 0%\n\
         hold n0 n1\nc0 write 4\nc0 write 5\nc0 write 6\nwait 100ms\nrelease n0 n1\nwait 100ms\n\
         isolate n0\nc0 write 7\nwait 100ms\nheal all\n\
         crash n1\nwait 50ms\nrestart n1\n\
         c0 write 8\npowerloss n0\nwait 50ms\nrestart n0\nwait 200ms\n\
         garbage n2\nwait 50ms\n",
    );
    let report = run(&Register::default(), &s, &traced()).expect("runs");
    assert!(report.passed(), "{:?}\n{}", report.outcome, report.trace);
    let e = report.effects;
    assert!(e.dropped_by_loss > 0, "{e}");
    assert!(e.duplicated > 0, "{e}");
    assert!(e.delayed > 0, "{e}");
    assert!(e.held >= 3 && e.reordered > 0, "{e}");
    assert!(e.dropped_by_partition > 0, "{e}");
    assert_eq!((e.crashes, e.power_losses, e.restarts), (1, 1, 2), "{e}");
    assert!(e.node_down_ms >= 100, "{e}");
    assert_eq!(e.garbage, 1, "{e}");
}

#[test]
fn power_loss_drops_unsynced_writes_and_crash_keeps_them() {
    // The register syncs every write, so nothing is lost either way...
    let s = scenario("system register\nnodes 3\nseed 3\nc0 write 9\nwait 50ms\npowerloss n0\nrestart n0\nc1 read\nwait 300ms\n");
    let report = run(&Register::default(), &s, &traced()).expect("runs");
    assert!(report.passed(), "{:?}", report.outcome);
    assert_eq!(report.effects.lost_writes, 0);
    assert!(report.trace.contains("c1 ok read -> 9"), "{}", report.trace);
}

#[test]
fn the_same_scenario_gives_the_same_trace_bytes() {
    for seed in 0..20u64 {
        let bytes = squall::scenario::generate::seed_bytes(seed);
        let mut u = arbitrary::Unstructured::new(&bytes);
        let s: Scenario<RegOp> =
            Scenario::generate("register", &mut u, |_, _| {}).expect("generates");
        let a = run(&Register::default(), &s, &traced()).expect("runs");
        let b = run(&Register::default(), &s, &traced()).expect("runs");
        assert!(!a.trace.is_empty());
        assert_eq!(a.trace, b.trace, "seed {seed}: traces differ");
        assert_eq!(a.history, b.history, "seed {seed}: histories differ");
    }
}

#[test]
fn a_node_panic_on_garbage_fails_the_run_at_that_step() {
    let s = scenario(
        "system register\nnodes 3\nseed 4\nc0 write 1\nwait 50ms\ngarbage n1\nwait 50ms\n",
    );
    let report = run(
        &Register {
            panic_on_garbage: true,
            ..Register::default()
        },
        &s,
        &traced(),
    )
    .expect("runs");
    let failure = report.failure().expect("the panic is a failure");
    assert_eq!(failure.property, "no panics");
    assert_eq!(failure.step, Some(4), "{failure}");
    assert!(failure.detail.contains("undecodable frame"), "{failure}");
}

#[test]
fn a_system_that_never_recovers_fails_liveness() {
    let s = scenario("system register\nnodes 3\nseed 5\nc0 write 1\nwait 50ms\n");
    let report = run(
        &Register {
            never_live: true,
            ..Register::default()
        },
        &s,
        &RunConfig::default(),
    )
    .expect("runs");
    let failure = report.failure().expect("liveness failure");
    assert_eq!(failure.kind, squall::report::FailureKind::Liveness);
    assert!(failure.detail.contains("never recovers"), "{failure}");
    assert_eq!(failure.step, None);
}

#[test]
fn a_scenario_for_another_system_is_refused() {
    let s = scenario("system raft\nnodes 3\nseed 1\nc0 read\n");
    let err = run(&Register::default(), &s, &RunConfig::default()).expect_err("wrong system");
    assert!(err.to_string().contains("not `register`"), "{err}");
}

#[test]
fn delayed_messages_arrive_late_but_arrive() {
    // The same write, on a calm network and with every message held back by its sender:
    // it still completes, later than the calm one by at least the shortest delay each way.
    let latency = |delay: &str| {
        let s = scenario(&format!(
            "system register\nnodes 3\nseed 6\n{delay}c0 write 1\nwait 2500ms\n"
        ));
        let report = run(&Register::default(), &s, &traced()).expect("runs");
        assert!(report.passed(), "{:?}\n{}", report.outcome, report.trace);
        let events = &report.history.events;
        let ok = events
            .iter()
            .find(|e| e.kind == squall::history::EventType::Ok)
            .unwrap_or_else(|| panic!("the write completes:\n{}", report.trace));
        (ok.time - events[0].time, report.effects)
    };
    let (calm, calm_effects) = latency("");
    let (late, late_effects) = latency("delay 100%\n");
    assert_eq!(calm_effects.delayed, 0, "{calm_effects}");
    assert!(late_effects.delayed >= 2, "{late_effects}");
    assert!(
        late >= calm + 20_000_000,
        "calm {calm} ns, delayed {late} ns"
    );
}

#[test]
fn a_check_line_selects_the_properties_and_panics_are_always_checked() {
    let never_live = Register {
        never_live: true,
        ..Register::default()
    };
    let text =
        |check: &str| format!("system register\nnodes 3\nseed 5\n{check}c0 write 1\nwait 50ms\n");
    let verdict = |system: &Register, check: &str| {
        let s = scenario(&text(check));
        run(system, &s, &RunConfig::default())
            .expect("runs")
            .failure()
            .map(|f| f.property.clone())
    };
    assert_eq!(
        verdict(&never_live, "").as_deref(),
        Some("recovery after heal")
    );
    assert_eq!(
        verdict(&never_live, "check recovery-after-heal\n").as_deref(),
        Some("recovery after heal")
    );
    // Not selected: the liveness phase is skipped, and the history is still linearizable.
    assert_eq!(verdict(&never_live, "check linearizability\n"), None);
    // A name as the property spells it works too, and "no panics" cannot be deselected.
    let panics = Register {
        panic_on_garbage: true,
        ..Register::default()
    };
    let s = scenario("system register\nnodes 3\nseed 4\ncheck linearizability\nc0 write 1\nwait 50ms\ngarbage n1\nwait 50ms\n");
    let report = run(&panics, &s, &RunConfig::default()).expect("runs");
    assert_eq!(
        report.failure().map(|f| f.property.as_str()),
        Some("no panics")
    );
}

#[test]
fn a_violation_of_an_unselected_property_is_noted_not_reported() {
    // The stale-read register breaks linearizability; selecting only the per-step check
    // lets the run pass, and the trace says what was not checked.
    let stale = Register {
        stale_reads: true,
        ..Register::default()
    };
    let text = "system register\nnodes 3\nseed 9\nc0 write 1\nc1 read\nwait 100ms\nisolate n0\nc0 write 2\nwait 100ms\nc1 read\nc1 read\nc1 read\nwait 300ms\n";
    let all = run(&stale, &scenario(text), &traced()).expect("runs");
    assert_eq!(
        all.failure().map(|f| f.property.as_str()),
        Some("linearizability"),
        "{}",
        all.trace
    );
    let only = text.replacen("seed 9\n", "seed 9\ncheck backup-follows-primary\n", 1);
    let report = run(&stale, &scenario(&only), &traced()).expect("runs");
    assert!(report.passed(), "{:?}", report.outcome);
}

#[test]
fn an_unknown_property_in_a_check_line_is_refused_with_the_known_ones() {
    let s = scenario("system register\nnodes 3\nseed 1\ncheck no-such-thing\nc0 read\n");
    let err = run(&Register::default(), &s, &RunConfig::default()).expect_err("unknown");
    let err = err.to_string();
    assert!(err.contains("unknown property `no-such-thing`"), "{err}");
    assert!(
        err.contains("backup-follows-primary") && err.contains("linearizability"),
        "{err}"
    );
}

#[test]
fn a_check_line_survives_the_text_form() {
    let s =
        scenario("system register\nnodes 3\nseed 1\ncheck linearizability no-panics\nc0 read\n");
    assert_eq!(s.check, ["linearizability", "no-panics"]);
    assert_eq!(scenario(&s.to_text()), s);
    let err = Scenario::<RegOp>::from_text("system register\nnodes 3\nseed 1\ncheck\n")
        .expect_err("empty");
    assert!(err.to_string().contains("missing property names"), "{err}");
}

#[test]
fn a_crash_point_strikes_between_a_write_and_its_sync() {
    // n0 syncs each write right after making it: a power loss armed at the write loses it,
    // and the reply that would have followed never leaves: the client's retry after the
    // restart is what succeeds.
    let s = scenario(
        "system register\nnodes 3\nseed 6\nc0 write 5\nwait 100ms\npowerloss n0 at disk-write\n\
         c0 write 6\nwait 300ms\nrestart n0\nc1 read\nwait 300ms\n",
    );
    let report = run(&Register::default(), &s, &traced()).expect("runs");
    assert!(report.passed(), "{:?}\n{}", report.outcome, report.trace);
    let e = report.effects;
    assert_eq!(
        (e.points_armed, e.points_fired, e.power_losses),
        (1, 1, 1),
        "{e}"
    );
    assert!(e.lost_writes >= 1, "{e}");
    assert!(
        report.trace.contains("n0 lost power at disk-write"),
        "{}",
        report.trace
    );
    let at = |text: &str, line: &str| text.find(line).unwrap_or_else(|| panic!("{line}: {text}"));
    let t = &report.trace;
    assert!(at(t, "c0 ok write 6") > at(t, "step 6: restart n0"), "{t}");
    // Unarmed, the same write is synced and acknowledged at once.
    let calm = scenario(&s.to_text().replace("powerloss n0 at disk-write\n", ""));
    let report = run(&Register::default(), &calm, &traced()).expect("runs");
    let t = &report.trace;
    assert!(at(t, "c0 ok write 6") < at(t, "restart n0"), "{t}");
}

#[test]
fn a_crash_point_that_is_never_passed_never_fires_and_unknown_points_are_refused() {
    let s =
        scenario("system register\nnodes 3\nseed 6\ncrash n1 at disk-sync\nc0 read\nwait 100ms\n");
    let report = run(&Register::default(), &s, &RunConfig::default()).expect("runs");
    // n1 is a backup that only copies writes: no write, no sync, no crash.
    assert_eq!(
        (report.effects.points_armed, report.effects.points_fired),
        (1, 0)
    );
    assert_eq!(report.effects.crashes, 0);
    let s = scenario("system register\nnodes 3\nseed 6\ncrash n1 at nowhere\n");
    let err = run(&Register::default(), &s, &RunConfig::default()).expect_err("unknown point");
    assert!(
        err.to_string().contains("unknown crash point `nowhere`"),
        "{err}"
    );
    assert!(
        err.to_string().contains("disk-write, disk-sync, net-send"),
        "{err}"
    );
}

#[test]
fn a_pinned_client_is_cut_off_with_its_node() {
    // The register lives on n0. c0 lives beside n0, c1 beside n1: with n0 isolated, c1
    // cannot reach the register any more, while c0, on n0's side, still can. Unpinned,
    // clients reach every node whatever the partition.
    let text = |pinned: &str| {
        format!(
            "system register\nnodes 3\nseed 4\n{pinned}isolate n0\nwait 100ms\n\
             c0 write 1\nc1 write 2\nwait 2s\nheal all\nwait 500ms\n"
        )
    };
    let pinned = run(
        &Register::default(),
        &scenario(&text("clients pinned\n")),
        &traced(),
    )
    .expect("runs");
    let free = run(&Register::default(), &scenario(&text("")), &traced()).expect("runs");
    println!("{}", pinned.trace);
    assert!(pinned.trace.contains("c0 ok write 1"), "{}", pinned.trace);
    assert!(!pinned.trace.contains("c1 ok write 2"), "{}", pinned.trace);
    assert!(free.trace.contains("c1 ok write 2"), "{}", free.trace);
    assert!(
        pinned.effects.dropped_by_partition > free.effects.dropped_by_partition,
        "the client's frames count as dropped by the partition"
    );
}
