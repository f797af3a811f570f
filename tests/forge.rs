//! Forged messages (`forge nX`): they reach the node as if from a peer, a system that takes
//! none is unaffected, a crash-fault-tolerant system's own properties stop at the first
//! delivery while a byzantine-tolerant one keeps them, and the bounded-memory check catches
//! a node that trusts a forged length.

#[path = "support/journal.rs"]
mod journal;
#[path = "support/register.rs"]
mod register;

use journal::{JMsg, Journal, MAX_RESERVE, RECORD};
use register::Register;
use squall::report::Report;
use squall::scenario::generate::Offer;
use squall::scenario::{Fault, FaultKind, Scenario, Step};
use squall::sim::runner::{run, RunConfig};
use squall::systems::raft::RaftKv;
use squall::systems::supported_faults;
use std::net::SocketAddr;

fn traced() -> RunConfig {
    RunConfig {
        trace: true,
        ..RunConfig::default()
    }
}

fn run_text<S: squall::systems::System>(system: &S, text: &str) -> Report
where
    squall::systems::OpOf<S>: std::str::FromStr<Err = String>,
{
    let s: Scenario<squall::systems::OpOf<S>> =
        Scenario::from_text(text).expect("test scenario parses");
    run(system, &s, &traced()).expect("runs")
}

/// What `forge n{target} K` sends in a 3-node journal run with seed 9, for every K: read off
/// the trace of a run that sends them all.
fn journal_forgeries(target: u8) -> Vec<(u8, String)> {
    let mut text = String::from("system journal\nnodes 3\nseed 9\n");
    for k in 0..=255 {
        text.push_str(&format!("forge n{target} {k}\n"));
    }
    let report = run_text(&Journal::default(), &text);
    let lines: Vec<&str> = report.trace.lines().collect();
    lines
        .windows(2)
        .filter_map(|w| {
            let k = w[0].split(&format!("forge n{target}")).nth(1)?.trim();
            let desc = w[1].split("forged as from ").nth(1)?;
            Some((k.parse().unwrap_or(0), desc.to_string()))
        })
        .collect()
}

/// The first K whose forgery to `target` satisfies `want` (given the message's `Debug` form).
fn find(target: u8, want: impl Fn(&str) -> bool) -> u8 {
    journal_forgeries(target)
        .into_iter()
        .find(|(_, d)| d.split_once(": ").is_some_and(|(_, msg)| want(msg)))
        .map(|(k, _)| k)
        .expect("some forgery fits")
}

#[test]
fn a_forged_message_reaches_its_node_as_from_a_peer() {
    let system = Journal::default();
    let report = run_text(
        &system,
        "system journal\nnodes 3\nseed 9\nc0 write 1\nwait 50ms\nforge n1\nforge n2 3\nforge n1 7\nwait 100ms\n",
    );
    assert!(report.passed(), "{:?}\n{}", report.outcome, report.trace);
    assert_eq!(report.effects.forged, 3, "{}", report.effects);
    assert!(report.effects.to_string().ends_with(" forged=3"));
    let peers: Vec<SocketAddr> = (0..3)
        .map(|i| SocketAddr::from(([10, 0, 0, i + 1], 7000)))
        .collect();
    // Each forgery as the trace announced it, and as the node received it.
    let announced: Vec<(u8, String)> = report
        .trace
        .lines()
        .filter_map(|l| {
            let rest = l.split("forged as from n").nth(1)?;
            let (sender, desc) = rest.split_once(": ")?;
            Some((sender.parse().ok()?, desc.to_string()))
        })
        .collect();
    assert_eq!(announced.len(), 3, "{}", report.trace);
    let received = system.received.lock().expect("not poisoned");
    for (sender, desc) in &announced {
        let got = received.iter().find(|(_, from, msg)| {
            format!("{msg:?}") == *desc && *from == peers[usize::from(*sender)]
        });
        assert!(
            got.is_some(),
            "{desc} from n{sender} not received: {received:?}"
        );
    }
    // Nothing arrived as from the harness's own address (port 9100).
    assert!(received.iter().all(|(_, from, _)| from.port() != 9100));
}

#[test]
fn forgeries_are_the_same_in_every_run_and_after_other_steps_are_removed() {
    let with = run_text(
        &Journal::default(),
        "system journal\nnodes 3\nseed 9\nc0 write 1\nwait 30ms\ngarbage n2\nforge n1 5\nwait 100ms\n",
    );
    let again = run_text(
        &Journal::default(),
        "system journal\nnodes 3\nseed 9\nc0 write 1\nwait 30ms\ngarbage n2\nforge n1 5\nwait 100ms\n",
    );
    assert_eq!(with.trace, again.trace);
    let without = run_text(
        &Journal::default(),
        "system journal\nnodes 3\nseed 9\nforge n1 5\nwait 100ms\n",
    );
    let forged = |r: &Report| {
        r.trace
            .lines()
            .find(|l| l.contains("forged as from"))
            .map(|l| l.split_once("forged as").map(|x| x.1.to_string()))
    };
    assert_eq!(forged(&with), forged(&without));
}

#[test]
fn raft_runs_with_forgeries_are_deterministic() {
    let text = "system raft\nnodes 3\nseed 21\nwait 300ms\nc0 put k1 1\nforge n0 1\nforge n1 2\nforge n2 3\n\
                wait 200ms\nc1 append k1 2\nforge n0 4\nwait 300ms\nc2 get k1\nwait 300ms\n";
    let a = run_text(&RaftKv::default(), text);
    let b = run_text(&RaftKv::default(), text);
    assert!(a.passed(), "{:?}\n{}", a.outcome, a.trace);
    assert_eq!(a.trace, b.trace);
    assert_eq!(a.history, b.history);
    assert_eq!(a.effects.forged, 4);
}

