//! The Wing–Gong–Lowe search for one partition, resumable so that partitions can share time.
//!
//! Operations become call and return entries in a doubly-linked list sorted by time (calls
//! before returns at equal times, so operations that touch are concurrent, as in Porcupine).
//! The search walks the list: at a call entry it tries to linearize that operation next (the
//! model must accept it, and the resulting (linearized set, state) must be new to the memo);
//! if so the operation's two entries are unlinked ("lifted") and the walk restarts at the
//! head. Reaching a return entry means that operation should have been linearized already,
//! so the search backtracks: it pops the last linearized operation, relinks it and tries the
//! entry after it. Lift/unlift are O(1) (dancing links) because they happen in stack order.
//!
//! Pending operations (unknown outcome) have their return entry at infinity. The model
//! contract guarantees they are accepted in every state, so the search succeeds as soon as
//! every *completed* operation is linearized: the pending ones go last, i.e. never happened.

use super::intern::Interner;
use super::memo::{fmix64, Memo};
use super::memory::{table_growth, vec_growth, Memory};
use crate::check::model::Model;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// The model rejected the transition (in the transition cache).
const REJECT: u32 = u32::MAX;
/// Not computed yet (in the dense transition table).
const UNSET: u32 = u32::MAX - 1;
/// Size limit of the dense transition table, in entries.
const DENSE_ENTRIES: usize = 1 << 14;
/// Steps between checks of the deadline, the memory budget and the stop flag.
const CHECK_EVERY: u64 = 4096;
/// What one new state may hold on the heap beyond its table entries, for the memory reserve
/// (a kv state checked whole is an array of keys; one step creates at most one state).
const STATE_HEAP: usize = 1024;

/// A hasher for integer keys that mixes all bits (the transition cache's keys are
/// `state << 32 | op`; a multiply-only hash would cluster on the low bits).
#[derive(Default, Clone, Copy)]
pub(crate) struct MixHasher(u64);

impl Hasher for MixHasher {
    fn finish(&self) -> u64 {
        fmix64(self.0)
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(w));
        }
        for &b in chunks.remainder() {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(26) ^ i).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type MixMap<K, V> = HashMap<K, V, BuildHasherDefault<MixHasher>>;

/// Outcome of running the search for a while.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Progress {
    /// Every completed operation is linearized.
    Linearizable,
    /// The search space is exhausted.
    NotLinearizable,
    /// The step slice ran out; call `run` again.
    Paused,
    /// The deadline passed.
    OutOfTime,
    /// The memory allowance was exceeded.
    OutOfMemory,
    /// Another partition decided the verdict.
    Stopped,
}

/// Search state for one partition.
pub(crate) struct Search<'m, M: Model> {
    model: &'m M,
    ops: Vec<M::Op>,
    /// Per op: did it complete (as opposed to pending)?
    completed: Vec<bool>,
    /// Per op: is it read-only ([`Model::is_read_only`])?
    pure: Vec<bool>,
    /// Doubly-linked list over entries `0..2n`, plus head (`2n`) and tail (`2n+1`).
    next: Vec<u32>,
    prev: Vec<u32>,
    /// Per entry: its operation, with the top bit set for call entries.
    entry: Vec<u32>,
    /// Per op: its return entry.
    ret_entry: Vec<u32>,
    head: u32,
    tail: u32,
    /// Per op: random word for the incremental hash of the linearized set.
    zobrist: Vec<u64>,
    linearized: Vec<u64>,
    lin_hash: u64,
    /// Interned states.
    states: Interner<M::State>,
    /// Transition cache for the first `dense_rows` states: `dense[state * n + op]` is the
    /// next state, [`REJECT`] or [`UNSET`]. Most histories have few states (registers), and
    /// an array lookup is several times cheaper than a hash lookup.
    dense: Vec<u32>,
    dense_rows: usize,
    /// Transition cache for the other states: `state << 32 | op` → next state or [`REJECT`].
    trans: MixMap<u64, u32>,
    state: u32,
    /// True when the current configuration was just entered (forced moves not checked).
    fresh: bool,
    /// Linearized call entries with the state before each.
    stack: Vec<(u32, u32)>,
    cur: u32,
    /// Completed operations not yet linearized.
    remaining: usize,
    memo: Memo,
    /// Steps taken so far.
    pub(crate) steps: u64,
    /// The longest linearized sequence seen (op indices), for explanations.
    pub(crate) best: Vec<u32>,
    done: Option<Progress>,
}

