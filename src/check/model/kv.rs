//! A key-value store of strings with get, put and append.

use super::Model;
use crate::check::linearizability::{Operation, Outcome};
use crate::history::{Function, Value};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// A map from keys to strings; an absent key reads as `""`.
///
/// `read`/`get` returns the key's string, `write`/`put` replaces it, `append` concatenates.
/// Integer values are taken as their decimal text. Checked per key (the default partitioning)
/// a state holds a single string; checked whole (`--no-partition`) it holds every key.
///
/// Speed: the search creates a new state for almost every step on an append-heavy key, so
/// states must be cheap to build, hash and compare. A string is therefore a persistent list
/// of appended pieces ([`Text`]) carrying its length and a polynomial hash: an append is
/// one small allocation, no copying; hashing is O(1); a read is rejected in O(1) when the
/// length or hash differs and verified byte by byte when they match, so results are exact.
#[derive(Clone, Copy, Debug, Default)]
pub struct Kv;

/// The Mersenne prime 2^61 − 1, modulus of [`Text`]'s hash.
const P: u64 = (1 << 61) - 1;
/// Hash base (any value in 2..P works; exactness never depends on it).
const BASE: u64 = 0x0123_4567_89ab_cdef % P;

fn mulmod(a: u64, b: u64) -> u64 {
    let x = u128::from(a) * u128::from(b);
    let s = (x as u64 & P) + (x >> 61) as u64;
    let s = (s & P) + (s >> 61);
    if s >= P {
        s - P
    } else {
        s
    }
}

fn addmod(a: u64, b: u64) -> u64 {
    let s = a + b;
    if s >= P {
        s - P
    } else {
        s
    }
}

/// A string with its length, hash and `BASE^len`, ready to be appended or compared.
#[derive(Clone, Debug)]
pub struct Piece {
    s: Arc<str>,
    hash: u64,
    pow: u64,
}

impl Piece {
    fn new(s: &str) -> Piece {
        let (mut hash, mut pow) = (0, 1);
        for &b in s.as_bytes() {
            hash = addmod(mulmod(hash, BASE), u64::from(b) + 1);
            pow = mulmod(pow, BASE);
        }
        Piece {
            s: Arc::from(s),
            hash,
            pow,
        }
    }
}

/// An immutable string built from pieces; clones share structure.
#[derive(Clone, Default)]
pub struct Text(Option<Arc<Chunk>>);

struct Chunk {
    len: usize,
    hash: u64,
    prev: Text,
    piece: Arc<str>,
}

impl Drop for Chunk {
    /// Unlinks the chain iteratively: a recursive drop of a long append chain could overflow
    /// the stack.
    fn drop(&mut self) {
        let mut next = self.prev.0.take();
        while let Some(arc) = next {
            match Arc::try_unwrap(arc) {
                Ok(mut c) => next = c.prev.0.take(),
                Err(_) => break,
            }
        }
    }
}

impl Text {
    fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |c| c.len)
    }

    fn hash_value(&self) -> u64 {
        self.0.as_ref().map_or(0, |c| c.hash)
    }

    fn append(&self, p: &Piece) -> Text {
        if p.s.is_empty() {
            return self.clone();
        }
        Text(Some(Arc::new(Chunk {
            len: self.len() + p.s.len(),
            hash: addmod(mulmod(self.hash_value(), p.pow), p.hash),
            prev: self.clone(),
            piece: p.s.clone(),
        })))
    }

    fn of(p: &Piece) -> Text {
        Text::default().append(p)
    }

    /// Exact comparison with a piece: O(1) when length or hash differ.
    fn eq_piece(&self, p: &Piece) -> bool {
        self.len() == p.s.len() && self.hash_value() == p.hash && self.eq_str(&p.s)
    }

    fn eq_str(&self, s: &str) -> bool {
        let s = s.as_bytes();
        let mut end = s.len();
        let mut cur = self;
        while let Some(c) = &cur.0 {
            let p = c.piece.as_bytes();
            if end < p.len() || &s[end - p.len()..end] != p {
                return false;
            }
            end -= p.len();
            cur = &c.prev;
        }
        end == 0
    }

    /// The string's content.
    pub fn to_text(&self) -> String {
        let mut pieces = Vec::new();
        let mut cur = self;
        while let Some(c) = &cur.0 {
            pieces.push(&*c.piece);
            cur = &c.prev;
        }
        pieces.reverse();
        pieces.concat()
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        // Walk both chains from the end while they have the same pieces: equal strings built
        // by the same appends in another order of *other keys* (the common case when a whole
        // store is one state) are decided without copying anything.
        let (mut a, mut b) = (self, other);
        loop {
            match (&a.0, &b.0) {
                (None, None) => return true,
                (Some(x), Some(y)) if Arc::ptr_eq(x, y) => return true,
                (Some(x), Some(y)) => {
                    if x.len != y.len || x.hash != y.hash {
                        return false;
                    }
                    if x.piece != y.piece {
                        // Same content, different piece boundaries: compare the strings.
                        return a.eq_str(&b.to_text());
                    }
                    (a, b) = (&x.prev, &y.prev);
                }
                _ => return false,
            }
        }
    }
}

impl Eq for Text {}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash_value() ^ (self.len() as u64).rotate_left(32));
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.to_text())
    }
}

