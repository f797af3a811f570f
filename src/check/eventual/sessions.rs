//! The session guarantees of Terry et al. (1994), adapted to reads that return sibling sets:
//! read-your-writes, monotonic reads, monotonic writes, writes-follow-reads.
//!
//! Each check walks the history once, in order, keeping per session and key what the
//! session has written or observed so far, summarized as clocks (see [`super::reach`]), so a
//! read costs about the size of its answer times the number of sessions.

use super::causality::Analysis;
use super::properties::{MONOTONIC_READS, MONOTONIC_WRITES, READ_YOUR_WRITES, WRITES_FOLLOW_READS};
use super::reach::{Clock, Id, Reach, Targets};
use super::Anomaly;
use std::collections::{BTreeMap, BTreeSet};

/// How many anomalies of one property get a search for the session operations that explain
/// them (a scan of the key's writes each); later ones are reported without.
const EXPLAINED: usize = 64;

/// Read-your-writes: a read reflects each write its session made to that key and saw
/// acknowledged — it returns the write or something after it (per-key happens-before), and
/// returns nothing that write overwrote.
pub(crate) fn read_your_writes(a: &Analysis<'_>, out: &mut Vec<Anomaly>) {
    #[derive(Default)]
    struct Own {
        writes: Vec<Id>,
        contexts: Targets,
    }
    let mut own: BTreeMap<(u32, u32), Own> = BTreeMap::new();
    let mut explained = Explained::default();
    for id in 0..a.h.operations.len() as Id {
        let i = id as usize;
        let sk = (a.session[i], a.key[i]);
        if a.is_ok_read(id) {
            let Some(mine) = own.get(&sk) else { continue };
            let Some(&last) = mine.writes.last() else {
                continue;
            };
            let observed = a.key_hb.targets(a.observed[i].iter().copied());
            // The session's acknowledged writes to the key sit on one chain of per-key
            // happens-before, so those the read reflects are a prefix.
            if !a.key_hb.reaches_any(&a.contexts, last, &observed) {
                let reflected = mine
                    .writes
                    .partition_point(|&w| a.key_hb.reaches_any(&a.contexts, w, &observed));
                let missed = mine.writes.len() - reflected;
                let earlier = match missed {
                    1 => String::new(),
                    2 => " (nor 1 earlier write of the session)".to_string(),
                    n => format!(" (nor {} earlier writes of the session)", n - 1),
                };
                out.push(Anomaly::new(
                    &READ_YOUR_WRITES,
                    a,
                    &[id, last],
                    format!(
                        "{} does not reflect the session's own {}{earlier}: it returns neither that write nor anything after it",
                        a.describe(id),
                        a.describe(last),
                    ),
                ));
            }
            for &v in &a.returned[i] {
                if a.contexts.precedes_any(&a.contexts, v, &mine.contexts) {
                    let (ops, which) = match explained.next() {
                        true => {
                            let w = mine
                                .writes
                                .iter()
                                .rev()
                                .copied()
                                .find(|&w| a.contexts.precedes(&a.contexts, v, w))
                                .expect("an own write after v");
                            (vec![id, w, v], a.describe(w))
                        }
                        false => (vec![id, v], "write".to_string()),
                    };
                    out.push(Anomaly::new(
                        &READ_YOUR_WRITES,
                        a,
                        &ops,
                        format!(
                            "{} returns {}, which the session's own earlier {which} overwrote (its context covers it)",
                            a.describe(id),
                            a.values(&[v]),
                        ),
                    ));
                }
            }
        } else if a.is_write(id) && a.is_ok(id) {
            let mine = own.entry(sk).or_default();
            mine.writes.push(id);
            a.contexts.add_target(&mut mine.contexts, id);
        }
    }
}

/// Monotonic reads: a read reflects every write its session's earlier reads of that key
/// observed.
pub(crate) fn monotonic_reads(a: &Analysis<'_>, out: &mut Vec<Anomaly>) {
    #[derive(Default)]
    struct Seen {
        /// Every write observed so far, in order of first observation.
        writes: Vec<Id>,
        set: BTreeSet<Id>,
        /// The anchored ones, in per-key happens-before, and for each chain the write whose
        /// clock set the join's entry (it is the one a read fails to reflect).
        anchored: Targets,
        witness: BTreeMap<u32, Id>,
        /// The floating ones (unknown outcome) not known to precede an anchored one.
        floating: Vec<Id>,
        contexts: Targets,
        /// The read that first observed each write.
        first_read: BTreeMap<Id, Id>,
    }
    let mut seen: BTreeMap<(u32, u32), Seen> = BTreeMap::new();
    let mut explained = Explained::default();
    for r in a.ok_reads() {
        let i = r as usize;
        let s = seen.entry((a.session[i], a.key[i])).or_default();
        let observed = a.key_hb.targets(a.observed[i].iter().copied());
        let mut missed = Vec::new();
        if !s.anchored.join().le(observed.join()) {
            let chain = s
                .anchored
                .join()
                .entries()
                .iter()
                .find(|&&(c, p)| !observed.join().covers(c, p))
                .map(|&(c, _)| c)
                .expect("an entry not covered");
            missed.push(s.witness[&chain]);
        }
        missed.extend(
            s.floating
                .iter()
                .copied()
                .filter(|&m| !a.key_hb.reaches_any(&a.contexts, m, &observed)),
        );
        for m in missed {
            let earlier = s.first_read[&m];
            out.push(Anomaly::new(
                &MONOTONIC_READS,
                a,
                &[r, earlier, m],
                format!(
                    "{} does not reflect {}, which the session's earlier {} observed: it returns neither that write nor anything after it",
                    a.describe(r),
                    a.describe(m),
                    a.describe(earlier),
                ),
            ));
        }
        for &v in &a.returned[i] {
            if !a.contexts.precedes_any(&a.contexts, v, &s.contexts) {
                continue;
            }
            let (ops, why) = match explained.next() {
                true => {
                    let m = a
                        .first_after(&a.contexts, v, &s.writes)
                        .expect("an observed write after v");
                    (
                        vec![r, s.first_read[&m], v],
                        format!(
                            "{} overwrote (its context covers it), and the session's earlier {} had observed that write",
                            a.describe(m),
                            a.describe(s.first_read[&m]),
                        ),
                    )
                }
                false => (
                    vec![r, v],
                    "a write the session had observed overwrote".to_string(),
                ),
            };
            out.push(Anomaly::new(
                &MONOTONIC_READS,
                a,
                &ops,
                format!("{} returns {}, which {why}", a.describe(r), a.values(&[v])),
            ));
        }
        for &o in &a.observed[i] {
            if !s.set.insert(o) {
                continue;
            }
            s.writes.push(o);
            s.first_read.insert(o, r);
            a.contexts.add_target(&mut s.contexts, o);
            if a.key_hb.anchor(o).is_some() {
                let before: Clock = s.anchored.join().clone();
                a.key_hb.add_target(&mut s.anchored, o);
                for &(c, p) in a.key_hb.clock(o) {
                    if !before.covers(c, p) {
                        s.witness.insert(c, o);
                    }
                }
            } else {
                s.floating.push(o);
            }
        }
        // A floating write before an anchored one is reflected whenever that one is.
        let (anchored, key_hb, contexts) = (&s.anchored, &a.key_hb, &a.contexts);
        s.floating
            .retain(|&m| !key_hb.precedes_any(contexts, m, anchored));
    }
}

