//! A brute-force oracle for the checkers: it decides each property on a small history by
//! enumerating what the definitions (module docs of [`super`]) quantify over — replica states
//! and overwrite orders for every read, writes of unknown outcome that may have happened —
//! and shares nothing with the checkers but the history types. The test below runs both on
//! 10,000 generated histories and requires them to agree on every one.

use super::history::{Action, Datum, History, Outcome};
use std::collections::BTreeMap;

/// A set of operations: bit `i` is operation `i`.
type Set = u32;

fn bits(s: Set) -> impl Iterator<Item = usize> {
    (0..32).filter(move |i| s & (1 << i) != 0)
}

/// A relation over operations: row `a` is the set of `b` with `a` → `b`.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Rel([Set; 32]);

impl Rel {
    fn empty() -> Self {
        Rel([0; 32])
    }
    fn has(&self, a: usize, b: usize) -> bool {
        self.0[a] & (1 << b) != 0
    }
    fn add(&mut self, a: usize, b: usize) {
        self.0[a] |= 1 << b;
    }
    /// Transitive closure (Warshall).
    fn closure(mut self, n: usize) -> Self {
        for k in 0..n {
            for i in 0..n {
                if self.has(i, k) {
                    self.0[i] |= self.0[k];
                }
            }
        }
        self
    }
    fn union(mut self, other: &Rel) -> Self {
        for i in 0..32 {
            self.0[i] |= other.0[i];
        }
        self
    }
    fn is_transitive(&self, within: Set) -> bool {
        bits(within).all(|a| bits(self.0[a] & within).all(|b| self.0[b] & within & !self.0[a] == 0))
    }
}

/// A replica state a read may have been served from: the writes and the overwrite order.
#[derive(Clone, Copy)]
struct State {
    d: Set,
    order: Rel,
}

/// The oracle's verdict on each property (`None`: the history has no final states).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct Verdicts {
    /// Valid observations and no dropped siblings: every observation names a real write
    /// and every read has a state.
    pub base: bool,
    pub read_your_writes: bool,
    pub monotonic_reads: bool,
    pub monotonic_writes: bool,
    pub writes_follow_reads: bool,
    pub causal: bool,
    pub convergence: Option<bool>,
    pub no_lost_writes: Option<bool>,
}

struct Oracle<'h> {
    h: &'h History,
    n: usize,
    /// Writes and deletes that did not fail.
    writes: Set,
    deletes: Set,
    ok: Set,
    ok_reads: Set,
    by_value: BTreeMap<&'h Datum, usize>,
    /// Valid observations of each read (values and context), live values returned.
    obs: Vec<Set>,
    returned: Vec<Set>,
    /// Valid context entries of each write.
    ctx: Vec<Set>,
    all_valid: bool,
    contexts: Rel,
    key_hb: Rel,
    hb: Rel,
}

impl<'h> Oracle<'h> {
    fn new(h: &'h History) -> Self {
        let n = h.operations.len();
        assert!(n <= 32, "the oracle handles at most 32 operations");
        let mut o = Oracle {
            h,
            n,
            writes: 0,
            deletes: 0,
            ok: 0,
            ok_reads: 0,
            by_value: BTreeMap::new(),
            obs: vec![0; n],
            returned: vec![0; n],
            ctx: vec![0; n],
            all_valid: true,
            contexts: Rel::empty(),
            key_hb: Rel::empty(),
            hb: Rel::empty(),
        };
        for (i, op) in h.operations.iter().enumerate() {
            if let Some(v) = &op.value {
                o.by_value.insert(v, i);
            }
            if op.outcome == Outcome::Ok {
                o.ok |= 1 << i;
            }
            match (op.action, op.outcome) {
                (Action::Read, Outcome::Ok) => o.ok_reads |= 1 << i,
                (Action::Read, _) | (_, Outcome::Fail) => {}
                (Action::Write, _) => o.writes |= 1 << i,
                (Action::Delete, _) => {
                    o.writes |= 1 << i;
                    o.deletes |= 1 << i;
                }
            }
        }
        // Observations: a real write, that did not fail, on the reader's key, invoked
        // before the read completed (a write's context: before it was invoked).
        for (i, op) in h.operations.iter().enumerate() {
            if o.ok_reads & (1 << i) != 0 {
                let done = op.completed.map_or(u32::MAX, |c| c.seq);
                for (v, returned) in op
                    .values
                    .iter()
                    .map(|v| (v, true))
                    .chain(op.context.iter().map(|v| (v, false)))
                {
                    match o.by_value.get(v) {
                        Some(&w)
                            if o.writes & (1 << w) != 0
                                && h.operations[w].key == op.key
                                && h.operations[w].invoked.seq < done =>
                        {
                            o.obs[i] |= 1 << w;
                            if returned && o.deletes & (1 << w) == 0 {
                                o.returned[i] |= 1 << w;
                            }
                        }
                        _ => o.all_valid = false,
                    }
                }
            } else if o.writes & (1 << i) != 0 {
                for v in &op.context {
                    match o.by_value.get(v) {
                        Some(&w)
                            if o.writes & (1 << w) != 0
                                && h.operations[w].invoked.seq < op.invoked.seq =>
                        {
                            o.ctx[i] |= 1 << w
                        }
                        _ => o.all_valid = false,
                    }
                }
            }
        }
        o.relations();
        o
    }

