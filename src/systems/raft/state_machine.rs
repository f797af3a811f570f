//! The replicated state machine: a map from keys to strings, plus client sessions.
//!
//! Sessions give exactly-once semantics (thesis §6.3): each client numbers its operations and
//! retries an operation with the same number; the state machine remembers, per client, the
//! last sequence number it applied and that operation's result. A command whose number is the
//! remembered one is a retry: it is not applied again, and its remembered result is returned.
//! A client has at most one operation outstanding, so one remembered result per client is
//! enough; a command with an older number is a stale duplicate and has no effect.

use super::messages::{fnv64, mix};
use crate::workload::kv::{token, KvOp};
use std::collections::BTreeMap;

/// What applying a command did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// Applied now; the result.
    Fresh(String),
    /// A retry of the last applied operation; its remembered result.
    Retry(String),
    /// Older than the client's last applied operation; ignored.
    Stale,
}

#[derive(Clone, Debug, Default)]
struct Session {
    seq: u64,
    result: String,
}

/// The KV map and the sessions.
#[derive(Clone, Debug, Default)]
pub struct StateMachine {
    values: BTreeMap<u8, String>,
    sessions: BTreeMap<u64, Session>,
    /// XOR over keys of `mix(key, fnv64(value))`, kept up to date incrementally.
    digest: u64,
    /// Bytes of values and remembered results, kept up to date incrementally.
    bytes: u64,
}

impl StateMachine {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A key's value (`""` when absent).
    pub fn get(&self, key: u8) -> &str {
        self.values.get(&key).map_or("", String::as_str)
    }

    /// Bytes of the values and of the sessions' remembered results (and a word per session).
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Digest of the whole map, for comparing replicas.
    pub fn digest(&self) -> u64 {
        self.digest
    }

    /// The remembered result if `seq` is the client's last applied operation.
    pub fn cached(&self, client: u64, seq: u64) -> Option<&str> {
        self.sessions
            .get(&client)
            .filter(|s| s.seq == seq)
            .map(|s| s.result.as_str())
    }

    /// Whether the client has already applied an operation numbered `seq` or later.
    pub fn seen(&self, client: u64, seq: u64) -> bool {
        self.sessions.get(&client).is_some_and(|s| s.seq >= seq)
    }

    /// Applies a client's command. `dedup: false` is the planted no-deduplication bug.
    pub fn apply(&mut self, client: u64, seq: u64, op: &KvOp, dedup: bool) -> Applied {
        if dedup {
            if let Some(session) = self.sessions.get(&client) {
                if seq == session.seq {
                    return Applied::Retry(session.result.clone());
                }
                if seq < session.seq {
                    return Applied::Stale;
                }
            }
        }
        let result = self.execute(op);
        self.bytes += (result.len() + SESSION_BYTES) as u64;
        let old = self.sessions.insert(
            client,
            Session {
                seq,
                result: result.clone(),
            },
        );
        if let Some(old) = old {
            self.bytes -= (old.result.len() + SESSION_BYTES) as u64;
        }
        Applied::Fresh(result)
    }

    fn execute(&mut self, op: &KvOp) -> String {
        match *op {
            KvOp::Get { key } => self.get(key).to_string(),
            KvOp::Put { key, value } => {
                self.set(key, |v| *v = token(value));
                String::new()
            }
            KvOp::Append { key, value } => {
                self.set(key, |v| v.push_str(&token(value)));
                String::new()
            }
        }
    }

    fn set(&mut self, key: u8, change: impl FnOnce(&mut String)) {
        let slot = self.values.entry(key).or_default();
        self.digest ^= key_digest(key, slot);
        self.bytes -= slot.len() as u64;
        change(slot);
        self.bytes += slot.len() as u64;
        self.digest ^= key_digest(key, slot);
    }
}

/// What a session costs besides its result: its key, number and map slot, roughly.
const SESSION_BYTES: usize = 32;

fn key_digest(key: u8, value: &str) -> u64 {
    if value.is_empty() {
        0
    } else {
        mix(u64::from(key) + 1, fnv64(value.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retried_write_applies_exactly_once() {
        let mut sm = StateMachine::new();
        let op = KvOp::Append { key: 1, value: 5 };
        assert_eq!(sm.apply(9, 1, &op, true), Applied::Fresh(String::new()));
        assert_eq!(sm.apply(9, 1, &op, true), Applied::Retry(String::new()));
        assert_eq!(sm.get(1), "[5]");
        assert_eq!(
            sm.apply(9, 2, &KvOp::Get { key: 1 }, true),
            Applied::Fresh("[5]".into())
        );
        // A late duplicate of the first append changes nothing.
        assert_eq!(sm.apply(9, 1, &op, true), Applied::Stale);
        assert_eq!(sm.get(1), "[5]");
        // Another client's identical-looking op is a different operation.
        sm.apply(4, 1, &op, true);
        assert_eq!(sm.get(1), "[5][5]");
    }

    #[test]
    fn without_dedup_a_retry_applies_twice() {
        let mut sm = StateMachine::new();
        let op = KvOp::Append { key: 0, value: 1 };
        sm.apply(1, 1, &op, false);
        sm.apply(1, 1, &op, false);
        assert_eq!(sm.get(0), "[1][1]");
    }

    #[test]
    fn put_replaces_and_digest_tracks_contents() {
        let mut a = StateMachine::new();
        let mut b = StateMachine::new();
        a.apply(1, 1, &KvOp::Append { key: 2, value: 1 }, true);
        a.apply(1, 2, &KvOp::Put { key: 2, value: 7 }, true);
        b.apply(2, 1, &KvOp::Put { key: 2, value: 7 }, true);
        assert_eq!(a.get(2), "[7]");
        assert_eq!(a.digest(), b.digest());
        b.apply(2, 2, &KvOp::Append { key: 3, value: 1 }, true);
        assert_ne!(a.digest(), b.digest());
        assert_eq!(a.get(4), "");
    }
}
