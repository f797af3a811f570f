//! Hand-made histories on both sides of each property's line.
//!
//! Histories are written in a small text form, one event or step per line:
//!
//! ```text
//! c0 write k a ctx x y     # invoke and acknowledge a write of a to k, passing context {x, y}
//! c0 delete k d ctx a      # the same for a delete (tombstone d)
//! c1 read k -> a b ctx d   # invoke and complete a read returning {a, b}, context {d}
//! c0 invoke write k a      # invoke only; complete later with `c0 ok`, `c0 fail`, `c0 info`
//! c1 invoke read k         # ... and `c1 ok -> a ctx d`
//! replica n1 k a b         # n1 holds {a, b} for k after quiescence
//! replicas                 # the final states are known (even if no replica is listed)
//! ```

use super::history::{Action, Completion, Datum, History, Recorder};
use super::properties::*;
use super::{check, Anomaly, Model};
use crate::check::property::Property;

/// Splits `a b ctx c d` into `([a, b], [c, d])`.
fn values_and_context(words: &[&str]) -> (Vec<Datum>, Vec<Datum>) {
    let split = words
        .iter()
        .position(|w| *w == "ctx")
        .unwrap_or(words.len());
    let d = |w: &[&str]| w.iter().map(|&x| Datum::from(x)).collect::<Vec<_>>();
    let context = if split < words.len() {
        d(&words[split + 1..])
    } else {
        Vec::new()
    };
    (d(&words[..split]), context)
}

/// Builds a history from the text form above.
pub(crate) fn history(text: &str) -> History {
    let mut r = Recorder::new();
    for (t, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let w: Vec<&str> = line.split_whitespace().collect();
        let time = t as u64 * 10;
        let bad = || -> ! { panic!("bad test line {line:?}") };
        match w[..] {
            ["replicas"] => r.replicas_known(),
            ["replica", name, key, ref values @ ..] => r
                .replica(name.into(), key.into(), values_and_context(values).0)
                .expect("replica"),
            [s, "invoke", f, key, ref rest @ ..] => {
                let action = match f {
                    "read" => Action::Read,
                    "write" => Action::Write,
                    "delete" => Action::Delete,
                    _ => bad(),
                };
                let (value, context) = match rest {
                    [] => (None, Vec::new()),
                    [v, ref ctx @ ..] => (Some(Datum::from(*v)), values_and_context(ctx).1),
                };
                r.invoke(s.into(), action, key.into(), value, context, time)
                    .expect("invoke");
            }
            [s, "ok", ref rest @ ..] => {
                let session = Datum::from(s);
                let open = r.outstanding(&session).expect("outstanding");
                let completion = match r.operation(open).expect("op").action {
                    Action::Read => {
                        let (values, context) = values_and_context(rest.get(1..).unwrap_or(&[]));
                        Completion::Read { values, context }
                    }
                    _ => Completion::Written { version: None },
                };
                r.complete(&session, completion, time + 1).expect("ok");
            }
            [s, "fail"] => {
                r.complete(&s.into(), Completion::Fail, time + 1)
                    .expect("fail");
            }
            [s, "info"] => {
                r.complete(&s.into(), Completion::Unknown, time + 1)
                    .expect("info");
            }
            [s, f @ ("write" | "delete"), key, value, ref rest @ ..] => {
                let action = if f == "write" {
                    Action::Write
                } else {
                    Action::Delete
                };
                let context = values_and_context(rest).1;
                r.invoke(
                    s.into(),
                    action,
                    key.into(),
                    Some(value.into()),
                    context,
                    time,
                )
                .expect("invoke");
                r.complete(&s.into(), Completion::Written { version: None }, time + 1)
                    .expect("ok");
            }
            [s, "read", key, "->", ref rest @ ..] => {
                let (values, context) = values_and_context(rest);
                r.invoke(s.into(), Action::Read, key.into(), None, Vec::new(), time)
                    .expect("invoke");
                r.complete(&s.into(), Completion::Read { values, context }, time + 1)
                    .expect("ok");
            }
            _ => bad(),
        }
    }
    r.finish()
}

