//! Reachability in a causal graph, answered with vector clocks over chains.
//!
//! The checkers ask, many times per operation, whether one operation precedes another in some
//! transitive relation (happens-before and its restrictions). Computing the closures outright
//! costs quadratic time and space; instead every node gets a clock, as in Fidge–Mattern vector
//! clocks, over a decomposition of the graph into *chains* (paths: each element reaches the
//! next). `a` reaches `b` iff `b`'s clock has, for `a`'s chain, a position at or after `a`'s.
//!
//! Chains are given by a key the caller picks (a session, or a session and a key): a node
//! extends its key's chain when the chain's tail reaches it, and starts a new chain otherwise.
//! With sessions as keys a clock has one entry per session, whatever the history's length.
//!
//! Some nodes cannot sit on a chain without breaking it: a write whose outcome is unknown
//! precedes nothing its session does later, so putting it on the session's chain would claim
//! it precedes the session's later operations. Such nodes *float*: they get no chain
//! position; instead each keeps its *entries*, the earliest position on each chain that it
//! reaches through floating nodes only. `a` (floating) reaches `b` iff `b`'s clock meets one
//! of `a`'s entries, or a path of floating nodes leads from `a` to `b`. That last case is
//! rare (a chain of writes of unknown outcome naming each other in their contexts); one
//! relation, the contexts relation, tracks it directly (each floating node lists its
//! floating ancestors) and the others defer to it, because between floating nodes every
//! relation here has only context edges.

use std::collections::BTreeMap;

/// A node: an operation's index in the history.
pub(crate) type Id = u32;

/// A clock's entries: for each chain (sorted), the latest position known to precede.
pub(crate) type Entries = [(u32, u32)];

/// Whether position `pos` of `chain` precedes, by `clock`.
pub(crate) fn covers(clock: &Entries, chain: u32, pos: u32) -> bool {
    clock
        .binary_search_by_key(&chain, |&(c, _)| c)
        .is_ok_and(|i| clock[i].1 >= pos)
}

/// Whether `clock` covers some of `entries`: a floating node with those entries reaches
/// whatever has this clock.
pub(crate) fn meets(clock: &Entries, entries: &Entries) -> bool {
    entries.iter().any(|&(c, p)| covers(clock, c, p))
}

/// An owned vector clock.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Clock(Vec<(u32, u32)>);

impl Clock {
    /// Whether position `pos` of `chain` precedes.
    pub(crate) fn covers(&self, chain: u32, pos: u32) -> bool {
        covers(&self.0, chain, pos)
    }

    fn set(&mut self, chain: u32, pos: u32) {
        match self.0.binary_search_by_key(&chain, |&(c, _)| c) {
            Ok(i) => self.0[i].1 = pos,
            Err(i) => self.0.insert(i, (chain, pos)),
        }
    }

    fn remove(&mut self, chain: u32) {
        if let Ok(i) = self.0.binary_search_by_key(&chain, |&(c, _)| c) {
            self.0.remove(i);
        }
    }

    /// Pointwise maximum with `other`.
    pub(crate) fn join(&mut self, other: &Entries) {
        self.merge(other, u32::max);
    }

    /// Pointwise minimum with `other`, a chain absent from one side taking the other's.
    fn meet_entries(&mut self, other: &Entries) {
        self.merge(other, u32::min);
    }

    fn merge(&mut self, other: &Entries, pick: fn(u32, u32) -> u32) {
        if other.is_empty() {
            return;
        }
        if self.0.is_empty() {
            self.0.extend_from_slice(other);
            return;
        }
        // Most joins meet the same chains (a session's clocks grow, they rarely widen):
        // then update in place, without allocating.
        if other.len() <= self.0.len() {
            let mut j = 0;
            let same_chains = other.iter().all(|&(c, _)| {
                while j < self.0.len() && self.0[j].0 < c {
                    j += 1;
                }
                j < self.0.len() && self.0[j].0 == c
            });
            if same_chains {
                let mut j = 0;
                for &(c, p) in other {
                    while self.0[j].0 < c {
                        j += 1;
                    }
                    self.0[j].1 = pick(self.0[j].1, p);
                }
                return;
            }
        }
        let mut out = Vec::with_capacity(self.0.len().max(other.len()));
        let (mut i, mut j) = (0, 0);
        while i < self.0.len() && j < other.len() {
            let (a, b) = (self.0[i], other[j]);
            if a.0 == b.0 {
                out.push((a.0, pick(a.1, b.1)));
                i += 1;
                j += 1;
            } else if a.0 < b.0 {
                out.push(a);
                i += 1;
            } else {
                out.push(b);
                j += 1;
            }
        }
        out.extend_from_slice(&self.0[i..]);
        out.extend_from_slice(&other[j..]);
        self.0 = out;
    }