/// Counts the anomalies that got a search for the operations explaining them: the first
/// [`EXPLAINED`] do, so that a history full of violations still checks in near-linear time.
#[derive(Default)]
struct Explained(usize);

impl Explained {
    /// Whether the next anomaly gets its search.
    fn next(&mut self) -> bool {
        self.0 += 1;
        self.0 <= EXPLAINED
    }
}

/// Reports reads that return a value `v` together with a write `o` they observed such that
/// `v` precedes `o` in `order` but not through contexts alone (that is a valid-observations
/// violation). The session's part is an edge from `previous[w2]` (an operation of `w2`'s
/// session) to a later write `w2`; `why(p, w2, v, o)` words the edge found on the way from
/// `v` to `o`.
fn ordered_siblings(
    a: &Analysis<'_>,
    order: &Reach,
    property: &'static super::Property,
    previous: &[Option<Id>],
    why: impl Fn(Id, Id, Id, Id) -> String,
    out: &mut Vec<Anomaly>,
) {
    let writes = a.writes_by_key();
    let mut explained = Explained::default();
    for r in a.ok_reads() {
        let observed = &a.observed[r as usize];
        let in_order = order.targets(observed.iter().copied());
        let in_contexts = a.contexts.targets(observed.iter().copied());
        for &v in &a.returned[r as usize] {
            if !order.precedes_any(&a.contexts, v, &in_order)
                || a.contexts.precedes_any(&a.contexts, v, &in_contexts)
            {
                continue;
            }
            let o = a
                .first_after(order, v, observed)
                .expect("an observed write after v");
            let edge = explained.next().then(|| {
                writes[&a.key[v as usize]].iter().find_map(|&w2| {
                    let p = previous[w2 as usize]?;
                    (order.reaches(&a.contexts, v, p) && order.reaches(&a.contexts, w2, o))
                        .then_some((p, w2))
                })
            });
            let mut ops = vec![r, v, o];
            let mut because = String::new();
            if let Some(Some((p, w2))) = edge {
                ops.extend([p, w2]);
                because = why(p, w2, v, o);
            }
            out.push(Anomaly::new(
                property,
                a,
                &ops,
                format!(
                    "{} returns {} together with {}, yet {} precedes {}{because}",
                    a.describe(r),
                    a.values(&[v]),
                    a.values(&[o]),
                    a.describe(v),
                    a.describe(o),
                ),
            ));
        }
    }
}

/// Monotonic writes: a session's acknowledged write precedes its later writes to the same
/// key wherever those are, so no read returns it (or anything before it) together with a
/// later one (or anything after that).
pub(crate) fn monotonic_writes(a: &Analysis<'_>, out: &mut Vec<Anomaly>) {
    let why = |w1: Id, w2: Id, v: Id, o: Id| {
        let session = &a.op(w1).session;
        if (w1, w2) == (v, o) {
            format!(": session {session} wrote both, the second after the first was acknowledged")
        } else {
            format!(
                " through session {session}'s writes: {} was acknowledged before {}",
                a.describe(w1),
                a.describe(w2)
            )
        }
    };
    let order = a.monotonic_writes_order();
    ordered_siblings(a, &order, &MONOTONIC_WRITES, &a.previous_ok_write, why, out);
}

/// Writes-follow-reads: what a session's read observed precedes the session's later writes
/// to that key wherever those are, so no read returns it together with such a write (or
/// anything after it).
pub(crate) fn writes_follow_reads(a: &Analysis<'_>, out: &mut Vec<Anomaly>) {
    let why = |r1: Id, w2: Id, _: Id, _: Id| {
        format!(
            " through session {}: it read {} and then wrote {}",
            a.op(r1).session,
            a.describe(r1),
            a.describe(w2)
        )
    };
    let order = a.writes_follow_reads_order();
    ordered_siblings(
        a,
        &order,
        &WRITES_FOLLOW_READS,
        &a.previous_ok_read,
        why,
        out,
    );
}
