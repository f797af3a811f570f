//! Checkers for replicated stores that stay available under partitions (the AP side of CAP):
//! convergence, no lost writes, the session guarantees, causal consistency.
//!
//! Such a store answers a read with a *set* of values — the siblings that concurrent writes
//! left behind — and a causal context; a client passes a context back with its next write,
//! which overwrites what that context covers (Dynamo, Riak). These checkers judge a client
//! history of such a store, and the replicas' final states, against the guarantees it may
//! claim. Each is a named [`Property`]; each anomaly names the operations involved.
//!
//! # The history format
//!
//! JSON: a document `{"events": [...], "replicas": [...]}`, a JSON array of records, or one
//! record per line (JSON lines). Events are in real-time order (the file's order is the
//! order; `time`, in nanoseconds, is informational, optional and must not decrease):
//!
//! ```json
//! {"session": "c0", "type": "invoke", "f": "write", "key": "k", "value": "a1", "context": ["a0"], "time": 10}
//! {"session": "c0", "type": "ok",     "f": "write", "key": "k", "value": "a1", "version": {"n1": 4}, "time": 18}
//! {"session": "c1", "type": "invoke", "f": "read",  "key": "k", "time": 20}
//! {"session": "c1", "type": "ok",     "f": "read",  "key": "k", "values": ["a1", "b3"], "context": ["d2"], "time": 25}
//! {"session": "c1", "type": "invoke", "f": "delete", "key": "k", "value": "d4", "context": ["a1", "b3", "d2"], "time": 30}
//! {"session": "c1", "type": "info",   "f": "delete", "key": "k", "value": "d4", "time": 90}
//! {"replica": "n1", "key": "k", "values": ["a1", "b3"]}
//! ```
//!
//! | field | meaning |
//! |---|---|
//! | `session` | the client session (string or integer); one operation outstanding at a time |
//! | `type` | `invoke`, then `ok` (it happened), `fail` (it certainly did not) or `info` (unknown; an operation never completed is unknown too) |
//! | `f` | `read`, `write` or `delete` (a delete writes a tombstone) |
//! | `key` | the key (string or integer) |
//! | `value` | a write's or delete's value: **unique in the history**, so reads name the writes they saw |
//! | `context` | on a write's or delete's `invoke`: the writes (by value) whose context the client passed, which it overwrites; on a read's `ok`: the writes its answer's context covers beyond `values` — above all the tombstones it found |
//! | `values` | on a read's `ok`: the siblings returned (`[]`: nothing) |
//! | `version` | on a write's `ok`: the store's version for it (any JSON; shown, never interpreted) |
//! | `replica` | a final-state record: what replica `replica` holds for `key` (`values`) after heal and quiescence; a key no replica lists is taken to be held by none |
//!
//! A read that finds a key deleted must name the tombstone in its `context` (a store that
//! collects tombstones must still return the version that covers them): a read that returns
//! nothing and names nothing observed nothing.
//!
//! A harness records the same with a [`Recorder`], event by event, checks the [`History`]
//! with [`check`], and can write it out in the file format with [`History::to_json`]:
//!
//! ```
//! use squall::check::eventual::{check, Action, Completion, Datum, Model, Recorder};
//!
//! let mut r = Recorder::new();
//! let c0 = Datum::from("c0");
//! r.invoke(c0.clone(), Action::Write, "k".into(), Some("a".into()), vec![], 10)?;
//! r.complete(&c0, Completion::Written { version: None }, 12)?;
//! r.invoke(c0.clone(), Action::Read, "k".into(), None, vec![], 20)?;
//! // The replica that answered had not seen c0's own write.
//! r.complete(&c0, Completion::Read { values: vec![], context: vec![] }, 22)?;
//! let anomalies = check(&r.finish(), Model::Session.properties())?;
//! assert_eq!(anomalies.len(), 1);
//! assert_eq!(anomalies[0].property, "read your writes");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Definitions
//!
//! Writes are identified by their values. A *valid observation* names a write that did not
//! fail: a read observes (returns or names in its context) writes to its key invoked before
//! it completed; a write's context names writes invoked before it was. Invalid ones are
//! reported ("valid observations") and otherwise ignored. `obs(r)` is what read `r`
//! validly observed, `V(r)` the live values (not tombstones) among what it returned.
//!
//! The relations, each transitive (and acyclic, since each edge goes forward in real time):
//!
//! - **session order**: `a → b` when `a` and `b` are in one session, `a` before `b`, and
//!   `a` succeeded (a client does not know the version of a write whose outcome it never
//!   learned, so such a write precedes nothing its session does later);
//! - **reads-from**: `w → r` for every `w` in `obs(r)`;
//! - **contexts**: `c → w` when `w`'s context names `c` (`c` may be another key's write);
//! - **happens-before** `→hb`: session order ∪ reads-from ∪ contexts;
//! - **per-key happens-before** `→k`: the same with session order only between operations
//!   on the same key. A store that versions each key on its own (version vectors per key,
//!   as Dynamo) can know no more: a session's write to `k2` does not tell it that the
//!   session wrote `k1` before. It is the order within which such a store may overwrite.
//!
//! Each read is served from some replica state: a set `D` of writes to its key, with an
//! order saying which overwrites which. The order must contain the contexts relation (a
//! write overwrites what its context covers), must lie within per-key happens-before
//! (concurrent writes stay siblings: no last-writer-wins), and `D` contains what its
//! members' contexts cover. The read returns the live maximal writes of `D`, observes a
//! subset of `D`, and names every maximal tombstone. A guarantee holds when states can be
//! chosen for all reads that also meet its own condition (Terry et al., *Session
//! guarantees for weakly consistent replicated data*, 1994, adapted to sibling sets):
//!
//! - **valid observations** (any state): no read returns a value together with a write
//!   whose context overwrote it;
//! - **no dropped siblings** (some state): a live write in a read's context is returned, or
//!   precedes (`→k`) another write the read observed;
//! - **read-your-writes**: `D(r)` contains every write its session made to the key before
//!   `r` and saw acknowledged. Equivalently `r` *reflects* each: the write precedes or is
//!   (`→k`) a write `r` observed, and no value `r` returns is covered by its context;
//! - **monotonic reads**: `D(r)` contains `D(r')` for every earlier successful read `r'` of
//!   the session on the key; equivalently `r` reflects everything `r'` observed;
//! - **monotonic writes**: wherever a session's later write to a key is, its acknowledged
//!   earlier write to that key is too, and ordered before it; so no read returns a value
//!   that precedes, in the contexts relation extended by these pairs, a write it observed;
//! - **writes-follow-reads**: wherever a session's write to a key is, what the session's
//!   earlier reads of that key observed is too, ordered before it; same shape;
//! - **causal consistency** (the order is `→hb` itself): `D(r)` is every write to the key
//!   that happened before `r`; the read returns those no other of them causally overwrote —
//!   none missing, none overwritten, every live write of its context overwritten;
//! - **convergence**: after heal and quiescence every replica of a key holds the same
//!   values, and they are what the writes imply: some order (as above) over every write
//!   that happened — acknowledged, observed, held by a replica, or named in the context of
//!   one that happened; writes of unknown outcome may be added — has them as its live
//!   maximal writes;
//! - **no lost writes**: every acknowledged write is held by some replica, or precedes
//!   (`→k`) a value a replica holds or a delete.
//!
//! A brute-force oracle in this module's tests enumerates those states and orders on small
//! generated histories and agrees with the checkers on every one.
//!
//! # Cost
//!
//! Reachability in each relation is answered with vector clocks over chains — sessions, or
//! sessions and keys — instead of transitive closures: a clock has about one entry per
//! session when each session's writes carry the session's context (as a session-aware
//! client's do), so the checks run in about `n · s · log n` for `n` operations and `s`
//! sessions (`squall bench eventual`; BENCHMARKS.md). Blind writes (no contexts) grow the
//! contexts relation's clocks; writes of unknown outcome that reads observed are checked
//! one by one by causal consistency and monotonic reads.