/// Marks call entries in `entry`.
const CALL: u32 = 1 << 31;
/// Marks read-only operations on the stack.
const PURE: u32 = 1 << 31;

impl<'m, M: Model> Search<'m, M> {
    /// Prepares a search over `ops` with invocation/return times (`None`: never returned).
    /// Return times before the invocation are treated as equal to it.
    pub(crate) fn new(model: &'m M, ops: Vec<M::Op>, times: &[(u64, Option<u64>)]) -> Self {
        let n = ops.len();
        assert!(
            n < (CALL as usize) / 2,
            "partition too large for the search"
        );
        // (time, is_return, op) sorted: calls before returns at equal times.
        let mut events: Vec<(u64, bool, u32)> = Vec::with_capacity(2 * n);
        for (i, &(call, ret)) in times.iter().enumerate() {
            events.push((call, false, i as u32));
            events.push((ret.map_or(u64::MAX, |r| r.max(call)), true, i as u32));
        }
        events.sort_unstable();
        let head = 2 * n as u32;
        let tail = head + 1;
        let mut entry = vec![0u32; 2 * n];
        let mut ret_entry = vec![0u32; n];
        let mut next = vec![0u32; 2 * n + 2];
        let mut prev = vec![0u32; 2 * n + 2];
        for (i, &(_, is_ret, op)) in events.iter().enumerate() {
            entry[i] = if is_ret { op } else { op | CALL };
            if is_ret {
                ret_entry[op as usize] = i as u32;
            }
        }
        // Chain head → 0 → 1 → … → 2n-1 → tail.
        let mut last = head;
        for i in 0..(2 * n as u32) {
            next[last as usize] = i;
            prev[i as usize] = last;
            last = i;
        }
        next[last as usize] = tail;
        prev[tail as usize] = last;
        next[tail as usize] = tail;
        prev[head as usize] = head;

        let completed: Vec<bool> = times.iter().map(|t| t.1.is_some()).collect();
        let remaining = completed.iter().filter(|&&c| c).count();
        // Fixed seed: the memo's behaviour, and so every verdict, is deterministic.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let zobrist = (0..n)
            .map(|_| {
                seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
                fmix64(seed)
            })
            .collect();
        let words = n.div_ceil(64).max(1);
        let pure = ops.iter().map(|op| model.is_read_only(op)).collect();
        let init = model.init();
        Search {
            model,
            ops,
            completed,
            pure,
            next,
            prev,
            entry,
            ret_entry,
            head,
            tail,
            zobrist,
            linearized: vec![0; words],
            lin_hash: 0,
            states: Interner::new(init),
            dense: vec![UNSET; n],
            dense_rows: (DENSE_ENTRIES / n.max(1)).max(1),
            trans: MixMap::default(),
            state: 0,
            stack: Vec::new(),
            fresh: true,
            cur: if n == 0 { tail } else { 0 },
            remaining,
            memo: Memo::new(words),
            steps: 0,
            best: Vec::new(),
            done: None,
        }
    }

