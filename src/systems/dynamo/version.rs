//! Versions: dotted version vectors with siblings (Preguiça et al., "Dotted Version Vectors:
//! Logical Clocks for Optimistic Replication", 2010; Riak's DVV sets), and hybrid logical
//! clocks for the last-writer-wins mode (Kulkarni et al., "Logical Physical Clocks", 2014).
//!
//! A key's [`Entry`] is a causal context (a version vector, [`Vv`]) and the siblings it has
//! not overwritten, each tagged with the [`Dot`] of the write that made it. The actor of a dot
//! is the writing client session (so a retried write, sent to another coordinator, is the same
//! version, not a copy), its counter the session's count of writes to that key.
//! - a write with context `ctx` and dot `d` drops the siblings `ctx` covers and adds its own;
//! - two replicas' entries merge ([`Entry::merge`]) by keeping each sibling the other has or
//!   has not yet seen (its dot is not covered by the other's clock), and joining the clocks:
//!   commutative, associative, idempotent;
//! - in LWW mode the entry keeps only the greatest sibling by (HLC timestamp, write id).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A write's identity: (actor, counter).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Dot {
    /// The writing session (client id).
    pub actor: u8,
    /// The session's count of writes to the key, from 1.
    pub counter: u32,
}

/// A version vector: per actor, the highest counter covered (all below it are covered too).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Vv(pub BTreeMap<u8, u32>);

impl Vv {
    /// Whether `dot` is covered.
    pub fn covers(&self, dot: Dot) -> bool {
        self.0.get(&dot.actor).is_some_and(|c| *c >= dot.counter)
    }

    /// Whether every dot `other` covers is covered here.
    pub fn descends(&self, other: &Vv) -> bool {
        other
            .0
            .iter()
            .all(|(a, c)| self.0.get(a).is_some_and(|mine| mine >= c))
    }

    /// Joins `other` in (pointwise maximum).
    pub fn join(&mut self, other: &Vv) {
        for (a, c) in &other.0 {
            let e = self.0.entry(*a).or_insert(0);
            *e = (*e).max(*c);
        }
    }

    /// Adds a dot.
    pub fn add(&mut self, dot: Dot) {
        let e = self.0.entry(dot.actor).or_insert(0);
        *e = (*e).max(dot.counter);
    }

    /// `{c0: 3, c2: 1}`.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self.0.iter().map(|(a, c)| format!("c{a}: {c}")).collect();
        format!("{{{}}}", parts.join(", "))
    }
}

/// A hybrid logical clock timestamp: wall-clock milliseconds and a logical counter.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Hlc {
    /// Physical part, milliseconds since the epoch.
    pub wall: u64,
    /// Logical part.
    pub logical: u32,
}

impl Hlc {
    /// The clock's next timestamp for a local event at physical time `pt`, after `last`
    /// (and after `seen`, a remote timestamp merged in; pass `Hlc::default()` for none).
    pub fn tick(last: Hlc, seen: Hlc, pt: u64) -> Hlc {
        let wall = pt.max(last.wall).max(seen.wall);
        let logical = if wall == last.wall && wall == seen.wall {
            last.logical.max(seen.logical) + 1
        } else if wall == last.wall {
            last.logical + 1
        } else if wall == seen.wall {
            seen.logical + 1
        } else {
            0
        };
        Hlc { wall, logical }
    }
}

/// One sibling: a value (or a tombstone) written by one write.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Sibling {
    /// The write's dot.
    pub dot: Dot,
    /// The write's id, unique in the run (what histories name it by).
    pub id: String,
    /// The value written; `None`: a tombstone (a delete).
    pub value: Option<u32>,
    /// The write's HLC timestamp (LWW mode orders by it; kept in both modes).
    pub ts: Hlc,
}

/// What a replica holds for a key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Entry {
    /// Every write this entry has seen (the causal context).
    pub clock: Vv,
    /// The writes not overwritten, in dot order.
    pub siblings: Vec<Sibling>,
}

/// How entries resolve concurrent writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolve {
    /// Keep concurrent writes as siblings.
    Siblings,
    /// Keep only the greatest by (timestamp, id): last writer wins.
    Lww,
}

/// How a planted bug bends the merge (see `mutants`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MergeBug {
    /// The correct merge.
    #[default]
    None,
    /// A2: siblings are concatenated without removing duplicates (not idempotent).
    Concatenate,
    /// A8: whole entries compared: the one "greater in any entry" wins outright.
    GreaterInAnyEntry,
}