    fn op(&self, i: usize) -> &crate::check::eventual::Operation {
        &self.h.operations[i]
    }

    fn same_session(&self, a: usize, b: usize) -> bool {
        self.op(a).session == self.op(b).session
    }

    fn same_key(&self, a: usize, b: usize) -> bool {
        self.op(a).key == self.op(b).key
    }

    fn relations(&mut self) {
        let nodes = self.writes | self.ok_reads;
        let (mut so, mut so_key, mut rf, mut ctx) =
            (Rel::empty(), Rel::empty(), Rel::empty(), Rel::empty());
        for a in bits(nodes) {
            for b in bits(nodes) {
                // Session order from successful operations (operations are listed in
                // invocation order).
                if a < b && self.same_session(a, b) && self.ok & (1 << a) != 0 {
                    so.add(a, b);
                    if self.same_key(a, b) {
                        so_key.add(a, b);
                    }
                }
            }
            for o in bits(self.obs[a]) {
                rf.add(o, a);
            }
            for c in bits(self.ctx[a]) {
                ctx.add(c, a);
            }
        }
        let n = self.n;
        self.contexts = ctx.closure(n);
        self.key_hb = so_key.union(&rf).union(&ctx).closure(n);
        self.hb = so.union(&rf).union(&ctx).closure(n);
    }

    fn key_writes(&self, key: &Datum) -> Set {
        bits(self.writes)
            .filter(|&w| self.op(w).key == *key)
            .fold(0, |s, w| s | 1 << w)
    }

    /// Whether `d` contains what its members' contexts cover (on the key; `rel` = contexts,
    /// or happens-before for causal states).
    fn closed(&self, d: Set, within: Set, rel: &Rel) -> bool {
        bits(within).all(|c| d & (1 << c) != 0 || bits(d).all(|x| !rel.has(c, x)))
    }

    /// The maximal members of `d` under `order`.
    fn maximal(d: Set, order: &Rel) -> Set {
        bits(d)
            .filter(|&x| order.0[x] & d == 0)
            .fold(0, |s, x| s | 1 << x)
    }

    /// Every strict partial order on `d` containing `forced` and within `allowed`.
    fn orders(d: Set, forced: &Rel, allowed: &Rel) -> Vec<Rel> {
        let mut free = Vec::new();
        let mut base = Rel::empty();
        for a in bits(d) {
            base.0[a] = forced.0[a] & d;
            for b in bits(allowed.0[a] & d & !forced.0[a]) {
                free.push((a, b));
            }
        }
        assert!(free.len() <= 20, "too many pairs to enumerate");
        let mut out = Vec::new();
        for mask in 0u32..(1 << free.len()) {
            let mut o = base;
            for (j, &(a, b)) in free.iter().enumerate() {
                if mask & (1 << j) != 0 {
                    o.add(a, b);
                }
            }
            if o.is_transitive(d) && bits(d).all(|x| !o.has(x, x)) {
                out.push(o);
            }
        }
        out
    }

    /// The writes to `r`'s key, and those of them invoked before `r` completed (what a
    /// replica state serving `r` may hold).
    fn candidates(&self, r: usize) -> (Set, Set) {
        let op = self.op(r);
        let done = op.completed.map_or(u32::MAX, |c| c.seq);
        let on_key = self.key_writes(&op.key);
        let cand = bits(on_key)
            .filter(|&w| self.op(w).invoked.seq < done)
            .fold(0, |s, w| s | 1 << w);
        (on_key, cand)
    }