    /// How much the search may add to the process before the next memory check: the
    /// doubling of any table that could fill up within [`CHECK_EVERY`] steps (the new table
    /// exists beside the old one while it is rebuilt), plus that many new memo entries and
    /// states.
    pub(crate) fn growth_reserve(&self) -> usize {
        let window = CHECK_EVERY as usize;
        let words = self.linearized.len();
        let trans = if self.trans.len() + window >= self.trans.capacity() {
            // hashbrown holds 7/8 of its buckets; each is a 16-byte entry and a control byte.
            let buckets = (self.trans.capacity() * 8 / 7 + 1).next_power_of_two();
            table_growth(buckets.max(window), 17)
        } else {
            0
        };
        let dense_rows_left = self.states.len() < self.dense_rows;
        let dense = if dense_rows_left {
            vec_growth(
                self.dense.len(),
                self.dense.capacity(),
                window * self.ops.len(),
                4,
            )
        } else {
            0
        };
        self.memo.growth_within(window)
            + self.states.growth_within(window)
            + trans
            + dense
            + window * ((1 + words) * 8 + STATE_HEAP)
    }

    /// Approximate heap bytes held by the search.
    pub(crate) fn bytes(&self) -> usize {
        self.memo.bytes()
            + self.dense.capacity() * 4
            + self.trans.capacity() * 16
            + self.states.bytes()
            + self.stack.capacity() * 8
    }

    /// The state reached by applying `op` in `state`, through the transition cache.
    #[inline]
    fn transition(&mut self, state: u32, op: u32) -> Option<u32> {
        if self.pure[op as usize] {
            // Read-only: the next state is this one, and the model's check is usually
            // cheaper than a cache lookup (no hashing, nothing stored).
            let ok = self
                .model
                .step(self.states.get(state), &self.ops[op as usize])
                .is_some();
            return ok.then_some(state);
        }
        let n = self.ops.len();
        let slot = state as usize * n + op as usize;
        let dense = (state as usize) < self.dense_rows;
        let key = (u64::from(state) << 32) | u64::from(op);
        let cached = if dense {
            self.dense[slot]
        } else {
            self.trans.get(&key).copied().unwrap_or(UNSET)
        };
        if cached != UNSET {
            return (cached != REJECT).then_some(cached);
        }
        let next = self
            .model
            .step(self.states.get(state), &self.ops[op as usize])
            .map(|s| self.intern(s));
        let v = next.unwrap_or(REJECT);
        if dense {
            self.dense[slot] = v;
        } else {
            self.trans.insert(key, v);
        }
        next
    }

    fn intern(&mut self, s: M::State) -> u32 {
        let before = self.states.len();
        let id = self.states.intern(s);
        if self.states.len() == before {
            return id; // seen before
        }
        if self.states.len() <= self.dense_rows {
            let n = self.ops.len();
            self.dense.resize(self.dense.len() + n, UNSET);
        }
        id
    }

    #[inline]
    fn toggle(&mut self, op: u32) {
        self.linearized[(op >> 6) as usize] ^= 1u64 << (op & 63);
        self.lin_hash ^= self.zobrist[op as usize];
    }

    /// Unlinks call entry `e` and its return entry.
    #[inline]
    fn lift(&mut self, e: u32, r: u32) {
        for x in [e, r] {
            let (p, n) = (self.prev[x as usize], self.next[x as usize]);
            self.next[p as usize] = n;
            self.prev[n as usize] = p;
        }
    }

    /// Relinks what [`Self::lift`] unlinked (must be the most recent lift still in effect).
    #[inline]
    fn unlift(&mut self, e: u32, r: u32) {
        for x in [r, e] {
            let (p, n) = (self.prev[x as usize], self.next[x as usize]);
            self.next[p as usize] = x;
            self.prev[n as usize] = x;
        }
    }