pub mod bench;
mod causal;
mod causality;
mod convergence;
pub mod format;
pub mod generate;
pub mod history;
mod observations;
#[cfg(test)]
mod oracle;
mod reach;
mod sessions;

pub use format::{parse, ParseError};
pub use history::{
    Action, Completion, Datum, History, Instant, OpId, Operation, Outcome, RecordError, Recorder,
    ReplicaState,
};

use crate::check::property::Property;
use crate::check::Violation;
use causality::Analysis;
use reach::Id;
use serde::Serialize;
use std::fmt;

/// The properties, as named data.
pub mod properties {
    use crate::check::property::Property;

    /// Observations name real writes; no read returns a value a write it observed overwrote.
    pub const VALID_OBSERVATIONS: Property = Property::consistency(
        "valid observations",
        "every value a read returns or names in its context, and every write a write names in its context, was written to that key (a read's) by a write that did not fail, invoked before the observer (a read: before it completed); no read returns a value together with a write whose context overwrote it",
    );
    /// A read's context accounts for its siblings.
    pub const NO_DROPPED_SIBLINGS: Property = Property::consistency(
        "no dropped siblings",
        "every live write a read names in its context is returned by that read, or precedes (per-key happens-before) another write the read observed",
    );
    /// Read-your-writes.
    pub const READ_YOUR_WRITES: Property = Property::consistency(
        "read your writes",
        "a read reflects every write its session made to that key and saw acknowledged: it observes the write or a write after it (per-key happens-before), and returns no value that write's context covers",
    );
    /// Monotonic reads.
    pub const MONOTONIC_READS: Property = Property::consistency(
        "monotonic reads",
        "a read reflects every write its session's earlier reads of that key observed: it observes each or a write after it, and returns no value one's context covers",
    );
    /// Monotonic writes.
    pub const MONOTONIC_WRITES: Property = Property::consistency(
        "monotonic writes",
        "a session's acknowledged write is ordered before its later writes to that key wherever they are: no read returns it (or what it overwrote) together with a later one (or what overwrote that)",
    );
    /// Writes-follow-reads.
    pub const WRITES_FOLLOW_READS: Property = Property::consistency(
        "writes follow reads",
        "what a session's read observed is ordered before the session's later writes to that key wherever they are: no read returns it together with such a write (or what overwrote that)",
    );
    /// Causal consistency.
    pub const CAUSAL_CONSISTENCY: Property = Property::consistency(
        "causal consistency",
        "every read returns the writes to its key that happened before it (session order, reads-from, contexts) which no other such write overwrote: none missing, none causally overwritten",
    );
    /// Convergence after heal and quiescence.
    pub const CONVERGENCE: Property = Property::consistency(
        "convergence",
        "after heal and quiescence every replica of a key holds the same values, and they are what the writes imply: none overwritten (through contexts) by a write that happened, and every write that happened is held or precedes (per-key happens-before) a value held or a delete",
    );
    /// No acknowledged write lost.
    pub const NO_LOST_WRITES: Property = Property::consistency(
        "no lost writes",
        "after heal and quiescence every acknowledged write is held by some replica, or precedes (per-key happens-before) a value a replica holds or a delete",
    );