    /// The states read `r` may have been served from (the base definition).
    fn states(&self, r: usize) -> Vec<State> {
        let (on_key, cand) = self.candidates(r);
        let mut out = Vec::new();
        for d in subsets(cand) {
            if self.obs[r] & !d != 0 || !self.closed(d, on_key, &self.contexts) {
                continue;
            }
            for order in Self::orders(d, &self.contexts, &self.key_hb) {
                let max = Self::maximal(d, &order);
                if max & !self.deletes == self.returned[r] && max & !self.obs[r] == 0 {
                    out.push(State { d, order });
                }
            }
        }
        out
    }

    /// A state for `r` in which the order is happens-before itself and `d` holds every
    /// write to the key that happened before `r`, closed under happens-before.
    fn causal_state_exists(&self, r: usize) -> bool {
        let (on_key, cand) = self.candidates(r);
        let past = bits(on_key)
            .filter(|&w| self.hb.has(w, r))
            .fold(0, |s, w| s | 1 << w);
        subsets(cand).any(|d| {
            if (self.obs[r] | past) & !d != 0 || !self.closed(d, on_key, &self.hb) {
                return false;
            }
            let mut order = Rel::empty();
            for a in bits(d) {
                order.0[a] = self.hb.0[a] & d;
            }
            if bits(d).any(|x| order.has(x, x)) {
                return false;
            }
            let max = Self::maximal(d, &order);
            max & !self.deletes == self.returned[r] && max & !self.obs[r] == 0
        })
    }

    fn verdicts(&self) -> Verdicts {
        let reads: Vec<usize> = bits(self.ok_reads).collect();
        let states: BTreeMap<usize, Vec<State>> =
            reads.iter().map(|&r| (r, self.states(r))).collect();
        let base = self.all_valid && states.values().all(|s| !s.is_empty());
        // Read-your-writes: each read has a state holding its session's acknowledged
        // earlier writes to the key.
        let ryw = base
            && reads.iter().all(|&r| {
                let own = bits(self.writes & self.ok)
                    .filter(|&w| w < r && self.same_session(w, r) && self.same_key(w, r))
                    .fold(0, |s, w| s | 1 << w);
                states[&r].iter().any(|st| own & !st.d == 0)
            });
        // Monotonic reads: along each session's reads of a key, states can be chosen
        // with growing sets.
        let mr = base && {
            let mut chains: BTreeMap<(&Datum, &Datum), Vec<usize>> = BTreeMap::new();
            for &r in &reads {
                chains
                    .entry((&self.op(r).session, &self.op(r).key))
                    .or_default()
                    .push(r);
            }
            chains.values().all(|chain| {
                let mut feasible: Vec<Set> = states[&chain[0]].iter().map(|s| s.d).collect();
                for &r in &chain[1..] {
                    feasible = states[&r]
                        .iter()
                        .map(|s| s.d)
                        .filter(|&d| feasible.iter().any(|&f| f & !d == 0))
                        .collect();
                }
                !feasible.is_empty()
            })
        };
        // Monotonic writes: each read has a state in which every session's later write to
        // the key comes with its acknowledged earlier write, ordered before it.
        let mw_pairs: Vec<(usize, usize)> = bits(self.writes)
            .flat_map(|a| bits(self.writes).map(move |b| (a, b)))
            .filter(|&(a, b)| {
                a < b && self.ok & (1 << a) != 0 && self.same_session(a, b) && self.same_key(a, b)
            })
            .collect();
        let mw = base
            && reads.iter().all(|&r| {
                states[&r].iter().any(|st| {
                    mw_pairs.iter().all(|&(w1, w2)| {
                        st.d & (1 << w2) == 0 || (st.d & (1 << w1) != 0 && st.order.has(w1, w2))
                    })
                })
            });
        let wfr = base && self.writes_follow_reads(&reads, &states);
        let causal = self.all_valid && reads.iter().all(|&r| self.causal_state_exists(r));
        let (convergence, no_lost_writes) = match &self.h.replicas {
            None => (None, None),
            Some(_) => (Some(self.convergence()), Some(self.no_lost_writes())),
        };
        Verdicts {
            base,
            read_your_writes: ryw,
            monotonic_reads: mr,
            monotonic_writes: mw,
            writes_follow_reads: wfr,
            causal,
            convergence,
            no_lost_writes,
        }
    }