fn anomalies(text: &str, p: Property) -> Vec<Anomaly> {
    check(&history(text), &[p]).expect("checkable")
}

/// `p` holds on `text`.
fn holds(p: Property, text: &str) {
    let found = anomalies(text, p);
    assert!(
        found.is_empty(),
        "{}: unexpected anomalies:\n{found:#?}",
        p.name
    );
}

/// `p` is violated on `text`; returns the first anomaly's text.
fn broken(p: Property, text: &str) -> String {
    let found = anomalies(text, p);
    assert!(
        !found.is_empty(),
        "{}: expected an anomaly in\n{text}",
        p.name
    );
    found[0].to_string()
}

#[test]
fn valid_observations_name_real_writes_seen_in_time() {
    holds(
        VALID_OBSERVATIONS,
        "c0 write k a\nc1 read k -> a\nc1 write k b ctx a",
    );
    let e = broken(VALID_OBSERVATIONS, "c0 write k a\nc1 read k -> z");
    assert_eq!(
        e,
        "valid observations: key k: c1 #1 read k → {z} observes z, but no write wrote it"
    );
    let e = broken(
        VALID_OBSERVATIONS,
        "c0 invoke write k a\nc0 fail\nc1 read k -> a",
    );
    assert!(e.contains("the write that wrote it failed"), "{e}");
    let e = broken(VALID_OBSERVATIONS, "c1 read k -> a\nc0 write k a");
    assert!(e.contains("invoked only afterwards"), "{e}");
    let e = broken(VALID_OBSERVATIONS, "c0 write j a\nc1 read k -> a");
    assert!(e.contains("written to another key"), "{e}");
    let e = broken(VALID_OBSERVATIONS, "c0 write k a ctx zz");
    assert!(
        e.contains("names in its context zz, but no write wrote it"),
        "{e}"
    );
    // A read overlapping the write may see it.
    holds(
        VALID_OBSERVATIONS,
        "c1 invoke read k\nc0 write k a\nc1 ok -> a",
    );
}

#[test]
fn no_read_returns_a_value_with_the_write_that_overwrote_it() {
    // b's context covers a: returning both means the store ignored the context.
    let e = broken(
        VALID_OBSERVATIONS,
        "c0 write k a\nc1 write k b ctx a\nc2 read k -> a b",
    );
    assert!(
        e.contains("returns {a} together with {b}, which overwrote it"),
        "{e}"
    );
    // Concurrent writes stay siblings.
    holds(
        VALID_OBSERVATIONS,
        "c0 write k a\nc1 write k b\nc2 read k -> a b",
    );
    // Overwritten through a chain of contexts, even one through another key.
    broken(
        VALID_OBSERVATIONS,
        "c0 write k a\nc1 write j x ctx a\nc1 write k b ctx x\nc2 read k -> a b",
    );
}

#[test]
fn a_context_names_siblings_returned_or_overwritten() {
    holds(
        NO_DROPPED_SIBLINGS,
        "c0 write k a\nc0 write k b ctx a\nc1 read k -> b ctx a",
    );
    // A tombstone in the context is not a sibling to return.
    holds(
        NO_DROPPED_SIBLINGS,
        "c0 write k a\nc0 delete k d ctx a\nc1 read k -> ctx d",
    );
    let e = broken(
        NO_DROPPED_SIBLINGS,
        "c0 write k a\nc1 write k b\nc2 read k -> b ctx a",
    );
    assert!(
        e.contains("names {a} in its context but neither returns it"),
        "{e}"
    );
}