/// A KV state: the non-empty strings by key, sorted by key (an empty string and an absent
/// key behave the same, so both are absence and the search sees them as one state).
///
/// A state checked per key holds at most one string, kept inline so that a new state costs
/// no allocation beyond its [`Text`] chunk. The representation is canonical (`One` exactly
/// when one key is non-empty), so the derived equality and hash are those of the content.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub enum KvState {
    /// Every key empty.
    #[default]
    Empty,
    /// One non-empty key.
    One([(Arc<str>, Text); 1]),
    /// Several non-empty keys.
    Many(Arc<[(Arc<str>, Text)]>),
}

impl fmt::Debug for KvState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries().iter().map(|(k, v)| (k, v)))
            .finish()
    }
}

impl KvState {
    fn entries(&self) -> &[(Arc<str>, Text)] {
        match self {
            KvState::Empty => &[],
            KvState::One(one) => one,
            KvState::Many(many) => many,
        }
    }

    fn get(&self, key: &str) -> Option<&Text> {
        let e = self.entries();
        e.binary_search_by(|(k, _)| (**k).cmp(key))
            .ok()
            .map(|i| &e[i].1)
    }

    /// The state with `key` set to `text` (removed if empty).
    fn with(&self, key: &Arc<str>, text: Text) -> KvState {
        let keep = text.len() > 0;
        match self {
            KvState::Empty if keep => return KvState::One([(key.clone(), text)]),
            KvState::Empty => return KvState::Empty,
            KvState::One([(k, _)]) if **k == **key => {
                return if keep {
                    KvState::One([(k.clone(), text)])
                } else {
                    KvState::Empty
                };
            }
            _ => {}
        }
        let mut v: Vec<(Arc<str>, Text)> = Vec::with_capacity(self.entries().len() + 1);
        v.extend(self.entries().iter().filter(|(k, _)| **k != **key).cloned());
        if keep {
            let at = v.partition_point(|(k, _)| **k < **key);
            v.insert(at, (key.clone(), text));
        }
        match v.len() {
            0 => KvState::Empty,
            1 => {
                let only = v.swap_remove(0);
                KvState::One([only])
            }
            _ => KvState::Many(v.into()),
        }
    }
}

/// A KV operation on one key.
#[derive(Debug)]
pub struct KvOp {
    key: Arc<str>,
    kind: KvKind,
}

/// What a [`KvOp`] does.
#[derive(Debug)]
enum KvKind {
    Get(Option<Piece>),
    Put(Piece),
    Append(Piece),
}

fn text(v: &Value) -> Result<Piece, String> {
    match v {
        Value::Str(s) => Ok(Piece::new(s)),
        Value::Int(i) => Ok(Piece::new(&i.to_string())),
        Value::Nil => Ok(Piece::new("")),
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
        KvState::default()
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
        let empty = Text::default();
        let cur = state.get(&op.key).unwrap_or(&empty);
        match &op.kind {
            KvKind::Get(Some(v)) => cur.eq_piece(v).then(|| state.clone()),
            KvKind::Get(None) => Some(state.clone()),
            KvKind::Put(v) => Some(state.with(&op.key, Text::of(v))),
            KvKind::Append(v) if v.s.is_empty() => Some(state.clone()),
            KvKind::Append(v) => Some(state.with(&op.key, cur.append(v))),
        }
    }

    fn is_read_only(&self, op: &Self::Op) -> bool {
        matches!(op.kind, KvKind::Get(_))
    }

    fn describe_state_for(&self, state: &KvState, op: &KvOp) -> String {
        let text = state.get(&op.key).map(Text::to_text).unwrap_or_default();
        format!("{:?}={text:?}", op.key)
    }

    fn describe_state(&self, state: &KvState) -> String {
        if state.entries().is_empty() {
            return "all keys empty".to_string();
        }
        let parts: Vec<String> = state
            .entries()
            .iter()
            .map(|(k, v)| format!("{k:?}={:?}", v.to_text()))
            .collect();
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_hash_matches_content() {
        let ab = Text::of(&Piece::new("a")).append(&Piece::new("bc"));
        let whole = Text::of(&Piece::new("abc"));
        assert_eq!(ab, whole);
        assert!(ab.eq_piece(&Piece::new("abc")));
        assert!(!ab.eq_piece(&Piece::new("abd")));
        assert!(!ab.eq_piece(&Piece::new("ab")));
        assert_eq!(ab.to_text(), "abc");
        assert_ne!(ab, Text::of(&Piece::new("acb")));
    }

    #[test]
    fn states_are_canonical() {
        let (a, b): (Arc<str>, Arc<str>) = (Arc::from("a"), Arc::from("b"));
        let x = Text::of(&Piece::new("x"));
        let s1 = KvState::Empty.with(&a, x.clone()).with(&b, x.clone());
        let s2 = KvState::Empty.with(&b, x.clone()).with(&a, x.clone());
        assert_eq!(s1, s2);
        assert_eq!(
            s1.with(&b, Text::default()),
            KvState::Empty.with(&a, x.clone())
        );
        assert_eq!(
            s1.with(&a, Text::default()).with(&b, Text::default()),
            KvState::Empty
        );
        assert_eq!(s1.get("b"), Some(&x));
        assert_eq!(s1.get("c"), None);
    }

    #[test]
    fn long_chains_drop_without_overflow() {
        let p = Piece::new("x");
        let mut t = Text::default();
        for _ in 0..1_000_000 {
            t = t.append(&p);
        }
        assert_eq!(t.len(), 1_000_000);
        drop(t);
    }
}