    /// Every property, in the order checks run: the session model's, the convergence
    /// model's, then causal consistency ([`super::Model`] takes its lists from here).
    pub const ALL: [Property; 9] = [
        VALID_OBSERVATIONS,
        NO_DROPPED_SIBLINGS,
        READ_YOUR_WRITES,
        MONOTONIC_READS,
        MONOTONIC_WRITES,
        WRITES_FOLLOW_READS,
        CONVERGENCE,
        NO_LOST_WRITES,
        CAUSAL_CONSISTENCY,
    ];
}

use properties::*;

/// Groups of properties, as `squall check --model` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    /// The session guarantees (and what they presume of single reads).
    Session,
    /// Causal consistency (and valid observations).
    Causal,
    /// Convergence and no lost writes (they need the replicas' final states).
    Convergence,
}

impl Model {
    /// The model's properties.
    pub fn properties(self) -> &'static [Property] {
        const CAUSAL: [Property; 2] = [VALID_OBSERVATIONS, CAUSAL_CONSISTENCY];
        match self {
            Model::Session => &ALL[..6],
            Model::Causal => &CAUSAL,
            Model::Convergence => &ALL[6..8],
        }
    }
}

/// An operation an anomaly involves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OpRef {
    /// Its session.
    pub session: Datum,
    /// Its position in the session, from 1 (as messages print it: `c0 #3`).
    pub number: usize,
    /// Its source line (0 when not read from a file).
    pub line: usize,
    /// What it did, as messages print it.
    pub operation: String,
}

