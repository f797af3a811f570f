//! Generated replicated-store histories, deterministic for a seed.
//!
//! * [`small_history`]: a handful of operations, for cross-checking the checkers with a
//!   brute-force oracle. A simulated store serves each read from a random subset of the
//!   writes, so the session guarantees hold or fail by chance; clients pass session
//!   contexts, read contexts, random contexts or none; some answers, contexts and final
//!   states are corrupted outright. Both verdicts of every property come up often.
//! * [`store_history`]: a long history of a Dynamo-like store with sticky, session-aware
//!   clients and anti-entropy, for measuring the checkers' speed.

use super::history::{Action, Completion, Datum, History, Recorder};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Open,
    Ok,
    Fail,
    Unknown,
}

/// A write as the generator tracks it.
#[derive(Clone, Debug)]
struct Written {
    key: usize,
    delete: bool,
    session: usize,
    value: Datum,
    /// The writes its context names (indices into the generator's writes).
    context: Vec<usize>,
    status: Status,
    observed: bool,
}

struct Small {
    rng: Xoshiro256PlusPlus,
    rec: Recorder,
    time: u64,
    writes: Vec<Written>,
    /// Per session: the open operation (a write's index, or a read's key).
    open: Vec<Option<Open>>,
    /// Per session and key: what the session knows (observed or wrote and saw acknowledged).
    known: Vec<BTreeMap<usize, BTreeSet<usize>>>,
    /// Per session and key: what its last read observed.
    last_read: Vec<BTreeMap<usize, Vec<usize>>>,
    /// Values used for phantoms.
    phantoms: usize,
    /// Whether reads see most writes (planned histories, whose point is the last read).
    generous: bool,
}

/// What an operation does, in a planned sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Read,
    Write,
    Delete,
}

/// Which context a write passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Passing {
    /// Everything its session knows of the key (a session-aware client).
    Known,
    /// What its session's last read of the key observed (a Riak-style client).
    LastRead,
    /// Nothing (a blind write).
    Nothing,
    /// Random earlier writes, any key.
    Random,
}

/// One planned operation.
#[derive(Clone, Copy, Debug)]
struct Step {
    session: usize,
    kind: Kind,
    key: usize,
    passing: Passing,
}

#[derive(Clone, Copy, Debug)]
enum Open {
    Write(usize),
    Read(usize),
}

fn session_name(s: usize) -> Datum {
    Datum::Str(format!("c{s}"))
}

fn key_name(k: usize) -> Datum {
    Datum::Str(format!("k{k}"))
}

impl Small {
    fn chance(&mut self, percent: u32) -> bool {
        self.rng.random_range(0..100) < percent
    }

    fn tick(&mut self) -> u64 {
        self.time += self.rng.random_range(0..3);
        self.time
    }

    /// `set` and every write its members' contexts name, transitively (all keys).
    fn closure(&self, set: &BTreeSet<usize>) -> BTreeSet<usize> {
        let mut out = set.clone();
        let mut todo: Vec<usize> = set.iter().copied().collect();
        while let Some(w) = todo.pop() {
            for &c in &self.writes[w].context {
                if out.insert(c) {
                    todo.push(c);
                }
            }
        }
        out
    }

    /// The maximal writes of `d` when `a` overwrites `b` iff `b` is in `a`'s context
    /// closure, or (with `sessions`) `b` is an acknowledged earlier write of `a`'s session.
    fn maximal(&self, d: &BTreeSet<usize>, sessions: bool) -> Vec<usize> {
        d.iter()
            .copied()
            .filter(|&b| {
                !d.iter().any(|&a| {
                    a != b
                        && (self.closure(&BTreeSet::from([a])).contains(&b)
                            || (sessions
                                && self.writes[a].session == self.writes[b].session
                                && self.writes[a].key == self.writes[b].key
                                && b < a
                                && self.writes[b].status == Status::Ok))
                })
            })
            .collect()
    }

