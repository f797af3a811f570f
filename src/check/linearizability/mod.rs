//! Linearizability checking: does a concurrent history have a sequential explanation that
//! respects real time and a sequential [`Model`]?
//!
//! # Overview
//!
//! 1. A [`History`] (or a file, see [`crate::check::formats`]) becomes [`Operation`]s:
//!    invocations paired with completions. `fail` operations are dropped (they did not
//!    happen); `info` and never-completed ones are *pending*: they may take effect at any time
//!    after their invocation, or never. Reads with an unknown outcome are dropped too, since
//!    they change nothing and constrain nothing.
//! 2. The operations are split per key ([`Model::partition`]): a history is linearizable iff
//!    each key's sub-history is (P-compositionality). `--no-partition` checks them as one.
//! 3. Each partition is searched with Wing–Gong–Lowe plus Lowe's memo of (linearized set,
//!    state) configurations, as in Porcupine (see `wgl.rs`).
//! 4. Partitions share the budget round-robin with growing step slices, so a partition that
//!    fails quickly gives a verdict even if another one would search for hours. A
//!    not-linearizable partition is final; the search stops with an [`Explanation`].
//!
//! Setting the environment variable `SQUALL_LIN_STATS` prints, per finished partition, its
//! steps, memo entries, states and cached transitions to stderr (for tuning).
//!
//! The verdict is deterministic; only *when* a budget runs out (hence [`Verdict::Unknown`])
//! may depend on wall-clock time, if a deadline is given.
//!
//! ```
//! use squall::check::linearizability::{check_history, CheckOptions, Verdict};
//! use squall::check::model::Register;
//! use squall::history::{Event, EventType::*, Function::*, History, Value};
//!
//! let ev = |process, kind, f, value, time| Event { process, kind, f, key: None, value, time };
//! let history = History { events: vec![
//!     ev(0, Invoke, Write, Value::Int(1), 0),
//!     ev(0, Ok, Write, Value::Int(1), 1),
//!     ev(1, Invoke, Read, Value::Nil, 2),
//!     ev(1, Ok, Read, Value::Nil, 3), // stale: the write of 1 had completed
//! ]};
//! let verdict = check_history(&Register, &history, &CheckOptions::default()).unwrap();
//! assert!(matches!(verdict, Verdict::NotLinearizable(_)));
//! ```

pub mod brute;
mod intern;
mod memo;
mod memory;
mod op;
mod wgl;

pub use memory::resident_bytes;
pub use op::{operations, HistoryError, Operation, Outcome, Pairer};

use crate::check::model::{CasRegister, Kv, Model, ModelKind, Register};
use crate::history::{Function, History};
use memory::Memory;
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Instant;
use thiserror::Error;
use wgl::{Progress, Search};

/// Limits on a check. Exceeding any gives [`Verdict::Unknown`].
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Maximum search steps, summed over partitions (`None`: no limit). Deterministic.
    pub max_steps: Option<u64>,
    /// Wall-clock deadline (`None`: no limit).
    pub deadline: Option<Instant>,
    /// Maximum bytes the check may add to the process's resident memory. Where the OS
    /// reports resident memory (Linux), the search samples it every few thousand steps and
    /// stops while what it added, plus a reserve for the growth to come before the next
    /// sample, fits; everywhere, the bytes its tables hold (summed over partitions) are
    /// capped too. Resident memory is the process's: other work in the same process counts.
    pub max_memory: usize,
}

impl Default for Budget {
    /// No step or time limit; 2 GiB of memory.
    fn default() -> Self {
        Budget {
            max_steps: None,
            deadline: None,
            max_memory: 2 << 30,
        }
    }
}

/// How to check.
#[derive(Clone, Copy, Debug)]
pub struct CheckOptions {
    /// Check each partition (key) on its own. Default true.
    pub partition: bool,
    /// Limits.
    pub budget: Budget,
    /// Worker threads for partitions (1: run them round-robin on the calling thread).
    /// With more than one, the verdict is the same, but when several partitions fail, which
    /// one the explanation shows may vary from run to run.
    pub threads: usize,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            partition: true,
            budget: Budget::default(),
            threads: 1,
        }
    }
}

/// The result of a check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Some order of the operations respects real time and the model.
    Linearizable,
    /// No order does; the explanation shows how far the search got.
    NotLinearizable(Box<Explanation>),
    /// The budget ran out first; the reason says which limit.
    Unknown(String),
}

