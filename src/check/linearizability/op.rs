//! Operations: an invocation paired with its completion, the unit the search orders.

use crate::history::{Event, EventType, Function, History, Value};
use std::collections::HashMap;
use std::fmt;
use thiserror::Error;

/// What an operation returned.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// It took effect and returned this value (for a read, what was read; for a write or a
    /// successful compare-and-set, usually an echo of the input).
    Ok(Value),
    /// It took effect and reported failure: a compare-and-set whose comparison failed (Jepsen's
    /// etcd logs record these as `:fail :cas`). Not to be confused with squall's `fail` events,
    /// which mean "did not happen" and are dropped before operations are built.
    Rejected,
    /// Unknown (`info`, or never completed): it may have taken effect at any time after its
    /// invocation, or never, and its output constrains nothing.
    Unknown,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Ok(v) => write!(f, "{v}"),
            Outcome::Rejected => f.write_str("failed"),
            Outcome::Unknown => f.write_str("?"),
        }
    }
}

/// One operation of a history: what a process invoked, what came back, and when.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Operation {
    /// The client process.
    pub process: u64,
    /// The function applied.
    pub f: Function,
    /// The key, if the history is a key-value history.
    pub key: Option<String>,
    /// The argument (`Nil` for a read).
    pub input: Value,
    /// The result.
    pub output: Outcome,
    /// Invocation time.
    pub call: u64,
    /// Completion time; `None` when the outcome is unknown (it may take effect up to the end of
    /// the history, or never).
    pub ret: Option<u64>,
    /// 1-based line (or event number) of the invocation in the source, for messages.
    pub line: usize,
}

impl Operation {
    /// True if `self` completed strictly before `other` was invoked, so any linearization must
    /// order `self` first. Equal times count as concurrent (as in Porcupine).
    pub fn precedes(&self, other: &Operation) -> bool {
        matches!(self.ret, Some(r) if r < other.call)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.f {
            Function::Read => "read",
            Function::Write => "write",
            Function::Cas => "cas",
            Function::Append => "append",
        };
        write!(f, "process {}: {name}(", self.process)?;
        if let Some(k) = &self.key {
            write!(f, "{k:?}")?;
            if self.input != Value::Nil {
                f.write_str(", ")?;
            }
        }
        match &self.input {
            Value::Nil => {}
            Value::Cas(a, b) => write!(f, "{a}, {b}")?,
            v => write!(f, "{v}")?,
        }
        write!(f, ") -> {}", self.output)?;
        match self.ret {
            Some(r) => write!(f, "  [{}, {}]", self.call, r),
            None => write!(f, "  [{}, never returned]", self.call),
        }
    }
}

/// A history that cannot be turned into operations.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum HistoryError {
    /// A completion with no outstanding invocation on its process.
    #[error("line {line}: process {process} completes an operation it never invoked")]
    CompletionWithoutInvoke {
        /// Where.
        line: usize,
        /// Which process.
        process: u64,
    },
    /// An invocation while the process still has one outstanding.
    #[error(
        "line {line}: process {process} invokes an operation while its operation from line {open} is outstanding"
    )]
    DoubleInvoke {
        /// Where.
        line: usize,
        /// Which process.
        process: u64,
        /// The outstanding invocation's line.
        open: usize,
    },
    /// A completion whose function differs from the invocation's.
    #[error("line {line}: process {process} completes {got:?} but invoked {want:?}")]
    FunctionMismatch {
        /// Where.
        line: usize,
        /// Which process.
        process: u64,
        /// The completion's function.
        got: Function,
        /// The invocation's function.
        want: Function,
    },
}

/// Pairs invocations with completions, process by process.
///
/// `line` numbers are only used for messages. Shared by [`operations`] and the format parsers
/// that build operations directly (the etcd logs need [`Outcome::Rejected`]).
#[derive(Default)]
pub struct Pairer {
    open: HashMap<u64, usize>,
    ops: Vec<Operation>,
    dropped: Vec<bool>,
}

impl Pairer {
    /// An empty pairer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an invocation.
    pub fn invoke(
        &mut self,
        line: usize,
        process: u64,
        f: Function,
        key: Option<String>,
        input: Value,
        time: u64,
    ) -> Result<(), HistoryError> {
        if let Some(&i) = self.open.get(&process) {
            return Err(HistoryError::DoubleInvoke {
                line,
                process,
                open: self.ops[i].line,
            });
        }
        self.open.insert(process, self.ops.len());
        self.ops.push(Operation {
            process,
            f,
            key,
            input,
            output: Outcome::Unknown,
            call: time,
            ret: None,
            line,
        });
        self.dropped.push(false);
        Ok(())
    }

    /// Records a completion. `outcome == None` drops the operation (it did not happen);
    /// `Some(Outcome::Unknown)` leaves it pending forever.
    pub fn complete(
        &mut self,
        line: usize,
        process: u64,
        f: Function,
        outcome: Option<Outcome>,
        time: u64,
    ) -> Result<(), HistoryError> {
        let Some(i) = self.open.remove(&process) else {
            return Err(HistoryError::CompletionWithoutInvoke { line, process });
        };
        let op = &mut self.ops[i];
        if op.f != f {
            return Err(HistoryError::FunctionMismatch {
                line,
                process,
                got: f,
                want: op.f,
            });
        }
        match outcome {
            None => self.dropped[i] = true,
            Some(Outcome::Unknown) => {}
            Some(o) => {
                op.output = o;
                op.ret = Some(time);
            }
        }
        Ok(())
    }

    /// The operations, in invocation order; never-completed ones stay pending.
    pub fn finish(self) -> Vec<Operation> {
        self.ops
            .into_iter()
            .zip(self.dropped)
            .filter_map(|(op, d)| (!d).then_some(op))
            .collect()
    }
}

/// Turns a squall [`History`] into operations: each invocation is paired with its process's
/// next completion; `fail` operations are dropped (they did not happen); `info` and
/// never-completed operations are pending (return time infinite, output unknown).
///
/// Line numbers in errors are 1-based event positions.
pub fn operations(history: &History) -> Result<Vec<Operation>, HistoryError> {
    let mut p = Pairer::new();
    for (i, e) in history.events.iter().enumerate() {
        push_event(&mut p, i + 1, e)?;
    }
    Ok(p.finish())
}

/// Feeds one squall event to a [`Pairer`].
pub(crate) fn push_event(p: &mut Pairer, line: usize, e: &Event) -> Result<(), HistoryError> {
    match e.kind {
        EventType::Invoke => p.invoke(line, e.process, e.f, e.key.clone(), e.value.clone(), e.time),
        EventType::Ok => p.complete(
            line,
            e.process,
            e.f,
            Some(Outcome::Ok(e.value.clone())),
            e.time,
        ),
        EventType::Fail => p.complete(line, e.process, e.f, None, e.time),
        EventType::Info => p.complete(line, e.process, e.f, Some(Outcome::Unknown), e.time),
    }
}