#[test]
fn a_system_that_takes_no_forgeries_is_unaffected() {
    let plain = "system register\nnodes 3\nseed 7\nc0 write 4\nwait 100ms\nc1 read\nwait 100ms\n";
    let forged = "system register\nnodes 3\nseed 7\nc0 write 4\nwait 100ms\nforge n0\nforge n1 9\nc1 read\nwait 100ms\n";
    let a = run_text(&Register::default(), plain);
    let b = run_text(&Register::default(), forged);
    assert!(b.passed(), "{:?}", b.outcome);
    assert_eq!(a.history, b.history);
    assert_eq!(a.effects, b.effects);
    assert_eq!(b.effects.forged, 0);
    assert!(b.trace.contains("nothing forged"), "{}", b.trace);
    // And generated scenarios never spend a step on it, while they do for a system that
    // takes forgeries (in about one scenario of four).
    assert!(!supported_faults(&Register::default()).allows(FaultKind::Forge));
    assert!(supported_faults(&Journal::default()).allows(FaultKind::Forge));
    let forges = |supported| {
        (0..400u64)
            .filter(|seed| {
                let offer = Offer {
                    kinds: supported,
                    points: Vec::new(),
                    clock: Default::default(),
                };
                let s = Scenario::<register::RegOp>::from_seed::<
                    squall::workload::register::Register,
                >("register", &offer, *seed)
                .expect("generates");
                s.steps
                    .iter()
                    .any(|step| matches!(step, Step::Fault(Fault::Forge(..))))
            })
            .count()
    };
    assert_eq!(forges(supported_faults(&Register::default())), 0);
    let with = forges(supported_faults(&Journal::default()));
    // One bit of the weather: about half.
    assert!((120..280).contains(&with), "{with} of 400 scenarios forge");
}

#[test]
fn a_crash_fault_tolerant_system_stops_checking_its_own_properties_after_a_forgery() {
    // A forged Set of a value the primary never held, to a backup.
    let k = find(1, |d| {
        d.starts_with("Set { from: 0,") && !d.contains("value: 1 ")
    });
    let steps = format!("c0 write 1\nwait 50ms\nforge n1 {k}\nwait 100ms\nc1 read\nwait 100ms\n");
    let text = format!("system journal\nnodes 3\nseed 9\n{steps}");
    // The property holds without the forgery, and breaks with it: the checker can fail...
    let byzantine = Journal {
        claims_byzantine: true,
        ..Journal::default()
    };
    let kept = run_text(&byzantine, &text);
    let failure = kept
        .failure()
        .expect("a byzantine-tolerant system keeps its property");
    assert_eq!(failure.property, "backups follow the primary", "{failure}");
    assert!(
        kept.trace.contains("every property stays on"),
        "{}",
        kept.trace
    );
    // ...but a crash-fault-tolerant one is not held to it once the forgery is delivered:
    // it is noted, and the harness's properties and the history prefix are still checked.
    let suspended = run_text(&Journal::default(), &text);
    assert!(
        suspended.passed(),
        "{:?}\n{}",
        suspended.outcome,
        suspended.trace
    );
    assert!(
        suspended
            .trace
            .contains("not checked (suspended after a forgery): backups follow the primary"),
        "{}",
        suspended.trace
    );
    assert!(
        suspended
            .trace
            .contains("history: linearizable up to the first forgery (2 of"),
        "{}",
        suspended.trace
    );
    // A selection still composes: selecting only the property does not bring it back.
    let only =
        format!("system journal\nnodes 3\nseed 9\ncheck backups-follow-the-primary\n{steps}");
    assert!(run_text(&Journal::default(), &only).passed());
}

#[test]
fn the_bounded_memory_check_catches_a_node_that_trusts_a_forged_length() {
    // A forged Reserve of more records than fit in the limit.
    let limit = squall::sim::memory::MEMORY_LIMIT;
    let k = find(2, |d| {
        d.strip_prefix("Reserve { from: 0, records: ")
            .and_then(|r| r.trim_end_matches(" }").parse::<u64>().ok())
            .is_some_and(|records| records * RECORD as u64 > limit)
    });
    let text = format!(
        "system journal\nnodes 3\nseed 9\nc0 write 1\nwait 50ms\nforge n2 {k}\nwait 100ms\n"
    );
    let buggy = Journal {
        unbounded_reserve: true,
        ..Journal::default()
    };
    let report = run_text(&buggy, &text);
    let failure = report
        .failure()
        .expect("the unbounded reservation is caught");
    assert_eq!(failure.property, "bounded memory", "{failure}");
    assert!(failure.detail.starts_with("n2 holds "), "{failure}");
    // The correct journal reserves at most MAX_RESERVE records at a time, so the same
    // forgery passes; honest traffic (one record per write) passes either way.
    assert!(run_text(&Journal::default(), &text).passed());
    let honest = "system journal\nnodes 3\nseed 9\nc0 write 1\nc0 write 2\nwait 100ms\n";
    assert!(run_text(&buggy, honest).passed());
    assert!(u64::from(MAX_RESERVE) * (RECORD as u64) < limit);
}

#[test]
fn the_forged_message_type_round_trips_through_the_transport_frame() {
    // What the forger frames is what `recv_msg` decodes: the same codec both ways.
    let msg = JMsg::Reserve {
        from: 1,
        records: 3,
    };
    let frame = squall::node::frame::encode(&msg).expect("encodes");
    assert_eq!(squall::node::frame::decode::<JMsg>(&frame), Ok(msg));
}