impl Verdict {
    /// Process exit code used by `squall check`: 0, 1 or 3.
    pub fn exit_code(&self) -> i32 {
        match self {
            Verdict::Linearizable => 0,
            Verdict::NotLinearizable(_) => 1,
            Verdict::Unknown(_) => 3,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Linearizable => f.write_str("linearizable"),
            Verdict::NotLinearizable(e) => write!(f, "not linearizable\n{e}"),
            Verdict::Unknown(r) => write!(f, "unknown: {r}"),
        }
    }
}

/// Why a history is not linearizable, as data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    /// The model checked against.
    pub model: &'static str,
    /// The partition (key) that failed; `None` for a keyless or unpartitioned check.
    pub partition: Option<String>,
    /// Number of operations in the partition (pending reads excluded).
    pub partition_ops: usize,
    /// The longest linearizable prefix the search found, in linearization order.
    pub prefix: Vec<Operation>,
    /// The model state after the prefix.
    pub state: String,
    /// The completed operations that could go next by real time, none of which leads to a
    /// linearization, each with the reason.
    pub stuck: Vec<Stuck>,
}

/// An operation that cannot be placed after the prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stuck {
    /// The operation.
    pub op: Operation,
    /// Why it cannot go next.
    pub reason: String,
}

/// How many prefix operations `Display` shows (the last ones; all are in the data).
const SHOWN_PREFIX: usize = 20;

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "model {}", self.model)?;
        if let Some(k) = &self.partition {
            write!(f, ", key {k:?}")?;
        }
        writeln!(
            f,
            ": the longest linearizable prefix found places {} of {} operations",
            self.prefix.len(),
            self.partition_ops
        )?;
        let skip = self.prefix.len().saturating_sub(SHOWN_PREFIX);
        if skip > 0 {
            writeln!(f, "  ... {skip} earlier operations")?;
        }
        for (i, op) in self.prefix.iter().enumerate().skip(skip) {
            writeln!(f, "  {:>4}. {op}  (line {})", i + 1, op.line)?;
        }
        writeln!(f, "state after the prefix: {}", self.state)?;
        writeln!(f, "none of these operations can be linearized next:")?;
        for s in &self.stuck {
            writeln!(f, "  - {}  (line {})", s.op, s.op.line)?;
            writeln!(f, "      {}", s.reason)?;
        }
        Ok(())
    }
}

/// An operation the model cannot interpret.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("line {line}: {message}")]
pub struct ModelError {
    /// Line of the operation's invocation.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Any error before the search starts.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CheckError {
    /// The history's events do not pair up.
    #[error(transparent)]
    History(#[from] HistoryError),
    /// The model cannot interpret an operation.
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// Checks a squall history against `model`.
pub fn check_history<M: Model>(
    model: &M,
    history: &History,
    opts: &CheckOptions,
) -> Result<Verdict, CheckError> {
    let ops = operations(history)?;
    Ok(check_operations(model, &ops, opts)?)
}

/// Checks a history with one of the built-in models.
pub fn check_history_with(
    kind: ModelKind,
    history: &History,
    opts: &CheckOptions,
) -> Result<Verdict, CheckError> {
    let ops = operations(history)?;
    Ok(check_operations_with(kind, &ops, opts)?)
}

/// Checks operations with one of the built-in models.
pub fn check_operations_with(
    kind: ModelKind,
    ops: &[Operation],
    opts: &CheckOptions,
) -> Result<Verdict, ModelError> {
    match kind {
        ModelKind::Kv => check_operations(&Kv, ops, opts),
        ModelKind::Register => check_operations(&Register, ops, opts),
        ModelKind::Cas => check_operations(&CasRegister, ops, opts),
    }
}

/// One partition prepared for the search.
struct Part<'a, M: Model> {
    /// Position in key order.
    idx: usize,
    key: Option<String>,
    /// Indices into the caller's operations.
    ops: Vec<usize>,
    search: Search<'a, M>,
    /// Steps for its next turn; doubles every turn.
    slice: u64,
}

/// Checks operations against `model`: the core entry point.
pub fn check_operations<M: Model>(
    model: &M,
    ops: &[Operation],
    opts: &CheckOptions,
) -> Result<Verdict, ModelError> {
    // Before anything is allocated for the search: the baseline the memory cap counts from.
    let memory = Memory::new(opts.budget.max_memory);
    // Group by partition key, in key order so the schedule (and which failing partition is
    // reported first) is deterministic.
    let mut groups: BTreeMap<Option<&str>, Vec<usize>> = BTreeMap::new();
    for (i, op) in ops.iter().enumerate() {
        if op.f == Function::Read && op.output == Outcome::Unknown {
            continue; // changes nothing, constrains nothing
        }
        let key = if opts.partition {
            model.partition(op)
        } else {
            None
        };
        groups.entry(key).or_default().push(i);
    }
    let mut parts = VecDeque::with_capacity(groups.len());
    for (idx, (key, members)) in groups.into_iter().enumerate() {
        let mut prepared = Vec::with_capacity(members.len());
        let mut times = Vec::with_capacity(members.len());
        for &i in &members {
            let op = &ops[i];
            let p = model.prepare(op).map_err(|message| ModelError {
                line: op.line,
                message,
            })?;
            prepared.push(p);
            times.push((op.call, op.ret));
        }
        parts.push_back(Part {
            idx,
            key: key.map(str::to_string),
            search: Search::new(model, prepared, &times),
            ops: members,
            slice: FIRST_SLICE,
        });
    }
    Ok(schedule(model, ops, parts, opts, &memory))
}

/// First step slice of a partition's turn; slices double every turn.
const FIRST_SLICE: u64 = 1 << 12;
/// Largest slice: long enough to amortise switching, short enough that a hard partition
/// lets the others run every second or so.
const MAX_SLICE: u64 = 1 << 23;

/// Work shared by the scheduler's workers.
struct Shared<'a, M: Model> {
    queue: Mutex<Queue<'a, M>>,
    wake: Condvar,
    /// Steps used, summed over partitions.
    used: AtomicU64,
    /// Set once the verdict is known: running slices stop early.
    stop: AtomicBool,
    /// Last known bytes held by each partition's search (0 once finished).
    bytes: Vec<AtomicUsize>,
}