    /// Writes-follow-reads: states for all reads at once such that wherever a session's
    /// later write to a key is, the state of the session's earlier read of that key is
    /// contained, and all of it ordered before the write. Searched read by read in
    /// completion order (an earlier read's state is chosen before any read that can hold
    /// the later write).
    fn writes_follow_reads(&self, reads: &[usize], states: &BTreeMap<usize, Vec<State>>) -> bool {
        let mut by_completion = reads.to_vec();
        by_completion.sort_by_key(|&r| self.op(r).completed.map_or(u32::MAX, |c| c.seq));
        // (r1, w2): r1 a successful read, w2 a later write of its session to its key.
        let pairs: Vec<(usize, usize)> = reads
            .iter()
            .flat_map(|&r1| bits(self.writes).map(move |w2| (r1, w2)))
            .filter(|&(r1, w2)| r1 < w2 && self.same_session(r1, w2) && self.same_key(r1, w2))
            .collect();
        let mut chosen: BTreeMap<usize, State> = BTreeMap::new();
        self.assign(&by_completion, 0, states, &pairs, &mut chosen)
    }

    fn assign(
        &self,
        reads: &[usize],
        i: usize,
        states: &BTreeMap<usize, Vec<State>>,
        pairs: &[(usize, usize)],
        chosen: &mut BTreeMap<usize, State>,
    ) -> bool {
        let Some(&r) = reads.get(i) else {
            return true;
        };
        for st in &states[&r] {
            let fits = pairs.iter().all(|&(r1, w2)| {
                if st.d & (1 << w2) == 0 {
                    return true;
                }
                let Some(s1) = chosen.get(&r1) else {
                    // Not chosen yet: it completed after this read, so it cannot precede a
                    // write this read holds.
                    return true;
                };
                s1.d & !st.d == 0 && bits(s1.d).all(|x| st.order.has(x, w2))
            });
            if fits {
                chosen.insert(r, *st);
                if self.assign(reads, i + 1, states, pairs, chosen) {
                    return true;
                }
                chosen.remove(&r);
            }
        }
        false
    }

    /// Which writes certainly happened: acknowledged ones, ones a read observed, ones a
    /// replica holds, and what their contexts name.
    fn happened(&self, extra: Set) -> Set {
        let mut h = (self.writes & self.ok) | extra;
        for r in bits(self.ok_reads) {
            h |= self.obs[r];
        }
        for state in self.h.replicas.iter().flatten() {
            for v in &state.values {
                if let Some(&w) = self.by_value.get(v) {
                    if self.writes & (1 << w) != 0 && self.op(w).key == state.key {
                        h |= 1 << w;
                    }
                }
            }
        }
        loop {
            let next = bits(h).fold(h, |s, w| s | self.ctx[w]);
            if next == h {
                return h;
            }
            h = next;
        }
    }

    /// Per key (written or listed): what each replica holds, as (live writes, other values);
    /// a key no replica lists: one holder of nothing.
    #[allow(clippy::type_complexity)]
    fn holders(&self) -> BTreeMap<Datum, Vec<(Set, Vec<Datum>)>> {
        let mut out: BTreeMap<Datum, Vec<(Set, Vec<Datum>)>> = BTreeMap::new();
        for w in bits(self.writes) {
            out.entry(self.op(w).key.clone()).or_default();
        }
        for state in self.h.replicas.iter().flatten() {
            let mut live = 0;
            let mut other = Vec::new();
            for v in &state.values {
                match self.by_value.get(v) {
                    Some(&w) if self.writes & (1 << w) != 0 && self.op(w).key == state.key => {
                        if self.deletes & (1 << w) == 0 {
                            live |= 1 << w;
                        }
                    }
                    _ => other.push(v.clone()),
                }
            }
            other.sort();
            other.dedup();
            out.entry(state.key.clone())
                .or_default()
                .push((live, other));
        }
        for holders in out.values_mut() {
            if holders.is_empty() {
                holders.push((0, Vec::new()));
            }
        }
        out
    }

    /// Convergence: per key, the replicas agree on values naming writes to the key, and
    /// some set of writes that happened (adding any writes of unknown outcome) with some
    /// order between contexts and per-key happens-before has exactly those live maximal.
    fn convergence(&self) -> bool {
        let certain = self.happened(0);
        let maybe = self.writes & !self.ok & !certain;
        self.holders().iter().all(|(key, holders)| {
            let first = &holders[0];
            if holders.iter().any(|h| h != first) || !first.1.is_empty() {
                return false;
            }
            let on_key = self.key_writes(key);
            subsets(maybe & on_key).any(|extra| {
                let a = self.happened(extra) & on_key;
                Self::orders(a, &self.contexts, &self.key_hb)
                    .iter()
                    .any(|o| Self::maximal(a, o) & !self.deletes == first.0)
            })
        })
    }

