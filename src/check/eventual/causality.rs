//! What a history's operations observed, and the causal relations between them.
//!
//! [`Analysis`] sorts out, once per history, which observations are valid (a read's values
//! and context, a write's context, each naming a real write), and builds the relations the
//! checkers ask about (see the module docs of [`crate::check::eventual`] for the
//! definitions): the contexts relation, per-key happens-before and happens-before; and, on
//! demand, the orders that monotonic writes and writes-follow-reads impose.

use super::history::{Action, Datum, History, Operation, Outcome};
use super::reach::{Id, Reach};
// Hash maps here only answer lookups (nothing iterates them), so the output does not
// depend on their order; they beat B-trees on long string values by a factor that shows
// at 100k operations.
use std::collections::{BTreeMap, HashMap};

/// An observation that names no real write: it is reported (as a "valid observations"
/// violation) and otherwise ignored.
#[derive(Clone, Debug)]
pub(crate) struct Invalid<'h> {
    /// The observing operation.
    pub op: Id,
    /// The value it named.
    pub value: &'h Datum,
    /// The write with that value, if one exists.
    pub writer: Option<Id>,
    /// What is wrong.
    pub why: &'static str,
}

/// A history, with its observations sorted out and its causal relations built.
pub(crate) struct Analysis<'h> {
    pub h: &'h History,
    /// Interned session of each operation.
    pub session: Vec<u32>,
    /// Interned key of each operation.
    pub key: Vec<u32>,
    /// The write (any outcome) of each value.
    pub writer: HashMap<&'h Datum, Id>,
    /// Per successful read: the live values it returned that name real writes (sorted).
    pub returned: Vec<Vec<Id>>,
    /// Per successful read: every real write it observed, its values and its context,
    /// tombstones included (sorted).
    pub observed: Vec<Vec<Id>>,
    /// Per write that did not fail: the real writes its context names (sorted).
    pub passed: Vec<Vec<Id>>,
    /// Observations naming no real write.
    pub invalid: Vec<Invalid<'h>>,
    /// The nodes of the relations (successful reads, writes that did not fail), in a
    /// topological order of all of them: writes at their invocation, reads at completion.
    pub order: Vec<Id>,
    /// Per operation: its session's last successful operation before it (any key).
    pub previous_ok: Vec<Option<Id>>,
    /// Per operation: its session's last successful operation on its key before it.
    pub previous_ok_on_key: Vec<Option<Id>>,
    /// Per operation: its session's last successful write on its key before it.
    pub previous_ok_write: Vec<Option<Id>>,
    /// Per operation: its session's last successful read on its key before it.
    pub previous_ok_read: Vec<Option<Id>>,
    /// The contexts relation: `c` precedes `w` when `w`'s context names `c`, transitively.
    pub contexts: Reach,
    /// Per-key happens-before: session order between operations on one key, reads-from,
    /// contexts; transitive.
    pub key_hb: Reach,
    /// Happens-before: session order, reads-from, contexts; transitive.
    pub hb: Reach,
}

/// Chain keys: a session (happens-before), or a session and a key (the others).
fn session_chain(session: u32) -> u64 {
    (u64::from(session) << 32) | u64::from(u32::MAX)
}

fn session_key_chain(session: u32, key: u32) -> u64 {
    (u64::from(session) << 32) | u64::from(key)
}

fn intern<'h>(names: &mut HashMap<&'h Datum, u32>, d: &'h Datum) -> u32 {
    let next = names.len() as u32;
    *names.entry(d).or_insert(next)
}

impl<'h> Analysis<'h> {
    /// Sorts out `h`'s observations and builds its relations.
    pub fn new(h: &'h History) -> Self {
        let n = h.operations.len();
        assert!(
            n < u32::MAX as usize,
            "a history of at most 2^32-1 operations"
        );
        let mut sessions = HashMap::new();
        let mut keys = HashMap::new();
        let mut session = Vec::with_capacity(n);
        let mut key = Vec::with_capacity(n);
        let mut writer = HashMap::with_capacity(n);
        for (i, op) in h.operations.iter().enumerate() {
            session.push(intern(&mut sessions, &op.session));
            key.push(intern(&mut keys, &op.key));
            if let Some(v) = &op.value {
                writer.insert(v, i as Id);
            }
        }
        let mut a = Analysis {
            h,
            session,
            key,
            writer,
            returned: vec![Vec::new(); n],
            observed: vec![Vec::new(); n],
            passed: vec![Vec::new(); n],
            invalid: Vec::new(),
            order: Vec::new(),
            previous_ok: vec![None; n],
            previous_ok_on_key: vec![None; n],
            previous_ok_write: vec![None; n],
            previous_ok_read: vec![None; n],
            contexts: Reach::new(n, true),
            key_hb: Reach::new(n, false),
            hb: Reach::new(n, false),
        };
        a.sort_out_observations();
        a.session_order();
        a.build();
        a
    }