impl Entry {
    /// The live siblings (not tombstones).
    pub fn live(&self) -> impl Iterator<Item = &Sibling> {
        self.siblings.iter().filter(|s| s.value.is_some())
    }

    /// The timestamp of the sibling with `dot`, if this entry holds it.
    pub fn ts_of(&self, dot: Dot) -> Option<Hlc> {
        self.siblings
            .iter()
            .filter(|s| s.dot == dot)
            .map(|s| s.ts)
            .max()
    }

    /// Whether only tombstones are left.
    pub fn is_deleted(&self) -> bool {
        !self.siblings.is_empty() && self.siblings.iter().all(|s| s.value.is_none())
    }

    /// Applies a write: drops what `context` covers, adds `sibling`.
    pub fn write(&mut self, context: &Vv, sibling: Sibling, resolve: Resolve) {
        if resolve == Resolve::Lww {
            // The greatest timestamp wins, whatever the clocks say: a version this entry
            // already dropped lost by its timestamp (or a causal overwrite, stamped later).
            self.clock.join(context);
            self.clock.add(sibling.dot);
            self.siblings.push(sibling);
            self.normalize(resolve);
            return;
        }
        if self.clock.covers(sibling.dot) {
            // Already seen (a retry, a duplicate) or already overwritten.
            return;
        }
        self.siblings.retain(|s| !context.covers(s.dot));
        self.clock.join(context);
        self.clock.add(sibling.dot);
        self.siblings.push(sibling);
        self.normalize(resolve);
    }

    /// Merges another replica's entry for the same key.
    pub fn merge(&mut self, other: &Entry, resolve: Resolve, bug: MergeBug) {
        match bug {
            MergeBug::GreaterInAnyEntry => {
                let greater = other
                    .clock
                    .0
                    .iter()
                    .any(|(a, c)| self.clock.0.get(a).is_none_or(|mine| c > mine));
                if greater {
                    *self = other.clone();
                }
                return;
            }
            MergeBug::Concatenate | MergeBug::None => {}
        }
        if resolve == Resolve::Lww && bug == MergeBug::None {
            // Last writer wins: the greatest of both sides. (A version one side dropped lost
            // there by its timestamp; a retried write may carry two, and the greater wins.)
            self.siblings.extend(other.siblings.iter().cloned());
            self.clock.join(&other.clock);
            self.normalize(resolve);
            return;
        }
        // Keep what the other side has too, or has not seen yet; one copy per dot (a write
        // retried through two coordinators may carry two timestamps: the greater wins).
        let has = |e: &Entry, s: &Sibling| e.siblings.iter().any(|o| o.dot == s.dot);
        let mut siblings: Vec<Sibling> = self
            .siblings
            .iter()
            .filter(|s| !other.clock.covers(s.dot) || has(other, s))
            .cloned()
            .collect();
        siblings.extend(
            other
                .siblings
                .iter()
                .filter(|s| !self.clock.covers(s.dot) || has(self, s))
                .cloned(),
        );
        siblings.sort_by(|a, b| (a.dot, b.ts, &b.id).cmp(&(b.dot, a.ts, &a.id)));
        if bug != MergeBug::Concatenate {
            siblings.dedup_by_key(|s| s.dot);
        }
        self.siblings = siblings;
        self.clock.join(&other.clock);
        if bug != MergeBug::Concatenate || resolve == Resolve::Lww {
            self.normalize(resolve);
        }
    }

    fn normalize(&mut self, resolve: Resolve) {
        match resolve {
            Resolve::Siblings => self.siblings.sort(),
            Resolve::Lww => {
                if let Some(max) = self
                    .siblings
                    .iter()
                    .max_by(|a, b| (a.ts, &a.id).cmp(&(b.ts, &b.id)))
                    .cloned()
                {
                    self.siblings = vec![max];
                }
            }
        }
    }

