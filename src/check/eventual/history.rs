//! The history of a replicated store whose reads return sibling sets: operations per client
//! session, each with its invocation and completion, and optionally the replicas' final states.
//!
//! The in-memory form is a list of [`Operation`]s, each paired already (invocation and
//! completion); [`Recorder`] builds one event by event, as a harness observes them, and
//! checks as it goes that the events make sense (one operation outstanding per session, every
//! write's value unique). The file form is the event list; see [`crate::check::eventual`].

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A value in a history: what a write wrote (unique per write, so that a read's values name
/// the writes they came from), a key, a session's or a replica's name. JSON strings and
/// integers; `"5"` and `5` are different.
///
/// (Deserialized by hand in [`super::format`], for a clear error on other JSON.)
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(untagged)]
pub enum Datum {
    /// An integer.
    Int(i64),
    /// A string.
    Str(String),
}

impl fmt::Display for Datum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Datum::Int(i) => write!(f, "{i}"),
            // Plain words print bare (`a`, `c0`, `n1`); anything else quoted, so that a
            // value with a space or a comma cannot be misread in a list.
            Datum::Str(s)
                if !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_alphanumeric() || "-_.:/".contains(c)) =>
            {
                f.write_str(s)
            }
            Datum::Str(s) => write!(f, "{s:?}"),
        }
    }
}

impl From<&str> for Datum {
    fn from(s: &str) -> Self {
        Datum::Str(s.to_string())
    }
}

impl From<String> for Datum {
    fn from(s: String) -> Self {
        Datum::Str(s)
    }
}

impl From<i64> for Datum {
    fn from(i: i64) -> Self {
        Datum::Int(i)
    }
}

/// `{a, b}`: a set of values as messages print it.
pub(crate) struct Set<'a>(pub &'a [Datum]);

impl fmt::Display for Set<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{d}")?;
        }
        f.write_str("}")
    }
}

/// What an operation does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Read a key: the answer is a set of values (siblings) and a causal context.
    Read,
    /// Write a value to a key, passing the causal context the client holds.
    Write,
    /// Delete a key: a write of a tombstone, which carries its own unique value.
    Delete,
}

impl Action {
    /// The name the file format uses.
    pub fn name(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Write => "write",
            Action::Delete => "delete",
        }
    }

    /// A write or a delete: an operation that writes a value.
    pub fn writes(self) -> bool {
        self != Action::Read
    }
}

/// How an operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// It happened, and the client got the answer.
    Ok,
    /// It certainly did not happen.
    Fail,
    /// The client does not know (a timeout, a lost connection, no completion at all): a write
    /// may have happened; a read told the client nothing.
    Unknown,
}

/// One event's place in the history: its position in the event sequence (the real-time
/// order: two events never share one) and its time in nanoseconds (informational; equal
/// times are allowed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instant {
    /// Position in the history's event sequence, from 0.
    pub seq: u32,
    /// Nanoseconds since the start of the run.
    pub time: u64,
}

/// One operation of one session, invocation and completion together.
#[derive(Clone, Debug, PartialEq)]
pub struct Operation {
    /// The client session that performed it.
    pub session: Datum,
    /// Its position among its session's operations, from 0.
    pub index: usize,
    /// Read, write or delete.
    pub action: Action,
    /// The key.
    pub key: Datum,
    /// A write's or a delete's value (unique in the history); `None` for a read.
    pub value: Option<Datum>,
    /// The values a read returned (its siblings; tombstones may be listed too). Empty for
    /// writes and for reads that did not succeed.
    pub values: Vec<Datum>,
    /// A write's or delete's context: the writes its client had seen and passed along, which
    /// it overwrites. A read's context: the writes its answer covers beyond the values it
    /// returned (tombstones, overwritten writes).
    pub context: Vec<Datum>,
    /// The version a store reported for an acknowledged write (any JSON; carried into
    /// messages, never interpreted).
    pub version: Option<serde_json::Value>,
    /// How it ended.
    pub outcome: Outcome,
    /// When it was invoked.
    pub invoked: Instant,
    /// When it completed; `None` if it never did (its outcome is then unknown).
    pub completed: Option<Instant>,
    /// The source line of its invocation (0 when not read from a file).
    pub line: usize,
}