    /// Whether every entry is covered by `other` (pointwise ≤).
    pub(crate) fn le(&self, other: &Clock) -> bool {
        self.0.iter().all(|&(c, p)| other.covers(c, p))
    }

    /// The entries, by chain.
    pub(crate) fn entries(&self) -> &[(u32, u32)] {
        &self.0
    }
}

#[derive(Clone, Debug)]
enum Node {
    Absent,
    /// Its clock is `arena[start..start + len]`.
    Anchored {
        chain: u32,
        pos: u32,
        start: u32,
        len: u32,
    },
    /// Boxed: floating nodes are few, and anchored ones stay small.
    Floating(Box<Floating>),
}

#[derive(Clone, Debug)]
struct Floating {
    /// Its clock is `arena[start..start + len]`.
    start: u32,
    len: u32,
    /// Direct successors (to compute `entries`).
    successors: Vec<Id>,
    /// The earliest chain positions reached through floating nodes only.
    entries: Clock,
    /// Floating ancestors reached through floating nodes only (sorted), when tracked.
    floating_ancestors: Vec<Id>,
}

/// A relation's reachability over the history's operations.
#[derive(Clone, Debug)]
pub(crate) struct Reach {
    nodes: Vec<Node>,
    /// Every node's clock, one after another: clocks never change once made, and one
    /// buffer spares an allocation per node and keeps recent clocks close together.
    arena: Vec<(u32, u32)>,
    /// Where a node's clock is assembled before it joins the arena.
    scratch: Clock,
    /// Insertion order (a topological order).
    order: Vec<Id>,
    /// The current chain and its tail position, per chain key.
    chains: BTreeMap<u64, (u32, u32)>,
    next_chain: u32,
    /// Whether floating nodes list their floating ancestors (the contexts relation does;
    /// the others ask it).
    tracks_floating_paths: bool,
}

/// A set of nodes, summarized for "does `a` reach one of them" questions.
#[derive(Clone, Debug, Default)]
pub(crate) struct Targets {
    /// Join of the members' clocks.
    join: Clock,
    /// Join of the members' clocks without their own positions: what strictly precedes one.
    strict: Clock,
    /// The members (sorted, deduplicated).
    members: Vec<Id>,
    /// The floating members.
    floating: Vec<Id>,
}

impl Targets {
    /// The join of the members' clocks.
    pub(crate) fn join(&self) -> &Clock {
        &self.join
    }

    /// Whether `id` is a member.
    pub(crate) fn contains(&self, id: Id) -> bool {
        self.members.binary_search(&id).is_ok()
    }
}

impl Reach {
    /// An empty relation over `n` operations.
    pub(crate) fn new(n: usize, tracks_floating_paths: bool) -> Self {
        Reach {
            nodes: vec![Node::Absent; n],
            arena: Vec::new(),
            scratch: Clock::default(),
            order: Vec::new(),
            chains: BTreeMap::new(),
            next_chain: 0,
            tracks_floating_paths,
        }
    }

