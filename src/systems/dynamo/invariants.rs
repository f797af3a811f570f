//! The dynamo store's properties: per-step safety invariants over what nodes publish, the
//! liveness condition (heal, then quiescence: hints handed off, requests finished, anti-entropy
//! run), and the end-of-run checks of the client history and the replicas' final states with
//! the AP checkers of [`crate::check::eventual`] (or, in LWW mode, the LWW checks).

use super::observer::{Event, Observer};
use super::ring::Ring;
use super::version::{Entry, Resolve};
use crate::check::eventual::{self, properties as ev, Datum, History};
use crate::check::Violation;
use crate::systems::{Liveness, Property, StepContext};
use crate::workload::kv::KEYS;
use std::collections::{BTreeMap, BTreeSet};

/// Every sibling is covered by its entry's clock; no dot twice.
pub const VERSIONS_WELL_FORMED: Property = Property::safety(
    "versions well formed",
    "every sibling a replica holds is covered by its entry's version vector, and no two siblings of an entry share a dot (merges are idempotent)",
);
/// Acknowledged hints survive restarts.
pub const HINTS_DURABLE: Property = Property::safety(
    "hints durable",
    "a hint a fallback acknowledged (so the coordinator counted it toward W) survives the fallback's restarts until its home acknowledges the handoff",
);
/// LWW: causally later writes win.
pub const LWW_CAUSALITY: Property = Property::consistency(
    "lww causality",
    "(LWW mode) an acknowledged write's timestamp exceeds every timestamp its session had seen of the key — its own acknowledged writes and what it read — so a causally later write never loses to an earlier one",
);
/// LWW: replicas agree on the winner and no acknowledged write beats it.
pub const LWW_CONVERGENCE: Property = Property::consistency(
    "lww convergence",
    "(LWW mode) after heal and quiescence every home replica of a key holds the same winner, and no acknowledged write to the key has a greater timestamp (none lost)",
);

/// How many anti-entropy rounds every node must run after the heal before the cluster
/// counts as quiet.
pub const QUIET_ROUNDS: u64 = 3;

/// The properties of a store in `resolve` mode, in the order they are checked.
pub fn properties(resolve: Resolve) -> Vec<Property> {
    let mut all = vec![VERSIONS_WELL_FORMED, HINTS_DURABLE];
    all.extend(history_properties(resolve));
    all
}

/// The end-of-run properties.
pub fn history_properties(resolve: Resolve) -> Vec<Property> {
    match resolve {
        Resolve::Siblings => ev::ALL
            .iter()
            .copied()
            .filter(|p| *p != ev::CAUSAL_CONSISTENCY)
            .collect(),
        Resolve::Lww => vec![ev::VALID_OBSERVATIONS, LWW_CAUSALITY, LWW_CONVERGENCE],
    }
}

/// The incremental state of the checks.
pub struct Checker {
    events: Vec<Event>,
    /// Hints acknowledged and not yet handed off: (node, hint).
    hints: BTreeSet<(u8, u64)>,
    /// The registry version last checked for well-formed versions.
    checked: u64,
}

impl Default for Checker {
    fn default() -> Self {
        Self::new()
    }
}

impl Checker {
    /// Fresh state.
    pub fn new() -> Self {
        Checker {
            events: Vec::new(),
            hints: BTreeSet::new(),
            checked: u64::MAX,
        }
    }

    /// Hints acknowledged and not handed off.
    pub fn pending_hints(&self) -> usize {
        self.hints.len()
    }