#[test]
fn read_your_writes() {
    holds(READ_YOUR_WRITES, "c0 write k a\nc0 read k -> a");
    // A write after it (here through c1's read and context) reflects it.
    holds(
        READ_YOUR_WRITES,
        "c0 write k a\nc1 read k -> a\nc1 write k b ctx a\nc0 read k -> b",
    );
    // Its own delete, reported as the tombstone in the context.
    holds(
        READ_YOUR_WRITES,
        "c0 write k a\nc0 delete k d ctx a\nc0 read k -> ctx d",
    );
    // Another session's writes do not count; a failed or unknown own write neither.
    holds(
        READ_YOUR_WRITES,
        "c1 write k a\nc0 read k ->\nc0 invoke write k b\nc0 info\nc0 read k ->",
    );
    let e = broken(READ_YOUR_WRITES, "c0 write k a\nc0 read k ->");
    assert_eq!(e, "read your writes: key k: c0 #2 read k → {} does not reflect the session's own c0 #1 write k = a: it returns neither that write nor anything after it");
    let e = broken(
        READ_YOUR_WRITES,
        "c0 write k a\nc0 write k b\nc0 write k c\nc0 read k -> a",
    );
    assert!(
        e.contains("does not reflect the session's own c0 #3 write k = c (nor 1 earlier write"),
        "{e}"
    );
    // A read after a delete that names no tombstone saw nothing.
    broken(
        READ_YOUR_WRITES,
        "c0 write k a\nc0 delete k d ctx a\nc0 read k ->",
    );
    // Returning what an own write overwrote, although that write is reflected (through c1
    // reading b and writing x after it).
    let e = broken(
        READ_YOUR_WRITES,
        "c0 write k a\nc0 write k b ctx a\nc1 read k -> b\nc1 write k x\nc0 read k -> a x",
    );
    assert!(
        e.contains("returns {a}, which the session's own earlier c0 #2 write k = b"),
        "{e}"
    );
}

#[test]
fn monotonic_reads() {
    holds(
        MONOTONIC_READS,
        "c0 write k a\nc1 read k -> a\nc1 read k -> a",
    );
    holds(
        MONOTONIC_READS,
        "c0 write k a\nc1 read k -> a\nc0 write k b ctx a\nc1 read k -> b",
    );
    // Other keys and other sessions are not constrained.
    holds(
        MONOTONIC_READS,
        "c0 write k a\nc1 read k -> a\nc1 read j ->\nc2 read k ->",
    );
    let e = broken(
        MONOTONIC_READS,
        "c0 write k a\nc1 read k -> a\nc1 read k ->",
    );
    assert!(e.contains("c1 #2 read k → {} does not reflect c0 #1 write k = a, which the session's earlier c1 #1 read"), "{e}");
    let e = broken(
        MONOTONIC_READS,
        "c0 write k a\nc0 write k b ctx a\nc1 read k -> b\nc2 read k -> b\nc2 write k x\nc1 read k -> a x",
    );
    assert!(e.contains("returns {a}, which c0 #2 write k = b"), "{e}");
    // Writes of unknown outcome the session observed count too.
    broken(
        MONOTONIC_READS,
        "c0 invoke write k u\nc1 read k -> u\nc1 read k ->\nc0 info",
    );
}

#[test]
fn monotonic_writes() {
    holds(
        MONOTONIC_WRITES,
        "c0 write k a\nc0 write k b ctx a\nc1 read k -> b",
    );
    holds(
        MONOTONIC_WRITES,
        "c0 write k a\nc1 write k b\nc2 read k -> a b",
    );
    let e = broken(
        MONOTONIC_WRITES,
        "c0 write k a\nc0 write k b\nc1 read k -> a b",
    );
    assert!(e.contains("returns {a} together with {b}, yet c0 #1 write k = a precedes c0 #2 write k = b: session c0 wrote both, the second after the first was acknowledged"), "{e}");
    // Through a later overwrite of b.
    let e = broken(
        MONOTONIC_WRITES,
        "c0 write k a\nc0 write k b\nc1 write k x ctx b\nc2 read k -> a x",
    );
    assert!(e.contains("through session c0's writes: c0 #1 write k = a was acknowledged before c0 #2 write k = b"), "{e}");
    // An unacknowledged first write is not ordered.
    holds(
        MONOTONIC_WRITES,
        "c0 invoke write k a\nc0 info\nc0 write k b\nc1 read k -> a b",
    );
}