struct Queue<'a, M: Model> {
    /// Partitions waiting for a turn, round-robin.
    ready: VecDeque<Part<'a, M>>,
    /// Partitions currently running on a worker.
    running: usize,
    /// The verdict, once one partition decided it (or the budget ran out).
    outcome: Option<Verdict>,
}

/// Runs partitions round-robin with growing slices on `opts.threads` workers until one
/// fails, all pass, or the budget runs out. With one worker the schedule, and so the
/// verdict and its explanation, are deterministic.
fn schedule<'a, M: Model>(
    model: &'a M,
    ops: &[Operation],
    parts: VecDeque<Part<'a, M>>,
    opts: &CheckOptions,
    memory: &Memory,
) -> Verdict {
    let workers = opts.threads.clamp(1, parts.len().max(1));
    let shared = Shared {
        bytes: (0..parts.len()).map(|_| AtomicUsize::new(0)).collect(),
        queue: Mutex::new(Queue {
            ready: parts,
            running: 0,
            outcome: None,
        }),
        wake: Condvar::new(),
        used: AtomicU64::new(0),
        stop: AtomicBool::new(false),
    };
    if workers == 1 {
        worker(model, ops, &shared, &opts.budget, memory);
    } else {
        std::thread::scope(|s| {
            for _ in 1..workers {
                s.spawn(|| worker(model, ops, &shared, &opts.budget, memory));
            }
            worker(model, ops, &shared, &opts.budget, memory);
        });
    }
    let queue = shared.queue.into_inner().unwrap_or_else(|e| e.into_inner());
    queue.outcome.unwrap_or(Verdict::Linearizable)
}