    /// Adds node `id` with its direct predecessors (already added). `chain_key`: the chain it
    /// should extend (it does if that chain's tail reaches it); `None` makes it float.
    pub(crate) fn add(&mut self, id: Id, preds: &[Id], chain_key: Option<u64>) {
        debug_assert!(
            matches!(self.nodes[id as usize], Node::Absent),
            "node added twice"
        );
        let mut clock = std::mem::take(&mut self.scratch);
        clock.0.clear();
        if let Some(&p) = preds.first() {
            clock.0.extend_from_slice(self.clock(p));
        }
        for &p in preds.iter().skip(1) {
            clock.join(self.clock(p));
        }
        let start = u32::try_from(self.arena.len()).expect("fewer than 2^32 clock entries");
        let len = |c: &Clock| c.0.len() as u32;
        let node = match chain_key {
            Some(key) => {
                let (chain, pos) = match self.chains.get(&key) {
                    Some(&(chain, tail)) if clock.covers(chain, tail) => (chain, tail + 1),
                    _ => {
                        self.next_chain += 1;
                        (self.next_chain - 1, 0)
                    }
                };
                self.chains.insert(key, (chain, pos));
                clock.set(chain, pos);
                Node::Anchored {
                    chain,
                    pos,
                    start,
                    len: len(&clock),
                }
            }
            None => {
                let mut floating_ancestors = Vec::new();
                if self.tracks_floating_paths {
                    for &p in preds {
                        if let Node::Floating(theirs) = &self.nodes[p as usize] {
                            floating_ancestors.push(p);
                            floating_ancestors.extend_from_slice(&theirs.floating_ancestors);
                        }
                    }
                    floating_ancestors.sort_unstable();
                    floating_ancestors.dedup();
                }
                Node::Floating(Box::new(Floating {
                    start,
                    len: len(&clock),
                    successors: Vec::new(),
                    entries: Clock::default(),
                    floating_ancestors,
                }))
            }
        };
        for &p in preds {
            if let Node::Floating(f) = &mut self.nodes[p as usize] {
                if f.successors.last() != Some(&id) {
                    f.successors.push(id);
                }
            }
        }
        self.arena.extend_from_slice(&clock.0);
        self.scratch = clock;
        self.nodes[id as usize] = node;
        self.order.push(id);
    }

    /// Computes the floating nodes' entries; call once every node is added.
    pub(crate) fn finish(&mut self) {
        for &id in self.order.iter().rev() {
            let Node::Floating(f) = &self.nodes[id as usize] else {
                continue;
            };
            let mut entries = Clock::default();
            for &s in &f.successors {
                match &self.nodes[s as usize] {
                    Node::Anchored { chain, pos, .. } => {
                        entries.meet_entries(&[(*chain, *pos)]);
                    }
                    Node::Floating(theirs) => entries.meet_entries(&theirs.entries.0),
                    Node::Absent => {}
                }
            }
            if let Node::Floating(mine) = &mut self.nodes[id as usize] {
                mine.entries = entries;
            }
        }
    }

    /// `id`'s chain and position, unless it floats.
    pub(crate) fn anchor(&self, id: Id) -> Option<(u32, u32)> {
        match &self.nodes[id as usize] {
            Node::Anchored { chain, pos, .. } => Some((*chain, *pos)),
            _ => None,
        }
    }

    /// `id`'s clock: every chain position that reaches it (itself included).
    pub(crate) fn clock(&self, id: Id) -> &Entries {
        let (start, len) = match &self.nodes[id as usize] {
            Node::Anchored { start, len, .. } => (*start, *len),
            Node::Floating(f) => (f.start, f.len),
            Node::Absent => panic!("operation {id} is not a node of this relation"),
        };
        &self.arena[start as usize..(start + len) as usize]
    }

    fn strict_clock(&self, id: Id) -> Clock {
        let mut c = Clock(self.clock(id).to_vec());
        match &self.nodes[id as usize] {
            Node::Anchored { chain, pos, .. } => {
                // The chain's previous element reaches `id` (that is how chains grow).
                if *pos == 0 {
                    c.remove(*chain);
                } else {
                    c.set(*chain, pos - 1);
                }
                c
            }
            _ => c,
        }
    }

    /// A path of floating nodes from `a` to `b` (both floating).
    fn floating_path(&self, contexts: &Reach, a: Id, b: Id) -> bool {
        if self.tracks_floating_paths {
            match &self.nodes[b as usize] {
                Node::Floating(f) => f.floating_ancestors.binary_search(&a).is_ok(),
                _ => false,
            }
        } else {
            contexts.reaches(contexts, a, b)
        }
    }

    /// `a` ⪯ `b`: `a` is `b` or precedes it. `contexts` answers for paths of floating nodes
    /// (pass this relation itself if it tracks them).
    pub(crate) fn reaches(&self, contexts: &Reach, a: Id, b: Id) -> bool {
        if a == b {
            return true;
        }
        match &self.nodes[a as usize] {
            Node::Anchored { chain, pos, .. } => covers(self.clock(b), *chain, *pos),
            Node::Floating(f) => {
                meets(self.clock(b), &f.entries.0)
                    || (matches!(self.nodes[b as usize], Node::Floating(_))
                        && self.floating_path(contexts, a, b))
            }
            Node::Absent => false,
        }
    }