#[test]
fn writes_follow_reads() {
    holds(
        WRITES_FOLLOW_READS,
        "c0 write k a\nc1 read k -> a\nc1 write k b ctx a\nc2 read k -> b",
    );
    let e = broken(
        WRITES_FOLLOW_READS,
        "c0 write k a\nc1 read k -> a\nc1 write k b\nc2 read k -> a b",
    );
    assert!(
        e.contains("through session c1: it read c1 #1 read k → {a}"),
        "{e}"
    );
    // A read of another key orders nothing on k.
    holds(
        WRITES_FOLLOW_READS,
        "c0 write k a\nc1 read j ->\nc1 write k b\nc2 read k -> a b",
    );
    // Session writes alone are monotonic writes' business.
    holds(
        WRITES_FOLLOW_READS,
        "c0 write k a\nc0 write k b\nc1 read k -> a b",
    );
}

#[test]
fn causal_consistency() {
    holds(
        CAUSAL_CONSISTENCY,
        "c0 write x 1\nc0 write y 2\nc1 read y -> 2\nc1 read x -> 1",
    );
    let e = broken(
        CAUSAL_CONSISTENCY,
        "c0 write x 1\nc0 write y 2\nc1 read y -> 2\nc1 read x ->",
    );
    assert!(
        e.contains("c1 #2 read x → {} misses c0 #1 write x = 1, which happened before it"),
        "{e}"
    );
    // Causally overwritten through another key: per-key stores may keep both (the session
    // guarantees hold), a causal store may not.
    let cross = "c0 write k a\nc0 write j z\nc1 read j -> z\nc1 write k b\nc2 read k -> a b";
    let e = broken(CAUSAL_CONSISTENCY, cross);
    assert!(
        e.contains("returns {a}, which is causally overwritten"),
        "{e}"
    );
    for p in Model::Session.properties() {
        holds(*p, cross);
    }
    // Concurrent writes are both returned.
    holds(
        CAUSAL_CONSISTENCY,
        "c0 write k a\nc1 write k b\nc2 read k -> a b",
    );
    broken(
        CAUSAL_CONSISTENCY,
        "c0 write k a\nc1 write k b\nc1 read k -> a",
    );
    // Unknown writes observed by a session are in its causal past from then on.
    broken(
        CAUSAL_CONSISTENCY,
        "c0 invoke write k u\nc1 read k -> u\nc1 read k ->\nc0 info",
    );
}

#[test]
fn convergence() {
    holds(
        CONVERGENCE,
        "c0 write k a\nc1 write k b\nreplica n1 k a b\nreplica n2 k b a",
    );
    holds(
        CONVERGENCE,
        "c0 write k a\nc1 read k -> a\nc1 write k b ctx a\nreplica n1 k b\nreplica n2 k b",
    );
    // A collected tombstone, a write of unknown outcome either way.
    holds(
        CONVERGENCE,
        "c0 write k a\nc0 delete k d ctx a\nreplica n1 k",
    );
    holds(CONVERGENCE, "c0 invoke write k u\nc0 info\nreplicas");
    holds(CONVERGENCE, "c0 invoke write k u\nc0 info\nreplica n1 k u");
    let e = broken(
        CONVERGENCE,
        "c0 write k a\nc1 write k b\nreplica n1 k a\nreplica n2 k a b",
    );
    assert_eq!(
        e,
        "convergence: key k: the replicas disagree: replica n1 holds {a}, replica n2 holds {a, b}"
    );
    let e = broken(
        CONVERGENCE,
        "c0 write k a\nc1 write k b ctx a\nreplica n1 k a b",
    );
    assert!(e.contains("still hold {a}, which c1 #1 write k = b"), "{e}");
    let e = broken(CONVERGENCE, "c0 write k a\nc1 write k b\nreplica n1 k a");
    assert!(
        e.contains("c1 #1 write k = b happened, but after quiescence replica n1 holds {a}"),
        "{e}"
    );
    // Resurrection: a deleted value back.
    broken(
        CONVERGENCE,
        "c0 write k a\nc0 delete k d ctx a\nreplica n1 k a",
    );
    // An observed write of unknown outcome happened.
    broken(
        CONVERGENCE,
        "c0 invoke write k u\nc1 read k -> u\nc0 info\nreplica n1 k",
    );
    broken(CONVERGENCE, "c0 write k a\nreplica n1 k zz");
    // A key written but listed by no replica is held by none.
    broken(CONVERGENCE, "c0 write k a\nreplicas");
}