    fn invoke(&mut self, s: usize, keys: usize) {
        let key = self.rng.random_range(0..keys);
        let roll = self.rng.random_range(0..100);
        let kind = match roll {
            0..45 => Kind::Read,
            45..85 => Kind::Write,
            _ => Kind::Delete,
        };
        let passing = match self.rng.random_range(0..100) {
            0..30 => Passing::Known,
            30..50 => Passing::LastRead,
            50..85 => Passing::Nothing,
            _ => Passing::Random,
        };
        self.invoke_step(Step {
            session: s,
            kind,
            key,
            passing,
        });
    }

    fn invoke_step(&mut self, step: Step) {
        let Step {
            session: s,
            kind,
            key,
            passing,
        } = step;
        let time = self.tick();
        if kind == Kind::Read {
            self.rec
                .invoke(
                    session_name(s),
                    Action::Read,
                    key_name(key),
                    None,
                    Vec::new(),
                    time,
                )
                .expect("generated read");
            self.open[s] = Some(Open::Read(key));
            return;
        }
        let delete = kind == Kind::Delete;
        let mut context: Vec<usize> = match passing {
            Passing::Known => self.known[s]
                .get(&key)
                .into_iter()
                .flatten()
                .copied()
                .collect(),
            Passing::LastRead => self.last_read[s].get(&key).cloned().unwrap_or_default(),
            Passing::Nothing => Vec::new(),
            Passing::Random => (0..self.writes.len()).filter(|_| self.chance(30)).collect(),
        };
        context.retain(|&c| self.writes[c].status != Status::Fail || self.chance(20));
        let mut names: Vec<Datum> = context
            .iter()
            .map(|&c| self.writes[c].value.clone())
            .collect();
        if self.chance(3) {
            self.phantoms += 1;
            names.push(Datum::Str(format!("zz{}", self.phantoms)));
        }
        let n = self.writes.len();
        let value = Datum::Str(format!("{}{n}", if delete { "d" } else { "a" }));
        self.rec
            .invoke(
                session_name(s),
                if delete {
                    Action::Delete
                } else {
                    Action::Write
                },
                key_name(key),
                Some(value.clone()),
                names,
                time,
            )
            .expect("generated write");
        self.writes.push(Written {
            key,
            delete,
            session: s,
            value,
            context,
            status: Status::Open,
            observed: false,
        });
        self.open[s] = Some(Open::Write(n));
    }

    fn complete(&mut self, s: usize) {
        let Some(open) = self.open[s].take() else {
            return;
        };
        let time = self.tick();
        let session = session_name(s);
        match open {
            Open::Write(w) => {
                let roll = self.rng.random_range(0..100);
                let fail_percent = if self.writes[w].observed { 2 } else { 18 };
                let (status, completion) = if roll < 62 {
                    (Status::Ok, Completion::Written { version: None })
                } else if roll < 100 - fail_percent {
                    (Status::Unknown, Completion::Unknown)
                } else {
                    (Status::Fail, Completion::Fail)
                };
                self.writes[w].status = status;
                if status == Status::Ok {
                    let key = self.writes[w].key;
                    self.known[s].entry(key).or_default().insert(w);
                }
                self.rec
                    .complete(&session, completion, time)
                    .expect("completes");
            }
            Open::Read(key) => {
                let roll = self.rng.random_range(0..100);
                if roll < 6 {
                    self.rec
                        .complete(&session, Completion::Fail, time)
                        .expect("fails");
                    return;
                }
                if roll < 14 {
                    self.rec
                        .complete(&session, Completion::Unknown, time)
                        .expect("info");
                    return;
                }
                let candidates: Vec<usize> = (0..self.writes.len())
                    .filter(|&w| {
                        self.writes[w].key == key
                            && (self.writes[w].status != Status::Fail || self.chance(5))
                    })
                    .collect();
                let (values, context) = if self.chance(82) {
                    // A replica state: a random subset, closed under contexts.
                    let known = self.known[s].get(&key).cloned().unwrap_or_default();
                    let picked: BTreeSet<usize> = candidates
                        .iter()
                        .copied()
                        .filter(|w| {
                            let p = if self.generous {
                                85
                            } else if known.contains(w) {
                                60
                            } else {
                                55
                            };
                            self.chance(p)
                        })
                        .collect();
                    let d: BTreeSet<usize> = self
                        .closure(&picked)
                        .into_iter()
                        .filter(|&w| self.writes[w].key == key)
                        .collect();
                    let sessions = self.chance(25);
                    let max = self.maximal(&d, sessions);
                    let mut values = Vec::new();
                    let mut context = Vec::new();
                    for &w in &max {
                        if self.writes[w].delete {
                            if !self.chance(8) {
                                context.push(w);
                            }
                        } else {
                            values.push(w);
                        }
                    }
                    // A sibling dropped from the answer but left in its context.
                    if values.len() > 1 && self.chance(10) {
                        let i = self.rng.random_range(0..values.len());
                        context.push(values.remove(i));
                    }
                    if self.chance(30) {
                        let below: Vec<usize> =
                            d.iter().copied().filter(|w| !max.contains(w)).collect();
                        if !below.is_empty() {
                            context.push(below[self.rng.random_range(0..below.len())]);
                        }
                    }
                    (values, context)
                } else {
                    let values = candidates
                        .iter()
                        .copied()
                        .filter(|_| self.chance(40))
                        .collect();
                    let context = candidates
                        .iter()
                        .copied()
                        .filter(|_| self.chance(20))
                        .collect();
                    (values, context)
                };
                for &w in values.iter().chain(&context) {
                    self.writes[w].observed = true;
                }
                let seen: Vec<usize> = values.iter().chain(&context).copied().collect();
                self.known[s]
                    .entry(key)
                    .or_default()
                    .extend(seen.iter().copied());
                self.last_read[s].insert(key, seen);
                let name = |w: &usize| self.writes[*w].value.clone();
                let mut values: Vec<Datum> = values.iter().map(name).collect();
                let context: Vec<Datum> = context.iter().map(name).collect();
                if self.chance(3) {
                    self.phantoms += 1;
                    values.push(Datum::Str(format!("zz{}", self.phantoms)));
                }
                self.rec
                    .complete(&session, Completion::Read { values, context }, time)
                    .expect("completes");
            }
        }
    }