    /// `a` strictly precedes `b`.
    pub(crate) fn precedes(&self, contexts: &Reach, a: Id, b: Id) -> bool {
        a != b && self.reaches(contexts, a, b)
    }

    /// Summarizes `ids` (nodes of this relation) as targets.
    pub(crate) fn targets(&self, ids: impl IntoIterator<Item = Id>) -> Targets {
        let mut t = Targets::default();
        for id in ids {
            self.add_target(&mut t, id);
        }
        t
    }

    /// Adds `id` to `t`.
    pub(crate) fn add_target(&self, t: &mut Targets, id: Id) {
        if let Err(i) = t.members.binary_search(&id) {
            t.members.insert(i, id);
            t.join.join(self.clock(id));
            t.strict.join(&self.strict_clock(id).0);
            if self.anchor(id).is_none() {
                t.floating.push(id);
            }
        }
    }

    /// Whether `a` strictly precedes some member of `t`.
    pub(crate) fn precedes_any(&self, contexts: &Reach, a: Id, t: &Targets) -> bool {
        match &self.nodes[a as usize] {
            Node::Anchored { chain, pos, .. } => t.strict.covers(*chain, *pos),
            Node::Floating(f) => {
                meets(&t.join.0, &f.entries.0)
                    || t.floating
                        .iter()
                        .any(|&b| b != a && self.floating_path(contexts, a, b))
            }
            Node::Absent => false,
        }
    }

    /// Whether `a` is a member of `t` or precedes one.
    pub(crate) fn reaches_any(&self, contexts: &Reach, a: Id, t: &Targets) -> bool {
        t.contains(a) || self.precedes_any(contexts, a, t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute-force closure of a small DAG, to compare with.
    fn closure(n: usize, edges: &[(Id, Id)]) -> Vec<Vec<bool>> {
        let mut r = vec![vec![false; n]; n];
        for &(a, b) in edges {
            r[a as usize][b as usize] = true;
        }
        for k in 0..n {
            for i in 0..n {
                for j in 0..n {
                    if r[i][k] && r[k][j] {
                        r[i][j] = true;
                    }
                }
            }
        }
        r
    }

    #[test]
    fn clocks_agree_with_the_closure_on_random_dags() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
        for _ in 0..500 {
            let n = rng.random_range(1..12usize);
            let mut edges = Vec::new();
            let mut keys = Vec::new();
            for b in 0..n {
                for a in 0..b {
                    if rng.random_range(0..4) == 0 {
                        edges.push((a as Id, b as Id));
                    }
                }
                keys.push(match rng.random_range(0..4) {
                    0 => None,
                    k => Some(k as u64),
                });
            }
            let mut ctx = Reach::new(n, true);
            for (b, &key) in keys.iter().enumerate() {
                let preds: Vec<Id> = edges
                    .iter()
                    .filter(|e| e.1 == b as Id)
                    .map(|e| e.0)
                    .collect();
                ctx.add(b as Id, &preds, key);
            }
            ctx.finish();
            let truth = closure(n, &edges);
            for (a, row) in truth.iter().enumerate() {
                for (b, &after) in row.iter().enumerate() {
                    let want = a == b || after;
                    assert_eq!(
                        ctx.reaches(&ctx, a as Id, b as Id),
                        want,
                        "{a}->{b} in {edges:?} {keys:?}"
                    );
                }
                // Targets: two nodes, one maybe twice.
                let t = ctx.targets([(a + 1) % n, (a + 3) % n].map(|x| x as Id));
                let members = [(a + 1) % n, (a + 3) % n];
                for (x, before) in truth.iter().enumerate() {
                    let strict = members.iter().any(|&m| m != x && before[m]);
                    assert_eq!(ctx.precedes_any(&ctx, x as Id, &t), strict);
                    assert_eq!(
                        ctx.reaches_any(&ctx, x as Id, &t),
                        strict || members.contains(&x)
                    );
                }
            }
        }
    }
}