/// A violation of one of the properties, naming what is involved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Anomaly {
    /// The property's name.
    pub property: &'static str,
    /// The key.
    pub key: Datum,
    /// The operations involved; the one where it shows comes first.
    pub operations: Vec<OpRef>,
    /// The replicas involved (final-state anomalies).
    pub replicas: Vec<Datum>,
    /// What happened, naming the operations.
    pub explanation: String,
}

impl Anomaly {
    /// An anomaly of `property` involving `ops` (the first shows it; the key is its key).
    fn new(property: &'static Property, a: &Analysis<'_>, ops: &[Id], explanation: String) -> Self {
        let key = a.op(ops[0]).key.clone();
        let mut seen = Vec::with_capacity(ops.len());
        let operations = ops
            .iter()
            .filter(|&&id| {
                // An operation may play two parts (the overwritten write and the session's
                // write); list it once.
                let first = !seen.contains(&id);
                seen.push(id);
                first
            })
            .map(|&id| {
                let op = a.op(id);
                OpRef {
                    session: op.session.clone(),
                    number: op.index + 1,
                    line: op.line,
                    operation: op.describe(),
                }
            })
            .collect();
        Anomaly {
            property: property.name,
            key,
            operations,
            replicas: Vec::new(),
            explanation,
        }
    }

    fn final_state(
        property: &'static Property,
        key: Datum,
        replicas: Vec<Datum>,
        explanation: String,
    ) -> Self {
        Anomaly {
            property: property.name,
            key,
            operations: Vec::new(),
            replicas,
            explanation,
        }
    }

    /// As the harness reports broken properties.
    pub fn to_violation(&self) -> Violation {
        Violation::new(
            self.property,
            format!("key {}: {}", self.key, self.explanation),
        )
    }
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: key {}: {}",
            self.property, self.key, self.explanation
        )
    }
}

/// Why a history cannot be checked for some properties.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// Final-state properties asked for, but the history has no final states.
    #[error("{0} needs the replicas' final states (\"replicas\" in the history), and this history has none")]
    NoFinalStates(&'static str),
    /// A property this module does not check.
    #[error("`{0}` is not a property of replicated-store histories")]
    UnknownProperty(&'static str),
}

/// Checks `history` for `properties` (any of [`properties::ALL`]); returns every anomaly,
/// property by property in the order given, each in history order.
pub fn check(history: &History, properties: &[Property]) -> Result<Vec<Anomaly>, CheckError> {
    for p in properties {
        if !ALL.contains(p) {
            return Err(CheckError::UnknownProperty(p.name));
        }
        if (*p == CONVERGENCE || *p == NO_LOST_WRITES) && history.replicas.is_none() {
            return Err(CheckError::NoFinalStates(p.name));
        }
    }
    let a = Analysis::new(history);
    let mut out = Vec::new();
    for p in properties {
        let check: fn(&Analysis<'_>, &mut Vec<Anomaly>) = match p.name {
            n if n == VALID_OBSERVATIONS.name => observations::valid_observations,
            n if n == NO_DROPPED_SIBLINGS.name => observations::no_dropped_siblings,
            n if n == READ_YOUR_WRITES.name => sessions::read_your_writes,
            n if n == MONOTONIC_READS.name => sessions::monotonic_reads,
            n if n == MONOTONIC_WRITES.name => sessions::monotonic_writes,
            n if n == WRITES_FOLLOW_READS.name => sessions::writes_follow_reads,
            n if n == CAUSAL_CONSISTENCY.name => causal::causal_consistency,
            n if n == CONVERGENCE.name => convergence::convergence,
            _ => convergence::no_lost_writes,
        };
        check(&a, &mut out);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