    fn final_states(&mut self, keys: usize) {
        self.rec.replicas_known();
        let replicas = self.rng.random_range(1..=3);
        for key in 0..keys {
            if self.chance(10) {
                continue; // listed by no replica
            }
            let happened: BTreeSet<usize> = (0..self.writes.len())
                .filter(|&w| {
                    let x = &self.writes[w];
                    x.status == Status::Ok
                        || (x.status != Status::Fail && (x.observed || self.chance(40)))
                })
                .collect();
            let all: BTreeSet<usize> = self
                .closure(&happened)
                .into_iter()
                .filter(|&w| self.writes[w].key == key && self.writes[w].status != Status::Fail)
                .collect();
            let sessions = self.chance(30);
            let max = self.maximal(&all, sessions);
            let held: Vec<usize> = max
                .iter()
                .copied()
                .filter(|&w| !self.writes[w].delete || self.chance(30))
                .collect();
            // Corrupt one replica (they disagree), or all alike (a write lost, or one
            // that should not be there).
            let corrupt = self.chance(35);
            let everywhere = self.chance(50);
            let victim = self.rng.random_range(0..replicas);
            let drop = !held.is_empty() && self.chance(60);
            let dropped = if drop {
                self.rng.random_range(0..held.len())
            } else {
                0
            };
            let added = self.rng.random_range(0..self.writes.len().max(1));
            for r in 0..replicas {
                let mut mine = held.clone();
                if corrupt && (everywhere || r == victim) {
                    if drop {
                        mine.remove(dropped);
                    } else if !self.writes.is_empty() {
                        mine.push(added);
                    }
                }
                let values = mine.iter().map(|&w| self.writes[w].value.clone()).collect();
                self.rec
                    .replica(Datum::Str(format!("n{r}")), key_name(key), values)
                    .expect("one state per replica and key");
            }
        }
    }
}