#[test]
fn no_lost_writes() {
    holds(NO_LOST_WRITES, "c0 write k a\nreplica n1 k a\nreplica n2 k");
    holds(
        NO_LOST_WRITES,
        "c0 write k a\nc1 read k -> a\nc1 write k b\nreplica n1 k b",
    );
    holds(
        NO_LOST_WRITES,
        "c0 write k a\nc1 invoke delete k d ctx a\nc1 info\nreplica n1 k",
    );
    let e = broken(
        NO_LOST_WRITES,
        "c0 write k a\nc1 write k b\nreplica n1 k b\nreplica n2 k b",
    );
    assert!(e.contains("c0 #1 write k = a was acknowledged, but after quiescence replica n1 holds {b}, replica n2 holds {b}"), "{e}");
    // Overwritten only through another key: lost, for a store that versions keys on
    // their own.
    broken(
        NO_LOST_WRITES,
        "c0 write k a\nc0 write j z\nc1 read j -> z\nc1 write k b\nreplica n1 k b",
    );
    broken(NO_LOST_WRITES, "c0 write k a\nreplicas");
}

#[test]
fn final_state_properties_need_final_states() {
    let e = check(&history("c0 write k a"), &[CONVERGENCE]).expect_err("no replicas");
    assert!(e
        .to_string()
        .starts_with("convergence needs the replicas' final states"));
}

#[test]
fn anomalies_name_the_operations_with_their_lines() {
    let h = super::parse(
        "{\"session\": \"c0\", \"type\": \"invoke\", \"f\": \"write\", \"key\": \"k\", \"value\": \"a\"}\n{\"session\": \"c0\", \"type\": \"ok\"}\n{\"session\": \"c0\", \"type\": \"invoke\", \"f\": \"read\", \"key\": \"k\"}\n{\"session\": \"c0\", \"type\": \"ok\", \"values\": []}\n",
    )
    .expect("parses");
    let found = check(&h, &[READ_YOUR_WRITES]).expect("checks");
    let refs: Vec<(String, usize, usize)> = found[0]
        .operations
        .iter()
        .map(|o| (o.session.to_string(), o.number, o.line))
        .collect();
    assert_eq!(refs, [("c0".to_string(), 2, 3), ("c0".to_string(), 1, 1)]);
    assert!(found[0].explanation.contains("[line 3]"), "{}", found[0]);
}

#[test]
fn a_session_aware_dynamo_like_store_keeps_what_it_promises() {
    use super::generate::{store_history, StoreShape};
    let promised = [Model::Session.properties(), Model::Convergence.properties()].concat();
    let mut causal = 0;
    for seed in 0..10 {
        let h = store_history(StoreShape::of(3000), seed);
        assert_eq!(h.operations.len(), 3000);
        let found = check(&h, &promised).expect("checkable");
        assert!(found.is_empty(), "seed {seed}: {}", found[0]);
        causal += check(&h, &[CAUSAL_CONSISTENCY]).expect("checkable").len();
    }
    // Sessions pinned to one replica per key see other keys' writes out of causal order.
    assert!(causal > 0, "a per-key store is not causal across keys");
}