    /// Runs at most `slice` steps. Every [`CHECK_EVERY`] steps (and before the first) checks
    /// `deadline`, the memory budget (with `others` bytes held by the other partitions) and
    /// `stop`.
    pub(crate) fn run(
        &mut self,
        slice: u64,
        deadline: Option<Instant>,
        memory: &Memory,
        others: usize,
        stop: Option<&AtomicBool>,
    ) -> Progress {
        if let Some(p) = self.done {
            return p;
        }
        let mut left = slice;
        // Checks are due when `left` falls to `check_at`; forced-move scans take several
        // steps at once, so a multiple of CHECK_EVERY could be jumped over.
        let mut check_at = slice;
        let result = 'search: loop {
            if self.remaining == 0 {
                break Progress::Linearizable;
            }
            if left == 0 {
                break Progress::Paused;
            }
            if left <= check_at {
                check_at = left.saturating_sub(CHECK_EVERY);
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    self.steps += slice - left;
                    return Progress::OutOfTime;
                }
                if memory.exceeded(self.bytes(), others, self.growth_reserve()) {
                    self.steps += slice - left;
                    return Progress::OutOfMemory;
                }
                if stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
                    self.steps += slice - left;
                    return Progress::Stopped;
                }
            }
            left -= 1;
            if self.fresh {
                // First visit of this configuration: a read-only operation that can go
                // next is a forced move (see `is_read_only`); take it before branching.
                self.fresh = false;
                let (forced, scanned) = self.find_forced();
                left = left.saturating_sub(scanned);
                if let Some(e) = forced {
                    self.cur = e;
                }
            }
            let e = self.cur;
            if e != self.tail && self.entry[e as usize] & CALL != 0 {
                let op = self.entry[e as usize] & !CALL;
                if let Some(ns) = self.transition(self.state, op) {
                    self.toggle(op);
                    let pure = self.pure[op as usize];
                    if self.memo.insert(self.lin_hash, ns, &self.linearized) {
                        self.stack
                            .push((if pure { e | PURE } else { e }, self.state));
                        self.state = ns;
                        self.lift(e, self.ret_entry[op as usize]);
                        if self.completed[op as usize] {
                            self.remaining -= 1;
                        }
                        if self.stack.len() > self.best.len() {
                            self.record_best();
                        }
                        self.cur = self.next[self.head as usize];
                        self.fresh = true;
                        continue;
                    }
                    self.toggle(op);
                    if !pure {
                        self.cur = self.next[e as usize];
                        continue;
                    }
                    // A read-only operation that could go next leads to a configuration
                    // already explored (and failed): so does every alternative here.
                } else {
                    self.cur = self.next[e as usize];
                    continue;
                }
            }
            // A return entry (or a forced failure): backtrack. Popping a read-only
            // operation means its level failed as a whole, so keep popping.
            loop {
                let Some((c, s)) = self.stack.pop() else {
                    break 'search Progress::NotLinearizable;
                };
                let pure = c & PURE != 0;
                let c = c & !PURE;
                let op = self.entry[c as usize] & !CALL;
                self.toggle(op);
                self.state = s;
                self.unlift(c, self.ret_entry[op as usize]);
                if self.completed[op as usize] {
                    self.remaining += 1;
                }
                self.cur = self.next[c as usize];
                if !pure {
                    break;
                }
            }
        };
        self.steps += slice - left;
        if result != Progress::Paused {
            self.done = Some(result);
        }
        result
    }

    pub(crate) fn debug_stats(&self) -> String {
        format!(
            "{} states, {} transitions, {} KiB",
            self.states.len(),
            self.trans.len(),
            self.bytes() >> 10
        )
    }

    /// The first call entry, among those real time allows next, of a read-only operation
    /// that the current state accepts; and how many entries were looked at.
    fn find_forced(&mut self) -> (Option<u32>, u64) {
        let mut e = self.next[self.head as usize];
        let mut scanned = 0;
        while e != self.tail && self.entry[e as usize] & CALL != 0 {
            scanned += 1;
            let op = self.entry[e as usize] & !CALL;
            if self.pure[op as usize] && self.transition(self.state, op).is_some() {
                return (Some(e), scanned);
            }
            e = self.next[e as usize];
        }
        (None, scanned)
    }

    /// Copies the stack into `best` (a new longest linearized sequence).
    fn record_best(&mut self) {
        self.best.clear();
        let entry = &self.entry;
        self.best.extend(
            self.stack
                .iter()
                .map(|&(c, _)| entry[(c & !PURE) as usize] & !CALL),
        );
    }

    /// Number of memo entries.
    pub(crate) fn memo_len(&self) -> usize {
        self.memo.len()
    }
}
