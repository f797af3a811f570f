//! Convergence and no lost writes: what the replicas hold once the run has healed and gone
//! quiet, against what the writes imply.

use super::causality::Analysis;
use super::history::{Datum, Set};
use super::properties::{CONVERGENCE, NO_LOST_WRITES};
use super::reach::{Id, Targets};
use super::Anomaly;
use std::collections::BTreeMap;

/// What one replica holds for one key, sorted out.
struct Held<'h> {
    replica: Option<&'h Datum>,
    /// Live values naming writes to the key that did not fail (sorted).
    live: Vec<Id>,
    /// Values naming no such write (sorted).
    unknown: Vec<&'h Datum>,
}

impl Held<'_> {
    fn name(&self) -> String {
        self.replica
            .map_or_else(|| "no replica".to_string(), |r| format!("replica {r}"))
    }
}

/// The final states per key (keys written but listed by no replica: one empty holder), and
/// which writes happened: acknowledged ones, observed ones, ones a replica holds, and every
/// write named in the context of one that happened.
#[allow(clippy::type_complexity)]
fn sort_out<'h>(a: &Analysis<'h>) -> (BTreeMap<u32, (&'h Datum, Vec<Held<'h>>)>, Vec<bool>) {
    let n = a.h.operations.len();
    let mut happened = vec![false; n];
    let mut key_ids: BTreeMap<&Datum, u32> = BTreeMap::new();
    let mut held: BTreeMap<u32, (&'h Datum, Vec<Held<'h>>)> = BTreeMap::new();
    for id in 0..n as Id {
        let i = id as usize;
        let key = &a.op(id).key;
        key_ids.insert(key, a.key[i]);
        if a.is_write(id) {
            held.entry(a.key[i]).or_insert_with(|| (key, Vec::new()));
            if a.is_ok(id) {
                happened[i] = true;
            }
        }
        for &w in &a.observed[i] {
            happened[w as usize] = true;
        }
    }
    let mut next_key = key_ids.values().max().map_or(0, |k| k + 1);
    for state in a.h.replicas.iter().flatten() {
        let k = *key_ids.entry(&state.key).or_insert_with(|| {
            next_key += 1;
            next_key - 1
        });
        let mut h = Held {
            replica: Some(&state.replica),
            live: Vec::new(),
            unknown: Vec::new(),
        };
        for v in &state.values {
            match a.writer.get(v) {
                Some(&w) if a.is_write(w) && a.key[w as usize] == k => {
                    happened[w as usize] = true;
                    if a.is_live(w) {
                        h.live.push(w);
                    }
                }
                _ => h.unknown.push(v),
            }
        }
        h.live.sort_unstable();
        h.live.dedup();
        h.unknown.sort();
        h.unknown.dedup();
        held.entry(k)
            .or_insert_with(|| (&state.key, Vec::new()))
            .1
            .push(h);
    }
    for (_, holders) in held.values_mut() {
        if holders.is_empty() {
            holders.push(Held {
                replica: None,
                live: Vec::new(),
                unknown: Vec::new(),
            });
        }
    }
    // Contexts name earlier writes only: one sweep backwards closes `happened`.
    for &id in a.order.iter().rev() {
        if happened[id as usize] {
            for &c in &a.passed[id as usize] {
                happened[c as usize] = true;
            }
        }
    }
    (held, happened)
}

