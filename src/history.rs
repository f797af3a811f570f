//! Client histories: what each client invoked and what came back, in simulated time.
//!
//! The vocabulary is Jepsen's: every operation is an `invoke` event followed by at most one
//! completion — `ok` (it happened, with this result), `fail` (it certainly did not happen) or
//! `info` (unknown: it may have happened at any time after its invocation, or never). An
//! invocation with no completion at all is treated like `info`.
//!
//! Operations are register / key-value shaped (`read`, `write`, `cas`, `append`, optionally on a
//! key), which covers the sequential models in [`crate::check`] and Porcupine's and Jepsen's
//! formats. The JSON form of a [`History`] is squall's history file format (see the README).

/// Number of client processes (`c0`..`c3`): a history numbers a client's processes
/// `client + MAX_CLIENTS * k` after its k-th indeterminate operation.
pub const MAX_CLIENTS: u8 = 4;

use serde::{Deserialize, Serialize};
use std::fmt;

/// How an event stands in an operation's life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    /// The client sent the operation.
    Invoke,
    /// The operation took effect and returned `value`.
    Ok,
    /// The operation certainly did not take effect.
    Fail,
    /// The outcome is unknown (timed out, connection lost).
    Info,
}

/// The function an operation applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Function {
    /// Read a register or a key (`get`).
    Read,
    /// Overwrite a register or a key (`put`).
    Write,
    /// Compare-and-set: `value` is `[expected, new]`.
    Cas,
    /// Append `value` to a key's string.
    Append,
}

/// A value carried by an event.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// Nothing: the input of a read, or an absent register.
    #[default]
    Nil,
    /// An integer register value.
    Int(i64),
    /// A string value (key-value stores).
    Str(String),
    /// A compare-and-set argument `[expected, new]`.
    Cas(Box<Value>, Box<Value>),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => f.write_str("nil"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Str(v) => write!(f, "{v:?}"),
            Value::Cas(a, b) => write!(f, "[{a} {b}]"),
        }
    }
}

/// One line of a history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The client process. A process has at most one operation outstanding; after an `info` it
    /// never completes that operation (Jepsen gives the worker a new process id).
    pub process: u64,
    /// invoke / ok / fail / info.
    #[serde(rename = "type")]
    pub kind: EventType,
    /// The operation's function.
    pub f: Function,
    /// The key, for key-value histories; absent for a single register.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Input on `invoke`, result on `ok` (for a read, what was read).
    #[serde(default)]
    pub value: Value,
    /// Simulated time in nanoseconds since the start of the run.
    pub time: u64,
}

/// A client history: events in the order they happened (non-decreasing `time`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// The events, in order.
    pub events: Vec<Event>,
}

impl History {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an event.
    pub fn push(&mut self, event: Event) {
        self.events.push(event);
    }

    /// Number of operations invoked.
    pub fn invocations(&self) -> usize {
        self.events
            .iter()
            .filter(|e| e.kind == EventType::Invoke)
            .count()
    }
}