impl Operation {
    /// `c0 #3 write k = a`: session, 1-based index in the session, and what it did.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "{} #{} {} {}",
            self.session,
            self.index + 1,
            self.action.name(),
            self.key
        );
        match (self.action, self.outcome) {
            (Action::Read, Outcome::Ok) => {
                s.push_str(&format!(" → {}", Set(&self.values)));
                if !self.context.is_empty() {
                    s.push_str(&format!(" (context {})", Set(&self.context)));
                }
            }
            (Action::Read, _) => {}
            (_, _) => {
                if let Some(v) = &self.value {
                    s.push_str(&format!(" = {v}"));
                }
                if !self.context.is_empty() {
                    s.push_str(&format!(" (context {})", Set(&self.context)));
                }
            }
        }
        match self.outcome {
            Outcome::Ok => {}
            Outcome::Fail => s.push_str(", failed"),
            Outcome::Unknown => s.push_str(", outcome unknown"),
        }
        if self.line > 0 {
            s.push_str(&format!(" [line {}]", self.line));
        }
        s
    }
}

/// What one replica holds for one key once the run has healed and gone quiet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaState {
    /// The replica's name.
    pub replica: Datum,
    /// The key.
    pub key: Datum,
    /// The values it holds (its siblings; tombstones may be listed too).
    pub values: Vec<Datum>,
    /// The source line (0 when not read from a file).
    #[serde(skip)]
    pub line: usize,
}

/// A replicated store's client history, and optionally the replicas' final states.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// The operations, in the order they were invoked.
    pub operations: Vec<Operation>,
    /// What each replica holds per key after heal and quiescence: `None` when the history
    /// does not say (convergence and lost writes cannot be judged then). A key that no
    /// replica lists is taken to be held by none of them.
    pub replicas: Option<Vec<ReplicaState>>,
}

/// A history that does not make sense as a sequence of events.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// A session invoked an operation while another was outstanding.
    #[error("session {session} invokes an operation while its {previous} is outstanding")]
    Busy {
        /// The session.
        session: Datum,
        /// The outstanding operation, described.
        previous: String,
    },
    /// A completion for a session with nothing outstanding.
    #[error("session {0} completes an operation it never invoked")]
    NotInvoked(Datum),
    /// Two writes with one value: reads could not tell them apart.
    #[error("value {value} is written twice (first by {first}): every write needs its own value")]
    DuplicateValue {
        /// The value.
        value: Datum,
        /// The first write, described.
        first: String,
    },
    /// Events out of time order.
    #[error("time goes backwards: {time} after {previous}")]
    TimeBackwards {
        /// This event's time.
        time: u64,
        /// The previous event's.
        previous: u64,
    },
    /// Two final states for one replica and key.
    #[error("replica {replica} lists key {key} twice")]
    DuplicateReplicaKey {
        /// The replica.
        replica: Datum,
        /// The key.
        key: Datum,
    },
    /// A completion that does not fit its invocation (a read's answer on a write...).
    #[error("{0}")]
    Mismatch(String),
    /// More events than the format numbers.
    #[error("more than 4 billion events")]
    TooLong,
}

/// Handle of an invoked operation in a [`Recorder`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpId(pub usize);

/// How an invoked operation completed.
#[derive(Clone, Debug, PartialEq)]
pub enum Completion {
    /// A read succeeded: the values (siblings) it returned and the context that came with
    /// them (the writes it covers beyond the values, as far as the recorder can name them).
    Read {
        /// The siblings returned.
        values: Vec<Datum>,
        /// The writes the answer's context covers beyond `values` (tombstones above all).
        context: Vec<Datum>,
    },
    /// A write or delete was acknowledged, with the version the store reported, if any.
    Written {
        /// The store's version for it (opaque).
        version: Option<serde_json::Value>,
    },
    /// It certainly did not happen.
    Fail,
    /// The client does not know.
    Unknown,
}

/// Builds a [`History`] event by event, as a harness sees them.
#[derive(Debug, Default)]
pub struct Recorder {
    history: History,
    /// Outstanding operation per session.
    open: BTreeMap<Datum, usize>,
    /// Every written value, and its write.
    written: BTreeMap<Datum, usize>,
    /// Index of the next operation per session.
    next_index: BTreeMap<Datum, usize>,
    seq: u32,
    last_time: u64,
    replica_keys: BTreeMap<(Datum, Datum), ()>,
}