/// A history of at most 8 operations by 2–3 sessions on 1–2 keys (see the module docs).
pub fn small_history(seed: u64) -> History {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let sessions = rng.random_range(2..=3usize);
    let mut keys = if rng.random_range(0..100) < 60 { 1 } else { 2 };
    let target = rng.random_range(4..=8usize);
    let mut g = Small {
        rng,
        rec: Recorder::new(),
        time: 0,
        writes: Vec::new(),
        open: vec![None; sessions],
        known: vec![BTreeMap::new(); sessions],
        last_read: vec![BTreeMap::new(); sessions],
        phantoms: 0,
        generous: false,
    };
    // Some histories open with a plan: the shapes that monotonic writes, writes-follow-reads
    // and causality through another key are about (a session's blind writes; a read, then
    // a blind write; a write seen through a write to another key) are rare by chance in
    // eight operations.
    let step = |session, kind, key, passing| Step {
        session,
        kind,
        key,
        passing,
    };
    let (w, r, blind) = (Kind::Write, Kind::Read, Passing::Nothing);
    let mut plan: Vec<Step> = match g.rng.random_range(0..100) {
        0..15 => vec![
            step(0, w, 0, blind),
            step(0, w, 0, blind),
            step(1, r, 0, blind),
        ],
        15..35 => vec![
            step(0, w, 0, blind),
            step(1, r, 0, blind),
            step(1, w, 0, blind),
            step(sessions - 1, r, 0, blind),
        ],
        35..55 => {
            keys = 2;
            let last = if g.chance(50) { 0 } else { sessions - 1 };
            vec![
                step(0, w, 0, blind),
                step(0, w, 1, blind),
                step(1, r, 1, blind),
                step(1, w, 0, blind),
                step(last, r, 0, blind),
            ]
        }
        _ => Vec::new(),
    };
    g.generous = !plan.is_empty();
    plan.reverse();
    let mut invoked = 0;
    for _ in 0..64 {
        if let Some(&next) = plan.last() {
            if g.open[next.session].is_some() {
                g.complete(next.session);
            } else {
                g.invoke_step(next);
                plan.pop();
                invoked += 1;
            }
            continue;
        }
        let s = g.rng.random_range(0..sessions);
        if g.open[s].is_some() {
            // Leave some operations open at the end: they stay unknown.
            if invoked < target || g.chance(85) {
                g.complete(s);
            }
        } else if invoked < target {
            g.invoke(s, keys);
            invoked += 1;
        } else if g.open.iter().all(Option::is_none) {
            break;
        }
    }
    if g.chance(65) {
        g.final_states(keys);
    }
    g.rec.finish()
}

/// The shape of a [`store_history`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreShape {
    /// Operations in the history.
    pub operations: usize,
    /// Client sessions.
    pub sessions: usize,
    /// Keys (each replicated on 3 of 5 nodes).
    pub keys: usize,
    /// Percent of writes whose outcome the client never learns (applied or not, by a coin).
    pub unknown_percent: u32,
}

impl StoreShape {
    /// `operations` operations by 16 sessions on one key per 50 operations, 2% of writes of
    /// unknown outcome.
    pub fn of(operations: usize) -> Self {
        StoreShape {
            operations,
            sessions: 16,
            keys: (operations / 50).max(1),
            unknown_percent: 2,
        }
    }
}

/// One replica's state of one key: the sibling writes, by index into the writes.
type Siblings = Vec<u32>;

/// A simulated Dynamo-like store, as [`store_history`] runs it.
struct Store {
    rng: Xoshiro256PlusPlus,
    /// Per write: its value and whether it is a tombstone.
    values: Vec<(Datum, bool)>,
    /// Per write: every write its context covered, transitively (sorted).
    past: Vec<Vec<u32>>,
    /// Per node and key: the siblings.
    state: Vec<BTreeMap<usize, Siblings>>,
}

const NODES: usize = 5;

impl Store {
    /// The nodes that replicate `key`.
    fn replicas(key: usize) -> [usize; 3] {
        [key % NODES, (key + 1) % NODES, (key + 2) % NODES]
    }

    fn covers(&self, w: u32, s: u32) -> bool {
        self.past[w as usize].binary_search(&s).is_ok()
    }

    /// `w` arrives at `node`: siblings it covers go, it joins unless something covers it.
    fn apply(&mut self, node: usize, key: usize, w: u32) {
        let mut sib = self.state[node].remove(&key).unwrap_or_default();
        if !sib.contains(&w) && !sib.iter().any(|&s| self.covers(s, w)) {
            sib.retain(|&s| !self.covers(w, s));
            sib.push(w);
            sib.sort_unstable();
        }
        self.state[node].insert(key, sib);
    }

