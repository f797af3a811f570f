//! A brute-force linearizability checker and a small-history generator, to cross-check the
//! real search (tests and the `linearizability` fuzz target).
//!
//! The brute force shares nothing with the search but the models: it tries every subset of
//! the pending operations and every order of the chosen operations that respects real time,
//! without memo, partitioning or early exits beyond "this prefix is impossible". Use it on
//! histories of at most ~8 operations.

use super::{check_operations_with, operations, CheckOptions, ModelError, Operation, Verdict};
use crate::check::model::{CasRegister, Kv, Model, ModelKind, Register};
use crate::history::{Event, EventType, Function, History, Value};
use arbitrary::Unstructured;
use std::collections::BTreeMap;

/// Decides linearizability by exhaustive enumeration. Panics on more than 20 operations
/// (the caller's mistake: it would never finish).
pub fn brute_force<M: Model>(model: &M, ops: &[Operation]) -> Result<bool, ModelError> {
    assert!(ops.len() <= 20, "brute force over {} operations", ops.len());
    let prepared = ops
        .iter()
        .map(|op| {
            model.prepare(op).map_err(|message| ModelError {
                line: op.line,
                message,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let pending: Vec<usize> = (0..ops.len()).filter(|&i| ops[i].ret.is_none()).collect();
    for subset in 0u32..(1 << pending.len()) {
        let mut chosen: u32 = (0..ops.len())
            .filter(|&i| ops[i].ret.is_some())
            .fold(0, |m, i| m | 1 << i);
        for (b, &i) in pending.iter().enumerate() {
            if subset & (1 << b) != 0 {
                chosen |= 1 << i;
            }
        }
        if orders(model, ops, &prepared, chosen, 0, &model.init()) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Is there an order of `chosen \ placed` that continues from `state`?
fn orders<M: Model>(
    model: &M,
    ops: &[Operation],
    prepared: &[M::Op],
    chosen: u32,
    placed: u32,
    state: &M::State,
) -> bool {
    if placed == chosen {
        return true;
    }
    for i in 0..ops.len() {
        if chosen & (1 << i) == 0 || placed & (1 << i) != 0 {
            continue;
        }
        // Every chosen operation that finished before `i` began must already be placed.
        let blocked = (0..ops.len())
            .any(|j| chosen & (1 << j) != 0 && placed & (1 << j) == 0 && ops[j].precedes(&ops[i]));
        if blocked {
            continue;
        }
        if let Some(next) = model.step(state, &prepared[i]) {
            if orders(model, ops, prepared, chosen, placed | 1 << i, &next) {
                return true;
            }
        }
    }
    false
}

/// [`brute_force`] with a built-in model.
pub fn brute_force_with(kind: ModelKind, ops: &[Operation]) -> Result<bool, ModelError> {
    match kind {
        ModelKind::Kv => brute_force(&Kv, ops),
        ModelKind::Register => brute_force(&Register, ops),
        ModelKind::Cas => brute_force(&CasRegister, ops),
    }
}

/// Checks `history` with the search (partitioned and not) and by brute force; `Err`
/// describes any disagreement. Returns the brute-force verdict.
pub fn cross_check(kind: ModelKind, history: &History) -> Result<bool, String> {
    let ops = operations(history).map_err(|e| format!("generated history invalid: {e}"))?;
    let truth = brute_force_with(kind, &ops).map_err(|e| e.to_string())?;
    for partition in [true, false] {
        let opts = CheckOptions {
            partition,
            ..CheckOptions::default()
        };
        let v = check_operations_with(kind, &ops, &opts).map_err(|e| e.to_string())?;
        let got = match &v {
            Verdict::Linearizable => true,
            Verdict::NotLinearizable(_) => false,
            Verdict::Unknown(r) => return Err(format!("search gave unknown: {r}")),
        };
        if got != truth {
            return Err(format!(
                "{kind:?} partition={partition}: search says {v}, brute force says {truth}\n{history:#?}"
            ));
        }
    }
    Ok(truth)
}

/// The object a generated history runs against, to produce mostly truthful outputs.
enum Truth {
    Reg(Value),
    Kv(BTreeMap<String, String>),
}

/// Generates a small history (at most `max_ops` operations, 1–3 processes) for `kind`: a
/// simulated correct object applies each operation at a random point between its invocation
/// and completion, and some outputs are then corrupted, so both verdicts occur. Includes
/// `info` operations (applied or not), `fail` operations (not applied), operations that never
/// complete, and equal timestamps.
pub fn arbitrary_history(
    u: &mut Unstructured<'_>,
    kind: ModelKind,
    max_ops: usize,
) -> arbitrary::Result<History> {
    let procs = u.int_in_range(1..=3u64)?;
    let n_ops = u.int_in_range(1..=max_ops.max(1))?;
    let mut truth = match kind {
        ModelKind::Kv => Truth::Kv(BTreeMap::new()),
        _ => Truth::Reg(Value::Nil),
    };
    // Per process: (function, key, input, Some(true output) once applied).
    type Open = (Function, Option<String>, Value, Option<Value>);
    let mut open: Vec<Option<Open>> = vec![None; procs as usize];
    let mut events = Vec::new();
    let mut invoked = 0;
    let mut time = 0u64;
    for _ in 0..4 * max_ops + 8 {
        if invoked == n_ops && open.iter().all(Option::is_none) {
            break;
        }
        time += u.int_in_range(0..=2u64)?;
        let p = u.int_in_range(0..=procs - 1)?;
        let slot = &mut open[p as usize];
        let ev = |kind, f, key: &Option<String>, value| Event {
            process: p,
            kind,
            f,
            key: key.clone(),
            value,
            time,
        };
        match slot.take() {
            None if invoked < n_ops => {
                let (f, key, input) = arbitrary_op(u, kind)?;
                events.push(ev(EventType::Invoke, f, &key, input.clone()));
                *slot = Some((f, key, input, None));
                invoked += 1;
            }
            None => {}
            Some((f, key, input, None)) => match u.int_in_range(0..=9u8)? {
                // Complete without having taken effect: fail, info, or keep it pending.
                0 => events.push(ev(EventType::Fail, f, &key, input)),
                1 => events.push(ev(EventType::Info, f, &key, input)),
                2 => *slot = Some((f, key, input, None)),
                _ => {
                    let out = apply(&mut truth, f, &key, &input);
                    *slot = Some((f, key, input, Some(out)));
                }
            },
            Some((f, key, input, Some(out))) => match u.int_in_range(0..=11u8)? {
                0 => events.push(ev(EventType::Info, f, &key, input)),
                1 | 3 if f == Function::Read => {
                    let wrong = arbitrary_value(u, kind)?;
                    events.push(ev(EventType::Ok, f, &key, wrong));
                }
                2 => *slot = Some((f, key, input, Some(out))),
                _ if out == Value::Nil && f == Function::Cas => {
                    // The comparison failed: squall records that as `fail`.
                    events.push(ev(EventType::Fail, f, &key, input));
                }
                _ => events.push(ev(EventType::Ok, f, &key, out)),
            },
        }
    }
    Ok(History { events })
}

fn arbitrary_value(u: &mut Unstructured<'_>, kind: ModelKind) -> arbitrary::Result<Value> {
    Ok(match kind {
        ModelKind::Kv => {
            Value::Str(["", "x", "y", "xy", "yx", "z"][u.int_in_range(0..=5usize)?].to_string())
        }
        _ => match u.int_in_range(0..=3u8)? {
            3 => Value::Nil,
            i => Value::Int(i64::from(i)),
        },
    })
}

fn arbitrary_op(
    u: &mut Unstructured<'_>,
    kind: ModelKind,
) -> arbitrary::Result<(Function, Option<String>, Value)> {
    let small = |u: &mut Unstructured<'_>| -> arbitrary::Result<Value> {
        Ok(Value::Int(i64::from(u.int_in_range(0..=2u8)?)))
    };
    Ok(match kind {
        ModelKind::Register => match u.int_in_range(0..=1u8)? {
            0 => (Function::Read, None, Value::Nil),
            _ => (Function::Write, None, small(u)?),
        },
        ModelKind::Cas => match u.int_in_range(0..=2u8)? {
            0 => (Function::Read, None, Value::Nil),
            1 => (Function::Write, None, small(u)?),
            _ => {
                let old = if u.ratio(1, 4)? {
                    Value::Nil
                } else {
                    small(u)?
                };
                (
                    Function::Cas,
                    None,
                    Value::Cas(Box::new(old), Box::new(small(u)?)),
                )
            }
        },
        ModelKind::Kv => {
            let key = Some(["a", "b"][u.int_in_range(0..=1usize)?].to_string());
            let v = Value::Str(["x", "y", "z"][u.int_in_range(0..=2usize)?].to_string());
            match u.int_in_range(0..=2u8)? {
                0 => (Function::Read, key, Value::Nil),
                1 => (Function::Write, key, v),
                _ => (Function::Append, key, v),
            }
        }
    })
}

/// Applies an operation to the true object; returns its output (`Nil` for a cas whose
/// comparison failed).
fn apply(truth: &mut Truth, f: Function, key: &Option<String>, input: &Value) -> Value {
    match truth {
        Truth::Reg(v) => match (f, input) {
            (Function::Read, _) => v.clone(),
            (Function::Cas, Value::Cas(old, new)) => {
                if **old == *v {
                    *v = (**new).clone();
                    input.clone()
                } else {
                    Value::Nil
                }
            }
            _ => {
                *v = input.clone();
                input.clone()
            }
        },
        Truth::Kv(m) => {
            let k = key.clone().unwrap_or_default();
            let s = match input {
                Value::Str(s) => s.clone(),
                _ => String::new(),
            };
            match f {
                Function::Read => Value::Str(m.get(&k).cloned().unwrap_or_default()),
                Function::Append => {
                    m.entry(k).or_default().push_str(&s);
                    input.clone()
                }
                _ => {
                    m.insert(k, s);
                    input.clone()
                }
            }
        }
    }
}
