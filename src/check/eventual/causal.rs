//! Causal consistency: every read returns exactly the writes to its key that happened before
//! it and that no other such write overwrote (causally).
//!
//! The writes to a read's key that happened before it, `P(r)`, are a prefix of each
//! session's writes to that key (session order is part of happens-before), so the read's
//! clock names, per session, the last of them; the read is causal iff each of those is
//! reflected (returned, or before a write the read observed), none of the values it returns
//! precedes one of them, and every live write in its context precedes another write it
//! observed. Writes of unknown outcome float (they precede nothing their session does
//! later); the few that were observed are checked one by one.

use super::causality::Analysis;
use super::properties::CAUSAL_CONSISTENCY;
use super::reach::Id;
use super::Anomaly;
use std::collections::BTreeMap;

/// How many missed writes one anomaly names.
const NAMED: usize = 3;

/// Checks every successful read.
pub(crate) fn causal_consistency(a: &Analysis<'_>, out: &mut Vec<Anomaly>) {
    // Per (session, key): the acknowledged writes, with their positions on the session's
    // chain of happens-before.
    let mut writes: BTreeMap<(u32, u32), Vec<(u32, Id)>> = BTreeMap::new();
    let mut chain_session: BTreeMap<u32, u32> = BTreeMap::new();
    // Per key: writes of unknown outcome that something observed, by invocation.
    let mut floating: BTreeMap<u32, Vec<Id>> = BTreeMap::new();
    let mut named = vec![false; a.h.operations.len()];
    for lists in [&a.observed, &a.passed] {
        for list in lists.iter() {
            for &w in list {
                named[w as usize] = true;
            }
        }
    }
    for &id in &a.order {
        let i = id as usize;
        match a.hb.anchor(id) {
            Some((chain, pos)) => {
                chain_session.insert(chain, a.session[i]);
                if a.is_write(id) {
                    writes
                        .entry((a.session[i], a.key[i]))
                        .or_default()
                        .push((pos, id));
                }
            }
            None if named[i] => floating.entry(a.key[i]).or_default().push(id),
            None => {}
        }
    }
    let (no_writes, no_floating) = (Vec::new(), Vec::new());
    for r in a.ok_reads() {
        let i = r as usize;
        let k = a.key[i];
        let observed = a.hb.targets(a.observed[i].iter().copied());
        // The latest write to the key of each session that happened before the read, and
        // the observed writes of unknown outcome that did.
        let mut before: Vec<Id> = Vec::new();
        for &(chain, pos) in a.hb.clock(r) {
            let list = writes
                .get(&(chain_session[&chain], k))
                .unwrap_or(&no_writes);
            let n = list.partition_point(|&(p, _)| p <= pos);
            if n > 0 {
                before.push(list[n - 1].1);
            }
        }
        let done = a.op(r).completed.map_or(u32::MAX, |c| c.seq);
        for &u in floating.get(&k).unwrap_or(&no_floating) {
            if a.op(u).invoked.seq >= done {
                break;
            }
            if a.hb.precedes(&a.contexts, u, r) {
                before.push(u);
            }
        }
        let missed: Vec<Id> = before
            .iter()
            .copied()
            .filter(|&w| !a.hb.reaches_any(&a.contexts, w, &observed))
            .collect();
        if !missed.is_empty() {
            // One anomaly per read, naming the first few writes it misses.
            let named: Vec<String> = missed.iter().take(NAMED).map(|&w| a.describe(w)).collect();
            let more = match missed.len().saturating_sub(NAMED) {
                0 => String::new(),
                n => format!(" and {n} more"),
            };
            let mut ops = vec![r];
            ops.extend(missed.iter().take(NAMED));
            out.push(Anomaly::new(
                &CAUSAL_CONSISTENCY,
                a,
                &ops,
                format!(
                    "{} misses {}{more}, which happened before it (through session order, reads-from and contexts): it returns neither {} nor anything after {}",
                    a.describe(r),
                    named.join(", "),
                    if missed.len() == 1 { "that write" } else { "those writes" },
                    if missed.len() == 1 { "it" } else { "them" },
                ),
            ));
        }
        for &v in &a.returned[i] {
            if let Some(&w) = before.iter().find(|&&w| a.hb.precedes(&a.contexts, v, w)) {
                out.push(Anomaly::new(
                    &CAUSAL_CONSISTENCY,
                    a,
                    &[r, v, w],
                    format!(
                        "{} returns {}, which is causally overwritten: {} came after it and happened before the read",
                        a.describe(r),
                        a.values(&[v]),
                        a.describe(w),
                    ),
                ));
            }
        }
        for &e in &a.observed[i] {
            if a.is_live(e)
                && a.returned[i].binary_search(&e).is_err()
                && !a.hb.precedes_any(&a.contexts, e, &observed)
            {
                out.push(Anomaly::new(
                    &CAUSAL_CONSISTENCY,
                    a,
                    &[r, e],
                    format!(
                        "{} names {} in its context but neither returns it nor observed anything after it",
                        a.describe(r),
                        a.values(&[e]),
                    ),
                ));
            }
        }
    }
}