/// One worker: takes the next partition, runs its slice, puts it back or records a verdict.
fn worker<'a, M: Model>(
    model: &'a M,
    ops: &[Operation],
    shared: &Shared<'a, M>,
    budget: &Budget,
    memory: &Memory,
) {
    let lock = || shared.queue.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let mut part = {
            let mut q = lock();
            loop {
                if q.outcome.is_some() {
                    return;
                }
                if let Some(p) = q.ready.pop_front() {
                    q.running += 1;
                    break p;
                }
                if q.running == 0 {
                    return; // every partition is linearizable
                }
                q = shared.wake.wait(q).unwrap_or_else(|e| e.into_inner());
            }
        };
        let used = shared.used.load(Ordering::Relaxed);
        let mut slice = part.slice;
        let mut outcome = None;
        if let Some(max) = budget.max_steps {
            if used >= max {
                outcome = Some(Verdict::Unknown(format!("step budget of {max} exhausted")));
            }
            slice = slice.min(max.saturating_sub(used));
        }
        let others: usize = shared
            .bytes
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != part.idx)
            .map(|(_, b)| b.load(Ordering::Relaxed))
            .sum();
        let before = part.search.steps;
        let progress = if outcome.is_none() {
            part.search
                .run(slice, budget.deadline, memory, others, Some(&shared.stop))
        } else {
            Progress::Paused
        };
        let total = shared
            .used
            .fetch_add(part.search.steps - before, Ordering::Relaxed)
            + (part.search.steps - before);
        shared.bytes[part.idx].store(part.search.bytes(), Ordering::Relaxed);
        outcome = outcome.or(match progress {
            Progress::Linearizable | Progress::Paused | Progress::Stopped => None,
            Progress::NotLinearizable => Some(Verdict::NotLinearizable(Box::new(explain(
                model, ops, &part,
            )))),
            Progress::OutOfTime => Some(Verdict::Unknown(format!(
                "deadline passed after {total} search steps{}",
                describe_key(&part.key)
            ))),
            Progress::OutOfMemory => Some(Verdict::Unknown(format!(
                "memory budget of {} MiB exhausted ({} memo entries{})",
                memory.cap() >> 20,
                part.search.memo_len(),
                describe_key(&part.key)
            ))),
        });
        if std::env::var_os("SQUALL_LIN_STATS").is_some() && progress != Progress::Paused {
            eprintln!(
                "partition {:?}: {:?}, {} ops, {} steps, {} memo entries, {}",
                part.key,
                progress,
                part.ops.len(),
                part.search.steps,
                part.search.memo_len(),
                part.search.debug_stats()
            );
        }
        let mut q = lock();
        q.running -= 1;
        if let Some(v) = outcome {
            if q.outcome.is_none() {
                q.outcome = Some(v);
            }
            shared.stop.store(true, Ordering::Relaxed);
        } else if progress == Progress::Paused {
            part.slice = (part.slice * 2).min(MAX_SLICE);
            q.ready.push_back(part);
        } else {
            // Finished: free its memory now rather than at the end.
            shared.bytes[part.idx].store(0, Ordering::Relaxed);
        }
        drop(q);
        shared.wake.notify_all();
    }
}

fn describe_key(key: &Option<String>) -> String {
    match key {
        Some(k) => format!(" on key {k:?}"),
        None => String::new(),
    }
}

/// The number of threads worth using: the machine's parallelism.
pub fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Builds the explanation for a partition whose search space is exhausted.
fn explain<M: Model>(model: &M, ops: &[Operation], part: &Part<'_, M>) -> Explanation {
    let local: Vec<&Operation> = part.ops.iter().map(|&i| &ops[i]).collect();
    let prepared: Vec<Option<M::Op>> = local.iter().map(|op| model.prepare(op).ok()).collect();
    let mut state = model.init();
    let mut placed = vec![false; local.len()];
    let mut prefix = Vec::with_capacity(part.search.best.len());
    for &i in &part.search.best {
        let i = i as usize;
        placed[i] = true;
        prefix.push(local[i].clone());
        if let Some(next) = prepared[i].as_ref().and_then(|p| model.step(&state, p)) {
            state = next;
        }
    }
    // Candidates: unplaced completed operations invoked before the earliest return among the
    // unplaced completed operations (real time allows each of them next).
    let horizon = local
        .iter()
        .zip(&placed)
        .filter(|(_, &p)| !p)
        .filter_map(|(op, _)| op.ret)
        .min();
    let mut stuck = Vec::new();
    for (i, op) in local.iter().enumerate() {
        if placed[i] || op.ret.is_none() || horizon.is_some_and(|h| op.call > h) {
            continue;
        }
        let Some(p) = prepared[i].as_ref() else {
            continue;
        };
        let reason = match model.step(&state, p) {
            None => format!(
                "impossible: the model does not allow it in state {}",
                model.describe_state_for(&state, p)
            ),
            Some(next) => format!(
                "allowed (state would become {}), but the remaining operations then cannot be ordered",
                model.describe_state_for(&next, p)
            ),
        };
        stuck.push(Stuck {
            op: (*op).clone(),
            reason,
        });
    }
    Explanation {
        model: model.name(),
        partition: part.key.clone(),
        partition_ops: local.len(),
        prefix,
        state: model.describe_state(&state),
        stuck,
    }
}