impl Recorder {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    fn instant(&mut self, time: u64) -> Result<Instant, RecordError> {
        if time < self.last_time {
            return Err(RecordError::TimeBackwards {
                time,
                previous: self.last_time,
            });
        }
        self.last_time = time;
        let seq = self.seq;
        self.seq = self.seq.checked_add(1).ok_or(RecordError::TooLong)?;
        Ok(Instant { seq, time })
    }

    /// Invokes `action` on `key` for `session` at `time`; `value` (writes and deletes) must
    /// be new to the history, `context` is what the client passes along (writes and deletes).
    pub fn invoke(
        &mut self,
        session: Datum,
        action: Action,
        key: Datum,
        value: Option<Datum>,
        context: Vec<Datum>,
        time: u64,
    ) -> Result<OpId, RecordError> {
        if let Some(&previous) = self.open.get(&session) {
            return Err(RecordError::Busy {
                session,
                previous: self.history.operations[previous].describe(),
            });
        }
        match (action.writes(), &value) {
            (true, None) => {
                return Err(RecordError::Mismatch(format!(
                    "a {} needs a value",
                    action.name()
                )))
            }
            (false, Some(_)) => {
                return Err(RecordError::Mismatch(
                    "a read has no value when invoked (its values come with `ok`)".into(),
                ))
            }
            (false, None) if !context.is_empty() => {
                return Err(RecordError::Mismatch(
                    "a read's context is part of its answer: give it on the `ok` event".into(),
                ))
            }
            _ => {}
        }
        let id = self.history.operations.len();
        if let Some(v) = &value {
            if let Some(&first) = self.written.get(v) {
                return Err(RecordError::DuplicateValue {
                    value: v.clone(),
                    first: self.history.operations[first].describe(),
                });
            }
            self.written.insert(v.clone(), id);
        }
        let invoked = self.instant(time)?;
        let index = self.next_index.entry(session.clone()).or_insert(0);
        self.history.operations.push(Operation {
            session: session.clone(),
            index: *index,
            action,
            key,
            value,
            values: Vec::new(),
            context,
            version: None,
            outcome: Outcome::Unknown,
            invoked,
            completed: None,
            line: 0,
        });
        *index += 1;
        self.open.insert(session, id);
        Ok(OpId(id))
    }

    /// The time of the last event recorded (0 before any).
    pub(crate) fn last_time(&self) -> u64 {
        self.last_time
    }

    /// The outstanding operation of `session`, if any.
    pub fn outstanding(&self, session: &Datum) -> Option<OpId> {
        self.open.get(session).map(|&i| OpId(i))
    }

    /// The operation `id`, as recorded so far.
    pub fn operation(&self, id: OpId) -> Option<&Operation> {
        self.history.operations.get(id.0)
    }

    /// Completes the outstanding operation of `session` at `time`.
    pub fn complete(
        &mut self,
        session: &Datum,
        completion: Completion,
        time: u64,
    ) -> Result<OpId, RecordError> {
        let id = *self
            .open
            .get(session)
            .ok_or_else(|| RecordError::NotInvoked(session.clone()))?;
        let action = self.history.operations[id].action;
        let outcome = match (&completion, action) {
            (Completion::Read { .. }, Action::Read) => Outcome::Ok,
            (Completion::Written { .. }, Action::Write | Action::Delete) => Outcome::Ok,
            (Completion::Fail, _) => Outcome::Fail,
            (Completion::Unknown, _) => Outcome::Unknown,
            (Completion::Read { .. }, _) => {
                return Err(RecordError::Mismatch(format!(
                    "a {} completes with a read's answer (values)",
                    action.name()
                )))
            }
            (Completion::Written { .. }, _) => {
                return Err(RecordError::Mismatch(
                    "a read completes with `ok` but no values".into(),
                ))
            }
        };
        let completed = self.instant(time)?;
        self.open.remove(session);
        let op = &mut self.history.operations[id];
        op.outcome = outcome;
        op.completed = Some(completed);
        match completion {
            Completion::Read { values, context } => {
                op.values = values;
                op.context = context;
            }
            Completion::Written { version } => op.version = version,
            Completion::Fail | Completion::Unknown => {}
        }
        Ok(OpId(id))
    }