    /// The per-step checks.
    pub fn check(
        &mut self,
        observer: &Observer,
        ctx: &mut StepContext<'_>,
    ) -> Result<(), Violation> {
        observer.drain_into(&mut self.events);
        for e in std::mem::take(&mut self.events) {
            match e {
                Event::HintAcked { node, hint } => {
                    self.hints.insert((node, hint));
                }
                Event::HintDone { node, hint } => {
                    self.hints.remove(&(node, hint));
                }
                Event::Recovered { node, hints } => {
                    let lost: Vec<u64> = self
                        .hints
                        .range((node, 0)..=(node, u64::MAX))
                        .map(|(_, h)| *h)
                        .filter(|h| !hints.contains(h))
                        .collect();
                    if let Some(h) = lost.first() {
                        if ctx.checks(&HINTS_DURABLE) && ctx.faults.disk_intact(node) {
                            return Err(Violation::new(
                                HINTS_DURABLE.name,
                                format!(
                                    "n{node} acknowledged hint {} and restarted without it ({} lost)",
                                    h & 0xffff_ffff,
                                    lost.len()
                                ),
                            ));
                        }
                    }
                    for h in lost {
                        self.hints.remove(&(node, h));
                    }
                }
            }
        }
        let reg = observer.0.borrow();
        if let Some(w) = reg.lww.iter().find(|w| w.ts <= w.seen) {
            if ctx.checks(&LWW_CAUSALITY) {
                return Err(Violation::new(
                    LWW_CAUSALITY.name,
                    format!(
                        "c{}'s write {} to k{} got timestamp {}.{} though the session had seen {}.{}: it loses to a write it follows",
                        w.session, w.id, w.key, w.ts.wall, w.ts.logical, w.seen.wall, w.seen.logical
                    ),
                ));
            }
        }
        if reg.version == self.checked || !ctx.checks(&VERSIONS_WELL_FORMED) {
            return Ok(());
        }
        self.checked = reg.version;
        for (i, v) in reg.nodes.iter().enumerate().filter(|(_, v)| v.up) {
            for (k, e) in &v.entries {
                if let Some(why) = malformed(e) {
                    return Err(Violation::new(
                        VERSIONS_WELL_FORMED.name,
                        format!("n{i} k{k}: {why}"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Live once healed and quiet: every node up, no hints, no request or client operation in
    /// flight, and [`QUIET_ROUNDS`] anti-entropy rounds run by every node since the last
    /// change. The replicas' entries are taken each time it is (the last time counts: the
    /// harness waits for quiet again after the operations still queued and the probes).
    pub fn liveness(&self, observer: &Observer, n: u8) -> Liveness {
        let mut reg = observer.0.borrow_mut();
        if let Some(i) = reg.nodes.iter().position(|v| !v.up) {
            return Liveness::Waiting(format!("n{i} is not up"));
        }
        let rounds: Vec<u64> = reg.nodes.iter().map(|v| v.sync_rounds).collect();
        let from = reg.quiet_from.get_or_insert_with(|| rounds.clone()).clone();
        if let Some((i, v)) = reg
            .nodes
            .iter()
            .enumerate()
            .find(|(_, v)| !v.hints.is_empty())
        {
            return Liveness::Waiting(format!("n{i} still holds {} hint(s)", v.hints.len()));
        }
        if let Some(i) = reg.nodes.iter().position(|v| v.busy > 0) {
            return Liveness::Waiting(format!("n{i} is still coordinating requests"));
        }
        drop(reg);
        if observer.clients_busy() {
            return Liveness::Waiting("client operations in flight".into());
        }
        let mut reg = observer.0.borrow_mut();
        if let Some(i) = (0..rounds.len()).find(|i| rounds[*i] < from[*i] + QUIET_ROUNDS) {
            return Liveness::Waiting(format!(
                "n{i} has run {} of {QUIET_ROUNDS} anti-entropy rounds since the last change",
                rounds[i] - from[i]
            ));
        }
        let ring = Ring::new(reg.nodes.len() as u8);
        let mut states = BTreeMap::new();
        for k in 0..KEYS {
            for h in ring.homes(k, n) {
                let e = reg.nodes[usize::from(h)]
                    .entries
                    .get(&k)
                    .cloned()
                    .unwrap_or_default();
                states.insert((h, k), e);
            }
        }
        reg.final_states = Some(states);
        Liveness::Live
    }
}

/// Why an entry is malformed, if it is.
fn malformed(e: &Entry) -> Option<String> {
    let mut dots = BTreeSet::new();
    for s in &e.siblings {
        if !e.clock.covers(s.dot) {
            return Some(format!(
                "sibling {} (dot c{}:{}) is not covered by the entry's clock {}",
                s.id,
                s.dot.actor,
                s.dot.counter,
                e.clock.describe()
            ));
        }
        if !dots.insert(s.dot) {
            return Some(format!(
                "two siblings share dot c{}:{} ({} held twice)",
                s.dot.actor, s.dot.counter, s.id
            ));
        }
    }
    None
}

/// The end-of-run checks: the client history and the final states.
pub fn check_run(
    observer: &Observer,
    resolve: Resolve,
    selected: &dyn Fn(&Property) -> bool,
) -> Option<Violation> {
    let (history, errors, finals) = {
        let mut reg = observer.0.borrow_mut();
        let recorder = std::mem::take(&mut reg.recorder);
        (
            recorder.finish(),
            std::mem::take(&mut reg.record_errors),
            reg.final_states.clone(),
        )
    };
    if let Some(e) = errors.first() {
        return Some(Violation::new(
            ev::VALID_OBSERVATIONS.name,
            format!("the client history does not make sense: {e}"),
        ));
    }
    let wanted: Vec<Property> = history_properties(resolve)
        .into_iter()
        .filter(|p| selected(p))
        .collect();
    match resolve {
        Resolve::Siblings => check_siblings(history, finals, &wanted),
        Resolve::Lww => {
            let observed: Vec<Property> = wanted
                .iter()
                .copied()
                .filter(|p| *p == ev::VALID_OBSERVATIONS)
                .collect();
            if let Some(v) = check_siblings(history, None, &observed) {
                return Some(v);
            }
            if !wanted.contains(&LWW_CONVERGENCE) {
                return None;
            }
            let finals = finals?;
            let reg = observer.0.borrow();
            lww_convergence(&finals, &reg.lww)
        }
    }
}

/// The eventual history with the final states (if known), checked for `wanted`.
fn check_siblings(
    mut history: History,
    finals: Option<BTreeMap<(u8, u8), Entry>>,
    wanted: &[Property],
) -> Option<Violation> {
    let mut wanted = wanted.to_vec();
    match finals {
        Some(finals) => history.replicas = Some(replica_states(&finals)),
        // No liveness phase ran: the final-state properties cannot be judged.
        None => wanted.retain(|p| *p != ev::CONVERGENCE && *p != ev::NO_LOST_WRITES),
    }
    match eventual::check(&history, &wanted) {
        Ok(anomalies) => anomalies.first().map(|a| a.to_violation()),
        Err(e) => Some(Violation::new(ev::VALID_OBSERVATIONS.name, e.to_string())),
    }
}

/// What each home replica holds: its live siblings' ids.
pub fn replica_states(finals: &BTreeMap<(u8, u8), Entry>) -> Vec<eventual::ReplicaState> {
    finals
        .iter()
        .map(|((node, key), e)| {
            let mut values: Vec<Datum> = e.live().map(|s| Datum::from(s.id.as_str())).collect();
            values.sort();
            values.dedup();
            eventual::ReplicaState {
                replica: Datum::from(format!("n{node}")),
                key: Datum::from(format!("k{key}")),
                values,
                line: 0,
            }
        })
        .collect()
}

fn lww_convergence(
    finals: &BTreeMap<(u8, u8), Entry>,
    writes: &[super::observer::LwwWrite],
) -> Option<Violation> {
    let mut winners: BTreeMap<u8, (u8, Option<&super::version::Sibling>)> = BTreeMap::new();
    for ((node, key), e) in finals {
        let w = e
            .siblings
            .iter()
            .max_by(|a, b| (a.ts, &a.id).cmp(&(b.ts, &b.id)));
        match winners.get(key) {
            None => {
                winners.insert(*key, (*node, w));
            }
            Some((other, theirs))
                if theirs.map(|s| (s.dot, &s.id)) != w.map(|s| (s.dot, &s.id)) =>
            {
                let show = |s: Option<&super::version::Sibling>| {
                    s.map_or("nothing".to_string(), |s| s.id.clone())
                };
                return Some(Violation::new(
                    LWW_CONVERGENCE.name,
                    format!(
                        "k{key}: n{other} holds {} but n{node} holds {} after heal and quiescence",
                        show(*theirs),
                        show(w)
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    for w in writes {
        let winner = winners.get(&w.key).and_then(|(_, s)| *s);
        // The version ends with at least the timestamp its acknowledging replicas held (a
        // retry through another coordinator may have stamped it again, higher; the higher
        // copy wins where they merge, if it was stored at all).
        if winner.is_none_or(|s| s.id != w.id && s.ts < w.held) {
            return Some(Violation::new(
                LWW_CONVERGENCE.name,
                format!(
                    "k{}: the acknowledged write {} (timestamp {}.{}) is lost: the replicas hold {}",
                    w.key,
                    w.id,
                    w.held.wall,
                    w.held.logical,
                    winner.map_or("nothing".to_string(), |s| format!(
                        "{} (timestamp {}.{})",
                        s.id, s.ts.wall, s.ts.logical
                    ))
                ),
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Trace;
    use crate::systems::dynamo::observer::LwwWrite;
    use crate::systems::dynamo::version::{Dot, Hlc, Sibling, Vv};
    use crate::systems::{Faults, Selection};
    use std::time::Duration;

    fn sib(actor: u8, counter: u32, id: &str, ts: u64) -> Sibling {
        Sibling {
            dot: Dot { actor, counter },
            id: id.into(),
            value: Some(1),
            ts: Hlc {
                wall: ts,
                logical: 0,
            },
        }
    }

    fn entry(siblings: Vec<Sibling>) -> Entry {
        let mut clock = Vv::default();
        for s in &siblings {
            clock.add(s.dot);
        }
        Entry { clock, siblings }
    }

    fn step(checker: &mut Checker, observer: &Observer) -> Result<(), Violation> {
        let mut trace = Trace::new(false);
        let faults = Faults {
            up: vec![true; 5],
            ..Faults::default()
        };
        let selection = Selection::all();
        let mut ctx = StepContext {
            step: 0,
            now: Duration::ZERO,
            trace: &mut trace,
            faults: &faults,
            selection: &selection,
        };
        checker.check(observer, &mut ctx)
    }

    #[test]
    fn malformed_versions_are_caught_and_well_formed_ones_pass() {
        let good = entry(vec![sib(0, 1, "a", 0), sib(1, 1, "b", 0)]);
        assert_eq!(malformed(&good), None);
        let mut uncovered = good.clone();
        uncovered.clock = Vv::default();
        assert!(malformed(&uncovered)
            .expect("uncovered")
            .contains("not covered"));
        let mut twice = good.clone();
        twice.siblings.push(sib(0, 1, "a", 0));
        assert!(malformed(&twice).expect("twice").contains("share dot"));
        // Through the per-step check, as a node publishes it.
        let observer = Observer::new(5);
        let mut checker = Checker::new();
        observer.publish(2, [(1, good)].into_iter().collect(), BTreeMap::new(), 0);
        assert_eq!(step(&mut checker, &observer), Ok(()));
        observer.publish(2, [(1, twice)].into_iter().collect(), BTreeMap::new(), 0);
        let v = step(&mut checker, &observer).expect_err("a duplicate dot");
        assert_eq!(v.property, VERSIONS_WELL_FORMED.name);
    }

    #[test]
    fn a_hint_lost_in_a_restart_is_caught_and_a_handed_off_one_is_not() {
        let observer = Observer::new(5);
        let mut checker = Checker::new();
        observer.push(Event::HintAcked { node: 1, hint: 7 });
        observer.push(Event::HintAcked { node: 1, hint: 8 });
        observer.push(Event::HintDone { node: 1, hint: 7 });
        observer.push(Event::Recovered {
            node: 1,
            hints: vec![8],
        });
        assert_eq!(step(&mut checker, &observer), Ok(()));
        observer.push(Event::Recovered {
            node: 1,
            hints: vec![],
        });
        let v = step(&mut checker, &observer).expect_err("hint 8 lost");
        assert_eq!(v.property, HINTS_DURABLE.name);
    }

    #[test]
    fn lww_checks_catch_a_causally_later_write_that_loses_and_diverged_replicas() {
        let observer = Observer::new(5);
        let mut checker = Checker::new();
        let write = |ts: u64, seen: u64| LwwWrite {
            session: 0,
            key: 1,
            id: format!("w{ts}"),
            seen: Hlc {
                wall: seen,
                logical: 0,
            },
            ts: Hlc {
                wall: ts,
                logical: 0,
            },
            held: Hlc {
                wall: ts,
                logical: 0,
            },
        };
        observer.0.borrow_mut().lww.push(write(5, 4));
        assert_eq!(step(&mut checker, &observer), Ok(()));
        observer.0.borrow_mut().lww.push(write(3, 4));
        let v = step(&mut checker, &observer).expect_err("stamped before what it saw");
        assert_eq!(v.property, LWW_CAUSALITY.name);

        let finals = |a: u64, b: u64| -> BTreeMap<(u8, u8), Entry> {
            [
                ((1, 1), entry(vec![sib(0, 1, &format!("w{a}"), a)])),
                ((4, 1), entry(vec![sib(0, 1, &format!("w{b}"), b)])),
            ]
            .into_iter()
            .collect()
        };
        assert_eq!(lww_convergence(&finals(5, 5), &[write(5, 4)]), None);
        let v = lww_convergence(&finals(5, 6), &[]).expect("replicas disagree");
        assert!(
            v.detail.contains("n1 holds w5 but n4 holds"),
            "{}",
            v.detail
        );
        let v = lww_convergence(&finals(5, 5), &[write(9, 4)]).expect("a later write lost");
        assert!(v.detail.contains("w9"), "{}", v.detail);
    }

    #[test]
    fn the_run_check_finds_a_lost_acknowledged_write_and_passes_a_held_one() {
        let run = |held: bool| {
            let observer = Observer::new(5);
            let dot = Dot {
                actor: 0,
                counter: 1,
            };
            observer.invoke_write(0, 1, dot, "1/c0.1", false, &Vv::default());
            observer.write_ok(0, None);
            let e = if held {
                entry(vec![sib(0, 1, "1/c0.1", 0)])
            } else {
                Entry::default()
            };
            let finals = Ring::new(5)
                .homes(1, 3)
                .into_iter()
                .map(|h| ((h, 1), e.clone()))
                .collect();
            observer.0.borrow_mut().final_states = Some(finals);
            check_run(&observer, Resolve::Siblings, &|_| true)
        };
        assert_eq!(run(true), None);
        let v = run(false).expect("the write is lost");
        assert!(
            v.property == ev::CONVERGENCE.name || v.property == ev::NO_LOST_WRITES.name,
            "{v:?}"
        );
    }
}