    /// No lost writes: every acknowledged live write is held by some replica, or precedes
    /// (per-key happens-before) a value a replica holds or a delete.
    fn no_lost_writes(&self) -> bool {
        self.holders().iter().all(|(key, holders)| {
            let on_key = self.key_writes(key);
            bits(on_key & self.ok & !self.deletes).all(|w| {
                holders.iter().any(|(live, _)| {
                    live & (1 << w) != 0
                        || bits(*live | (on_key & self.deletes)).any(|x| self.key_hb.has(w, x))
                })
            })
        })
    }
}

/// Every subset of `s`.
fn subsets(s: Set) -> impl Iterator<Item = Set> {
    // Walk the subsets of `s` by the standard trick: next = (sub - s) & s.
    let mut next = Some(0u32);
    std::iter::from_fn(move || {
        let cur = next?;
        let following = cur.wrapping_sub(s) & s;
        next = (following != 0).then_some(following);
        Some(cur)
    })
}

/// The oracle's verdicts on `h` (at most 32 operations).
pub(crate) fn verdicts(h: &History) -> Verdicts {
    Oracle::new(h).verdicts()
}

#[cfg(test)]
mod tests {
    use super::super::check;
    use super::super::generate::small_history;
    use super::super::properties::*;
    use super::*;
    use crate::check::property::Property;

    fn clean(h: &History, p: Property) -> bool {
        check(h, &[p]).expect("checkable").is_empty()
    }

    /// The checkers' verdicts, combined as the oracle's are defined: a session guarantee
    /// holds when every read also has a state at all.
    fn fast(h: &History) -> Verdicts {
        let observations = clean(h, VALID_OBSERVATIONS);
        let base = observations && clean(h, NO_DROPPED_SIBLINGS);
        let final_states = h.replicas.is_some();
        Verdicts {
            base,
            read_your_writes: base && clean(h, READ_YOUR_WRITES),
            monotonic_reads: base && clean(h, MONOTONIC_READS),
            monotonic_writes: base && clean(h, MONOTONIC_WRITES),
            writes_follow_reads: base && clean(h, WRITES_FOLLOW_READS),
            causal: observations && clean(h, CAUSAL_CONSISTENCY),
            convergence: final_states.then(|| clean(h, CONVERGENCE)),
            no_lost_writes: final_states.then(|| clean(h, NO_LOST_WRITES)),
        }
    }

    #[test]
    fn the_checkers_agree_with_the_oracle_on_10000_generated_histories() {
        let names = [
            "no dropped siblings / valid observations",
            "read your writes",
            "monotonic reads",
            "monotonic writes",
            "writes follow reads",
            "causal consistency",
            "convergence",
            "no lost writes",
        ];
        // Per property: histories where it holds, and where it is violated — for the
        // session guarantees, violated although every read has a state (the guarantee's
        // own condition fails, not the base's).
        let (mut held, mut violated) = ([0usize; 8], [0usize; 8]);
        for seed in 0..10_000u64 {
            let h = small_history(seed);
            let want = verdicts(&h);
            let got = fast(&h);
            assert_eq!(
                got,
                want,
                "seed {seed}: checkers vs oracle\n{}",
                h.to_json()
            );
            let each = [
                Some(want.base),
                Some(want.read_your_writes),
                Some(want.monotonic_reads),
                Some(want.monotonic_writes),
                Some(want.writes_follow_reads),
                Some(want.causal),
                want.convergence,
                want.no_lost_writes,
            ];
            for (i, v) in each.into_iter().enumerate() {
                match v {
                    Some(true) => held[i] += 1,
                    Some(false) if (1..=4).contains(&i) && !want.base => {}
                    Some(false) => violated[i] += 1,
                    None => {}
                }
            }
        }
        for i in 0..8 {
            eprintln!(
                "{:>42}: {:>5} hold, {:>5} violated",
                names[i], held[i], violated[i]
            );
        }
        for i in 0..8 {
            assert!(
                held[i] >= 1000 && violated[i] >= 400,
                "{}: too few of one verdict: {} hold, {} violated",
                names[i],
                held[i],
                violated[i]
            );
        }
    }
}