    /// Records what `replica` holds for `key` after heal and quiescence.
    pub fn replica(
        &mut self,
        replica: Datum,
        key: Datum,
        values: Vec<Datum>,
    ) -> Result<(), RecordError> {
        if self
            .replica_keys
            .insert((replica.clone(), key.clone()), ())
            .is_some()
        {
            return Err(RecordError::DuplicateReplicaKey { replica, key });
        }
        self.history
            .replicas
            .get_or_insert_with(Vec::new)
            .push(ReplicaState {
                replica,
                key,
                values,
                line: 0,
            });
        Ok(())
    }

    /// Says that the final states are known even if no replica holds anything.
    pub fn replicas_known(&mut self) {
        self.history.replicas.get_or_insert_with(Vec::new);
    }

    /// Sets the source line of an operation (parsers), or of the last replica state.
    pub(crate) fn set_line(&mut self, id: Option<OpId>, line: usize) {
        match id {
            Some(OpId(i)) => self.history.operations[i].line = line,
            None => {
                if let Some(r) = self.history.replicas.as_mut().and_then(|r| r.last_mut()) {
                    r.line = line;
                }
            }
        }
    }

    /// The history; operations still outstanding stay unknown.
    pub fn finish(self) -> History {
        self.history
    }
}

/// One event of the file format (see [`crate::check::eventual`]).
#[derive(Clone, Debug, Serialize)]
struct EventOut<'a> {
    session: &'a Datum,
    #[serde(rename = "type")]
    kind: &'static str,
    f: &'static str,
    key: &'a Datum,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<&'a Datum>,
    #[serde(skip_serializing_if = "Option::is_none")]
    values: Option<&'a [Datum]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<&'a [Datum]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a serde_json::Value>,
    time: u64,
}

impl History {
    /// The events, in order: what the file format holds.
    fn events(&self) -> Vec<(u32, EventOut<'_>)> {
        let mut out = Vec::with_capacity(self.operations.len() * 2);
        for op in &self.operations {
            let writes = op.action.writes();
            out.push((
                op.invoked.seq,
                EventOut {
                    session: &op.session,
                    kind: "invoke",
                    f: op.action.name(),
                    key: &op.key,
                    value: op.value.as_ref(),
                    values: None,
                    context: (writes && !op.context.is_empty()).then_some(&op.context[..]),
                    version: None,
                    time: op.invoked.time,
                },
            ));
            if let Some(done) = op.completed {
                let ok = op.outcome == Outcome::Ok;
                out.push((
                    done.seq,
                    EventOut {
                        session: &op.session,
                        kind: match op.outcome {
                            Outcome::Ok => "ok",
                            Outcome::Fail => "fail",
                            Outcome::Unknown => "info",
                        },
                        f: op.action.name(),
                        key: &op.key,
                        value: op.value.as_ref(),
                        values: (ok && !writes).then_some(&op.values[..]),
                        context: (ok && !writes && !op.context.is_empty())
                            .then_some(&op.context[..]),
                        version: op.version.as_ref(),
                        time: done.time,
                    },
                ));
            }
        }
        out.sort_by_key(|(seq, _)| *seq);
        out
    }

    /// The history in the file format: one JSON document `{"events": [...], "replicas":
    /// [...]}`, one event per line.
    pub fn to_json(&self) -> String {
        let mut s = String::from("{\"events\": [\n");
        let events = self.events();
        for (i, (_, e)) in events.iter().enumerate() {
            s.push_str("  ");
            s.push_str(&serde_json::to_string(e).expect("events serialize"));
            s.push_str(if i + 1 < events.len() { ",\n" } else { "\n" });
        }
        s.push(']');
        if let Some(replicas) = &self.replicas {
            s.push_str(",\n\"replicas\": [\n");
            for (i, r) in replicas.iter().enumerate() {
                s.push_str("  ");
                s.push_str(&serde_json::to_string(r).expect("replica states serialize"));
                s.push_str(if i + 1 < replicas.len() { ",\n" } else { "\n" });
            }
            s.push(']');
        }
        s.push_str("}\n");
        s
    }
}