    pub fn op(&self, id: Id) -> &'h Operation {
        &self.h.operations[id as usize]
    }

    /// A write or delete that did not fail: a node of the relations.
    pub fn is_write(&self, id: Id) -> bool {
        let op = self.op(id);
        op.action.writes() && op.outcome != Outcome::Fail
    }

    /// A successful read.
    pub fn is_ok_read(&self, id: Id) -> bool {
        let op = self.op(id);
        op.action == Action::Read && op.outcome == Outcome::Ok
    }

    /// A write that is not a delete.
    pub fn is_live(&self, id: Id) -> bool {
        self.op(id).action == Action::Write
    }

    pub fn is_ok(&self, id: Id) -> bool {
        self.op(id).outcome == Outcome::Ok
    }

    pub fn describe(&self, id: Id) -> String {
        self.op(id).describe()
    }

    /// The write named `value` if it is a valid observation at `seq` (strictly before it in
    /// the event order) on `key` (`None`: any key); else why not.
    fn real_write(
        &self,
        value: &Datum,
        key: Option<u32>,
        seq: u32,
    ) -> Result<Id, (Option<Id>, &'static str)> {
        let Some(&w) = self.writer.get(value) else {
            return Err((None, "no write wrote it"));
        };
        let op = self.op(w);
        if op.outcome == Outcome::Fail {
            return Err((Some(w), "the write that wrote it failed"));
        }
        if key.is_some_and(|k| k != self.key[w as usize]) {
            return Err((Some(w), "it was written to another key"));
        }
        if op.invoked.seq >= seq {
            return Err((Some(w), "it was written by a write invoked only afterwards"));
        }
        Ok(w)
    }

    fn sort_out_observations(&mut self) {
        let h = self.h;
        for (i, op) in h.operations.iter().enumerate() {
            let id = i as Id;
            match (op.action, op.outcome) {
                (Action::Read, Outcome::Ok) => {
                    let done = op.completed.map_or(u32::MAX, |c| c.seq);
                    let k = Some(self.key[i]);
                    let (mut returned, mut observed) = (Vec::new(), Vec::new());
                    for (value, in_context) in op
                        .values
                        .iter()
                        .map(|v| (v, false))
                        .chain(op.context.iter().map(|v| (v, true)))
                    {
                        match self.real_write(value, k, done) {
                            Ok(w) => {
                                observed.push(w);
                                // A tombstone among the values is part of the answer's
                                // context: a read returns live values only.
                                if !in_context && self.is_live(w) {
                                    returned.push(w);
                                }
                            }
                            Err((writer, why)) => self.invalid.push(Invalid {
                                op: id,
                                value,
                                writer,
                                why,
                            }),
                        }
                    }
                    returned.sort_unstable();
                    returned.dedup();
                    observed.sort_unstable();
                    observed.dedup();
                    self.returned[i] = returned;
                    self.observed[i] = observed;
                }
                (Action::Write | Action::Delete, Outcome::Ok | Outcome::Unknown) => {
                    let mut passed = Vec::new();
                    for value in &op.context {
                        match self.real_write(value, None, op.invoked.seq) {
                            Ok(w) => passed.push(w),
                            Err((writer, why)) => self.invalid.push(Invalid {
                                op: id,
                                value,
                                writer,
                                why,
                            }),
                        }
                    }
                    passed.sort_unstable();
                    passed.dedup();
                    self.passed[i] = passed;
                }
                _ => {}
            }
        }
    }

    fn session_order(&mut self) {
        let mut last_ok: BTreeMap<u32, Id> = BTreeMap::new();
        let mut last_ok_on_key: BTreeMap<(u32, u32), Id> = BTreeMap::new();
        let mut last_ok_write: BTreeMap<(u32, u32), Id> = BTreeMap::new();
        let mut last_ok_read: BTreeMap<(u32, u32), Id> = BTreeMap::new();
        // Operations are listed in invocation order, so each session's are in session order.
        for i in 0..self.h.operations.len() {
            let (s, k) = (self.session[i], self.key[i]);
            self.previous_ok[i] = last_ok.get(&s).copied();
            self.previous_ok_on_key[i] = last_ok_on_key.get(&(s, k)).copied();
            self.previous_ok_write[i] = last_ok_write.get(&(s, k)).copied();
            self.previous_ok_read[i] = last_ok_read.get(&(s, k)).copied();
            let id = i as Id;
            if self.is_ok(id) {
                last_ok.insert(s, id);
                last_ok_on_key.insert((s, k), id);
                if self.op(id).action.writes() {
                    last_ok_write.insert((s, k), id);
                } else {
                    last_ok_read.insert((s, k), id);
                }
            }
        }
    }

    fn build(&mut self) {
        let mut order: Vec<(u32, Id)> = Vec::new();
        for (i, op) in self.h.operations.iter().enumerate() {
            let id = i as Id;
            if self.is_write(id) {
                order.push((op.invoked.seq, id));
            } else if self.is_ok_read(id) {
                order.push((op.completed.map_or(u32::MAX, |c| c.seq), id));
            }
        }
        order.sort_unstable();
        self.order = order.into_iter().map(|(_, id)| id).collect();
        let mut preds = Vec::new();
        for idx in 0..self.order.len() {
            let id = self.order[idx];
            let i = id as usize;
            let (s, k) = (self.session[i], self.key[i]);
            let ok = self.is_ok(id);
            let seen = if self.is_write(id) {
                &self.passed[i]
            } else {
                &self.observed[i]
            };
            if self.is_write(id) {
                self.contexts
                    .add(id, seen, ok.then(|| session_key_chain(s, k)));
            }
            preds.clear();
            preds.extend_from_slice(seen);
            preds.extend(self.previous_ok_on_key[i]);
            self.key_hb
                .add(id, &preds, ok.then(|| session_key_chain(s, k)));
            preds.truncate(seen.len());
            preds.extend(self.previous_ok[i]);
            self.hb.add(id, &preds, ok.then(|| session_chain(s)));
        }
        self.contexts.finish();
        self.key_hb.finish();
        self.hb.finish();
    }

    /// The order monotonic writes imposes: contexts, and each session's acknowledged writes
    /// before its later writes to the same key; transitive.
    pub fn monotonic_writes_order(&self) -> Reach {
        let mut r = Reach::new(self.h.operations.len(), false);
        let mut preds = Vec::new();
        for &id in &self.order {
            if !self.is_write(id) {
                continue;
            }
            let i = id as usize;
            preds.clear();
            preds.extend_from_slice(&self.passed[i]);
            preds.extend(self.previous_ok_write[i]);
            let chain = self
                .is_ok(id)
                .then(|| session_key_chain(self.session[i], self.key[i]));
            r.add(id, &preds, chain);
        }
        r.finish();
        r
    }

    /// The order writes-follow-reads imposes: contexts, and what a session's successful read
    /// observed before the session's later writes to that key; transitive. Reads are nodes
    /// too (on one chain per session and key), so that a write need not list everything its
    /// session read before it.
    pub fn writes_follow_reads_order(&self) -> Reach {
        let mut r = Reach::new(self.h.operations.len(), false);
        let mut preds = Vec::new();
        for &id in &self.order {
            let i = id as usize;
            preds.clear();
            preds.extend(self.previous_ok_read[i]);
            if self.is_write(id) {
                preds.extend_from_slice(&self.passed[i]);
                r.add(id, &preds, None);
            } else {
                preds.extend_from_slice(&self.observed[i]);
                let chain = session_key_chain(self.session[i], self.key[i]);
                r.add(id, &preds, Some(chain));
            }
        }
        r.finish();
        r
    }

    /// For each key, its writes that did not fail, in invocation order.
    pub fn writes_by_key(&self) -> BTreeMap<u32, Vec<Id>> {
        let mut by_key: BTreeMap<u32, Vec<Id>> = BTreeMap::new();
        for &id in &self.order {
            if self.is_write(id) {
                by_key.entry(self.key[id as usize]).or_default().push(id);
            }
        }
        by_key
    }

    /// The successful reads, in history order.
    pub fn ok_reads(&self) -> impl Iterator<Item = Id> + '_ {
        (0..self.h.operations.len() as Id).filter(|&id| self.is_ok_read(id))
    }

    /// The first of `candidates` that `a` strictly precedes in `rel`, for messages.
    pub fn first_after(&self, rel: &Reach, a: Id, candidates: &[Id]) -> Option<Id> {
        candidates
            .iter()
            .copied()
            .find(|&c| rel.precedes(&self.contexts, a, c))
    }

    /// `{a, b}`: the values of `ids`.
    pub fn values(&self, ids: &[Id]) -> String {
        let v: Vec<Datum> = ids
            .iter()
            .filter_map(|&id| self.op(id).value.clone())
            .collect();
        super::history::Set(&v).to_string()
    }
}