    /// Anti-entropy for `key`: every replica ends with the merge of all.
    fn repair(&mut self, key: usize) {
        let all: Vec<u32> = Self::replicas(key)
            .iter()
            .flat_map(|&n| self.state[n].get(&key).cloned().unwrap_or_default())
            .collect();
        for n in Self::replicas(key) {
            for &w in &all {
                self.apply(n, key, w);
            }
        }
    }
}

/// A history of a Dynamo-like store (see the module docs): each session reads and writes a
/// key at one replica of it and passes everything it has seen of the key as its context,
/// so the session guarantees and convergence hold; replicas gossip one key every ten
/// operations, and fully once the history ends (the final states). Causal consistency
/// across keys is not promised and does not hold.
pub fn store_history(shape: StoreShape, seed: u64) -> History {
    let rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut rec = Recorder::new();
    let sessions = shape.sessions.max(1);
    let keys = shape.keys.max(1);
    let mut store = Store {
        rng,
        values: Vec::new(),
        past: Vec::new(),
        state: vec![BTreeMap::new(); NODES],
    };
    // Per session and key: the writes it has seen that nothing it saw covers.
    let mut known: Vec<BTreeMap<usize, Vec<u32>>> = vec![BTreeMap::new(); sessions];
    for i in 0..shape.operations {
        let s = store.rng.random_range(0..sessions);
        let key = store.rng.random_range(0..keys);
        let node = Store::replicas(key)[s % 3];
        let time = 2 * i as u64;
        let session = Datum::Int(s as i64);
        let roll = store.rng.random_range(0..100);
        if roll < 50 {
            rec.invoke(
                session.clone(),
                Action::Read,
                key_name(key),
                None,
                Vec::new(),
                time,
            )
            .expect("sessions are sequential");
            let sib = store.state[node].get(&key).cloned().unwrap_or_default();
            let (mut values, mut context) = (Vec::new(), Vec::new());
            for &w in &sib {
                let (v, tombstone) = &store.values[w as usize];
                if *tombstone {
                    context.push(v.clone());
                } else {
                    values.push(v.clone());
                }
            }
            known[s].insert(key, sib);
            rec.complete(&session, Completion::Read { values, context }, time + 1)
                .expect("completes");
        } else {
            let delete = roll >= 90;
            let w = store.values.len() as u32;
            let seen = known[s].get(&key).cloned().unwrap_or_default();
            let mut past: Vec<u32> = seen.clone();
            for &c in &seen {
                past.extend_from_slice(&store.past[c as usize]);
            }
            past.sort_unstable();
            past.dedup();
            let value = Datum::Str(format!("{}{w}", if delete { "d" } else { "w" }));
            store.values.push((value.clone(), delete));
            store.past.push(past);
            let context = seen
                .iter()
                .map(|&c| store.values[c as usize].0.clone())
                .collect();
            let action = if delete {
                Action::Delete
            } else {
                Action::Write
            };
            rec.invoke(
                session.clone(),
                action,
                key_name(key),
                Some(value),
                context,
                time,
            )
            .expect("sessions are sequential");
            let unknown = store.rng.random_range(0..100) < shape.unknown_percent;
            if !unknown || store.rng.random_range(0..2) == 0 {
                store.apply(node, key, w);
            }
            let completion = if unknown {
                Completion::Unknown
            } else {
                // The session knows its own write; it covers what the session had seen.
                known[s].insert(key, vec![w]);
                Completion::Written { version: None }
            };
            rec.complete(&session, completion, time + 1)
                .expect("completes");
        }
        if i % 10 == 9 {
            let k = store.rng.random_range(0..keys);
            store.repair(k);
        }
    }
    rec.replicas_known();
    for key in 0..keys {
        store.repair(key);
        for n in Store::replicas(key) {
            let values = store.state[n]
                .get(&key)
                .into_iter()
                .flatten()
                .map(|&w| store.values[w as usize].0.clone())
                .collect();
            rec.replica(Datum::Str(format!("n{n}")), key_name(key), values)
                .expect("one state per replica and key");
        }
    }
    rec.finish()
}
