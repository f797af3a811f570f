//! A key-value store of strings with get, put and append.

use super::Model;
use crate::check::linearizability::{Operation, Outcome};
use crate::history::{Function, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A map from keys to strings; an absent key reads as `""`.
///
/// `read`/`get` returns the key's string, `write`/`put` replaces it, `append` concatenates.
/// Integer values are taken as their decimal text. Checked per key (the default partitioning)
/// a state is a single string; checked whole (`--no-partition`) it is the whole map.
#[derive(Clone, Copy, Debug, Default)]
pub struct Kv;

/// A KV operation on one key.
#[derive(Debug)]
pub struct KvOp {
    key: Arc<str>,
    kind: KvKind,
}

/// What a [`KvOp`] does.
#[derive(Debug)]
enum KvKind {
    Get(Option<Arc<str>>),
    Put(Arc<str>),
    Append(Arc<str>),
}

/// A KV state: the non-empty strings by key (an empty string and an absent key behave the
/// same, so both are represented by absence and the search sees them as one state).
pub type KvState = BTreeMap<Arc<str>, Arc<str>>;

fn text(v: &Value) -> Result<Arc<str>, String> {
    match v {
        Value::Str(s) => Ok(Arc::from(s.as_str())),
        Value::Int(i) => Ok(Arc::from(i.to_string())),
        Value::Nil => Ok(Arc::from("")),
        Value::Cas(..) => Err(format!("the kv model has no compare-and-set value {v}")),
    }
}

impl Model for Kv {
    type State = KvState;
    type Op = KvOp;

    fn name(&self) -> &'static str {
        "kv"
    }

    fn init(&self) -> KvState {
        KvState::new()
    }

    fn prepare(&self, op: &Operation) -> Result<KvOp, String> {
        let key: Arc<str> = Arc::from(op.key.as_deref().unwrap_or(""));
        let kind = match (op.f, &op.output) {
            (Function::Read, Outcome::Ok(v)) => KvKind::Get(Some(text(v)?)),
            (Function::Read, Outcome::Unknown) => KvKind::Get(None),
            (Function::Write, Outcome::Ok(_) | Outcome::Unknown) => KvKind::Put(text(&op.input)?),
            (Function::Append, Outcome::Ok(_) | Outcome::Unknown) => {
                KvKind::Append(text(&op.input)?)
            }
            (f, o) => return Err(format!("the kv model has no {f:?} with outcome {o}")),
        };
        Ok(KvOp { key, kind })
    }

    fn step(&self, state: &KvState, op: &KvOp) -> Option<KvState> {
        let cur = state.get(&op.key).map_or("", |s| s);
        match &op.kind {
            KvKind::Get(Some(v)) => (**v == *cur).then(|| state.clone()),
            KvKind::Get(None) => Some(state.clone()),
            KvKind::Put(v) => {
                let mut next = state.clone();
                if v.is_empty() {
                    next.remove(&op.key);
                } else {
                    next.insert(op.key.clone(), v.clone());
                }
                Some(next)
            }
            KvKind::Append(v) => {
                let mut next = state.clone();
                if !v.is_empty() {
                    let s = format!("{cur}{v}");
                    next.insert(op.key.clone(), Arc::from(s));
                }
                Some(next)
            }
        }
    }

    fn describe_state(&self, state: &KvState) -> String {
        if state.is_empty() {
            return "all keys empty".to_string();
        }
        let parts: Vec<String> = state.iter().map(|(k, v)| format!("{k:?}={v:?}")).collect();
        parts.join(", ")
    }
}