    /// A digest of the entry (its clock and its siblings' dots, values and timestamps),
    /// FNV-1a, for anti-entropy.
    pub fn digest(&self) -> u64 {
        let bytes = postcard::to_allocvec(self).unwrap_or_default();
        crate::node::frame::fnv64(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sib(actor: u8, counter: u32, v: u32) -> Sibling {
        Sibling {
            dot: Dot { actor, counter },
            id: format!("{v}"),
            value: Some(v),
            ts: Hlc {
                wall: u64::from(v),
                logical: 0,
            },
        }
    }

    fn vv(pairs: &[(u8, u32)]) -> Vv {
        Vv(pairs.iter().copied().collect())
    }

    #[test]
    fn concurrent_writes_stay_siblings_and_a_covering_write_overwrites_them() {
        let mut e = Entry::default();
        e.write(&Vv::default(), sib(0, 1, 1), Resolve::Siblings);
        e.write(&Vv::default(), sib(1, 1, 2), Resolve::Siblings);
        assert_eq!(e.live().count(), 2);
        e.write(&vv(&[(0, 1), (1, 1)]), sib(2, 1, 3), Resolve::Siblings);
        assert_eq!(e.siblings, vec![sib(2, 1, 3)]);
        // A duplicate of an overwritten write is ignored.
        e.write(&Vv::default(), sib(0, 1, 1), Resolve::Siblings);
        assert_eq!(e.siblings, vec![sib(2, 1, 3)]);
    }

    #[test]
    fn merge_is_commutative_and_idempotent_and_the_bugs_are_not() {
        let mut a = Entry::default();
        a.write(&Vv::default(), sib(0, 1, 1), Resolve::Siblings);
        let mut b = a.clone();
        a.write(&vv(&[(0, 1)]), sib(0, 2, 2), Resolve::Siblings);
        b.write(&Vv::default(), sib(1, 1, 3), Resolve::Siblings);
        let mut ab = a.clone();
        ab.merge(&b, Resolve::Siblings, MergeBug::None);
        let mut ba = b.clone();
        ba.merge(&a, Resolve::Siblings, MergeBug::None);
        assert_eq!(ab, ba);
        assert_eq!(ab.siblings, vec![sib(0, 2, 2), sib(1, 1, 3)]);
        let before = ab.clone();
        ab.merge(&ba, Resolve::Siblings, MergeBug::None);
        assert_eq!(ab, before);
        let mut dup = before.clone();
        dup.merge(&before, Resolve::Siblings, MergeBug::Concatenate);
        assert_eq!(dup.siblings.len(), 4);
        let mut dropped = a.clone();
        dropped.merge(&b, Resolve::Siblings, MergeBug::GreaterInAnyEntry);
        // b is "greater" in c1's entry and replaces a, losing a's concurrent sibling.
        assert!(!dropped.siblings.contains(&sib(0, 2, 2)), "{dropped:?}");
    }

    #[test]
    fn lww_merges_converge_on_the_greatest_copy_of_a_version_stamped_twice() {
        // W (dot c1:1) was stamped 5 by one coordinator and 1 by a retry's; X is stamped 3.
        let (w_late, w_early, x) = (sib(1, 1, 5), sib(1, 1, 1), sib(2, 1, 3));
        let mut a = Entry::default();
        a.write(&Vv::default(), w_late.clone(), Resolve::Lww);
        a.write(&Vv::default(), x.clone(), Resolve::Lww);
        let mut b = Entry::default();
        b.write(&Vv::default(), w_early, Resolve::Lww);
        b.write(&Vv::default(), x.clone(), Resolve::Lww);
        assert_eq!(
            (a.siblings.clone(), b.siblings.clone()),
            (vec![w_late.clone()], vec![x])
        );
        let mut ab = a.clone();
        ab.merge(&b, Resolve::Lww, MergeBug::None);
        let mut ba = b.clone();
        ba.merge(&a, Resolve::Lww, MergeBug::None);
        assert_eq!(ab.siblings, vec![w_late.clone()]);
        assert_eq!(ab, ba);
    }

    #[test]
    fn lww_keeps_the_latest_and_the_hlc_moves_past_what_it_saw() {
        let mut e = Entry::default();
        e.write(&Vv::default(), sib(0, 1, 5), Resolve::Lww);
        e.write(&Vv::default(), sib(1, 1, 3), Resolve::Lww);
        assert_eq!(e.siblings, vec![sib(0, 1, 5)]);
        let last = Hlc {
            wall: 10,
            logical: 2,
        };
        let seen = Hlc {
            wall: 20,
            logical: 4,
        };
        assert_eq!(
            Hlc::tick(last, seen, 5),
            Hlc {
                wall: 20,
                logical: 5
            }
        );
        assert_eq!(Hlc::tick(last, Hlc::default(), 30).logical, 0);
        assert!(Hlc::tick(last, Hlc::default(), 5) > last);
    }
}
