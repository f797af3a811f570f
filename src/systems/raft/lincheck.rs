//! A small test-only linearizability check for KV histories (Wing & Gong's search with
//! memoisation, per key), so the store's tests can check client results before the
//! harness's own checker lands. Jepsen semantics: `fail` never happened, `info` may have
//! happened at any point after its invocation or never, a timed-out read is dropped.

use crate::history::{EventType, Function, History, Value};
use std::collections::{BTreeMap, HashSet};

#[derive(Clone, Debug)]
struct Op {
    f: Function,
    input: String,
    output: Option<String>,
    call: u64,
    ret: u64,
    required: bool,
}

/// `Err` names a key whose history cannot be linearized; `Ok(false)` means the budget ran out.
pub fn check(history: &History) -> Result<bool, String> {
    let mut open: BTreeMap<u64, (usize, u64)> = BTreeMap::new();
    let events = &history.events;
    let mut per_key: BTreeMap<String, Vec<Op>> = BTreeMap::new();
    let str_of = |v: &Value| match v {
        Value::Str(s) => s.clone(),
        _ => String::new(),
    };
    let mut finish = |i: usize, ret: u64, required: bool, output: Option<String>| {
        let inv = &events[i];
        let op = Op {
            f: inv.f,
            input: str_of(&inv.value),
            output,
            call: inv.time,
            ret,
            required,
        };
        per_key
            .entry(inv.key.clone().unwrap_or_default())
            .or_default()
            .push(op);
    };
    for (i, e) in events.iter().enumerate() {
        match e.kind {
            EventType::Invoke => {
                open.insert(e.process, (i, e.time));
            }
            EventType::Ok => {
                if let Some((inv, _)) = open.remove(&e.process) {
                    let out = (events[inv].f == Function::Read).then(|| str_of(&e.value));
                    finish(inv, e.time, true, out);
                }
            }
            EventType::Fail => {
                open.remove(&e.process);
            }
            EventType::Info => {
                if let Some((inv, _)) = open.remove(&e.process) {
                    if events[inv].f != Function::Read {
                        finish(inv, u64::MAX, false, None);
                    }
                }
            }
        }
    }
    for (inv, _) in open.into_values() {
        if events[inv].f != Function::Read {
            finish(inv, u64::MAX, false, None);
        }
    }
    let mut complete = true;
    for (key, ops) in per_key {
        if ops.len() > 64 {
            complete = false;
            continue;
        }
        let mut seen = HashSet::new();
        let mut budget = 500_000u32;
        match search(&ops, 0, String::new(), &mut seen, &mut budget) {
            Some(true) => {}
            Some(false) => {
                return Err(format!(
                    "key {key}: no linearization of {} ops: {ops:?}",
                    ops.len()
                ))
            }
            None => complete = false,
        }
    }
    Ok(complete)
}

fn search(
    ops: &[Op],
    done: u64,
    state: String,
    seen: &mut HashSet<(u64, String)>,
    budget: &mut u32,
) -> Option<bool> {
    if (0..ops.len()).all(|i| done & (1 << i) != 0 || !ops[i].required) {
        return Some(true);
    }
    if *budget == 0 {
        return None;
    }
    *budget -= 1;
    if !seen.insert((done, state.clone())) {
        return Some(false);
    }
    // Earliest return among pending operations: nothing invoked after it can go first.
    let horizon = (0..ops.len())
        .filter(|i| done & (1 << i) == 0)
        .map(|i| ops[i].ret)
        .min()
        .unwrap_or(u64::MAX);
    for i in 0..ops.len() {
        if done & (1 << i) != 0 || ops[i].call > horizon {
            continue;
        }
        let op = &ops[i];
        let next = match op.f {
            Function::Read => {
                if op.output.as_deref() != Some(state.as_str()) {
                    continue;
                }
                state.clone()
            }
            Function::Write => op.input.clone(),
            Function::Append => format!("{state}{}", op.input),
            Function::Cas => continue,
        };
        match search(ops, done | (1 << i), next, seen, budget) {
            Some(false) => {}
            other => return other,
        }
    }
    Some(false)
}