fn holdings(a: &Analysis<'_>, holders: &[Held<'_>]) -> String {
    holders
        .iter()
        .map(|h| {
            let mut values: Vec<Datum> = h
                .live
                .iter()
                .filter_map(|&w| a.op(w).value.clone())
                .collect();
            values.extend(h.unknown.iter().map(|&d| d.clone()));
            format!("{} holds {}", h.name(), Set(&values))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks that the replicas of each key agree, and that what they hold is what the writes
/// imply.
pub(crate) fn convergence(a: &Analysis<'_>, out: &mut Vec<Anomaly>) {
    let (held, happened) = sort_out(a);
    let writes = a.writes_by_key();
    let none = Vec::new();
    for (k, (key_name, holders)) in &held {
        let key_name = (*key_name).clone();
        let first = &holders[0];
        if holders
            .iter()
            .any(|h| h.live != first.live || h.unknown != first.unknown)
        {
            out.push(Anomaly::final_state(
                &CONVERGENCE,
                key_name,
                holders.iter().filter_map(|h| h.replica.cloned()).collect(),
                format!("the replicas disagree: {}", holdings(a, holders)),
            ));
            continue;
        }
        let replicas: Vec<Datum> = holders.iter().filter_map(|h| h.replica.cloned()).collect();
        for v in &first.unknown {
            out.push(Anomaly::final_state(
                &CONVERGENCE,
                key_name.clone(),
                replicas.clone(),
                format!(
                    "the replicas hold {v}, which no write (that did not fail) wrote to key {key_name}"
                ),
            ));
        }
        let key_writes = writes.get(k).unwrap_or(&none);
        let happened_here: Vec<Id> = key_writes
            .iter()
            .copied()
            .filter(|&w| happened[w as usize])
            .collect();
        // A value held must not be one that a write that happened overwrote through its
        // context.
        let overwriters = a.contexts.targets(happened_here.iter().copied());
        for &f in &first.live {
            if a.contexts.precedes_any(&a.contexts, f, &overwriters) {
                let w = a
                    .first_after(&a.contexts, f, &happened_here)
                    .expect("a happened write after f");
                out.push(Anomaly::new(
                    &CONVERGENCE,
                    a,
                    &[f, w],
                    format!(
                        "after quiescence {} still hold {}, which {} overwrote (its context covers it)",
                        holdings(a, holders),
                        a.values(&[f]),
                        a.describe(w),
                    ),
                ));
            }
        }
        // Every live write that happened is held, or precedes a value held or a delete: one
        // that happened, or one of unknown outcome that may have (unless its context covers
        // a value held, which it would then have overwritten).
        let mut after = a.key_hb.targets(first.live.iter().copied());
        for &t in key_writes {
            if a.is_live(t) {
                continue;
            }
            let admissible = happened[t as usize]
                || !first
                    .live
                    .iter()
                    .any(|&f| a.contexts.precedes(&a.contexts, f, t));
            if admissible {
                a.key_hb.add_target(&mut after, t);
            }
        }
        for &w in &happened_here {
            if a.is_live(w)
                && first.live.binary_search(&w).is_err()
                && !a.key_hb.precedes_any(&a.contexts, w, &after)
            {
                out.push(Anomaly::new(
                    &CONVERGENCE,
                    a,
                    &[w],
                    format!(
                        "{} happened, but after quiescence {}: neither that write nor anything after it",
                        a.describe(w),
                        holdings(a, holders),
                    ),
                ));
            }
        }
    }
}

/// Checks that every acknowledged write is held by some replica, or precedes (per-key
/// happens-before) a value some replica holds or a delete.
pub(crate) fn no_lost_writes(a: &Analysis<'_>, out: &mut Vec<Anomaly>) {
    let (held, _) = sort_out(a);
    let writes = a.writes_by_key();
    for (k, key_writes) in &writes {
        let holders = &held[k].1;
        let deletes: Vec<Id> = key_writes
            .iter()
            .copied()
            .filter(|&w| !a.is_live(w))
            .collect();
        let after: Vec<Targets> = holders
            .iter()
            .map(|h| a.key_hb.targets(h.live.iter().chain(&deletes).copied()))
            .collect();
        for &w in key_writes {
            if !a.is_ok(w) || !a.is_live(w) {
                continue;
            }
            let kept = after
                .iter()
                .any(|t| a.key_hb.reaches_any(&a.contexts, w, t));
            if !kept {
                out.push(Anomaly::new(
                    &NO_LOST_WRITES,
                    a,
                    &[w],
                    format!(
                        "{} was acknowledged, but after quiescence {}: neither that write nor anything after it, and no delete came after it",
                        a.describe(w),
                        holdings(a, holders),
                    ),
                ));
            }
        }
    }
}
