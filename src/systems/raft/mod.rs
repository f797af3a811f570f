//! The Raft KV store: a CP replicated key-value store on Raft.
//!
//! Implements Ongaro & Ousterhout, "In Search of an Understandable Consensus Algorithm"
//! (USENIX ATC 2014), with these parts of Ongaro's thesis (2014): PreVote (§9.6), leader
//! stickiness and CheckQuorum (§4.2.3, §6.2), the start-of-term no-op (§6.4) and client
//! sessions for exactly-once writes (§6.3). Reads go through the log (§6.4's simplest option),
//! so they are linearizable without relying on clocks.
//!
//! Map of the module:
//! - [`messages`]: wire messages and the checksummed postcard codec;
//! - [`log`]: the in-memory log, its chain digests and its disk format;
//! - [`state_machine`]: the KV map and client sessions;
//! - [`node`]: one Raft node (sans-IO core + the run loop over a [`Transport`]);
//! - [`client`]: the client process, with leader guessing and retries;
//! - [`observer`]: the registry nodes publish events into;
//! - [`invariants`]: the incremental per-step safety checker and the liveness condition;
//! - [`mutants`]: planted bugs behind one runtime switch.
//!
//! [`Transport`]: crate::sim::net::Transport

pub mod client;
pub mod coverage;
pub mod invariants;
pub mod log;
pub mod messages;
pub mod mutants;
pub mod node;
pub mod observer;
pub mod progress;
pub mod state_machine;

#[cfg(test)]
mod tests;

pub use mutants::Mutant;

use crate::check::Violation;
use crate::history::{Function, Value};
use crate::systems::{
    BoxFuture, ClientContext, HistoryModel, HistoryOp, Liveness, NodeContext, StepContext, System,
};
use arbitrary::{Arbitrary, Unstructured};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io;
use std::str::FromStr;

/// Number of keys (`k0`..`k4`).
pub const KEYS: u8 = 5;

/// A client operation on the KV store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvOp {
    /// Read a key.
    Get {
        /// Key index (`k0` is 0).
        key: u8,
    },
    /// Overwrite a key with the token of `value`.
    Put {
        /// Key index.
        key: u8,
        /// Value written.
        value: u32,
    },
    /// Append the token of `value` to a key.
    Append {
        /// Key index.
        key: u8,
        /// Value appended.
        value: u32,
    },
}

impl KvOp {
    /// The key.
    pub fn key(&self) -> u8 {
        match *self {
            KvOp::Get { key } | KvOp::Put { key, .. } | KvOp::Append { key, .. } => key,
        }
    }
}

/// The string a written value contributes to a key: `5` → `"[5]"`.
pub fn token(value: u32) -> String {
    format!("[{value}]")
}

impl fmt::Display for KvOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            KvOp::Get { key } => write!(f, "get k{key}"),
            KvOp::Put { key, value } => write!(f, "put k{key} {value}"),
            KvOp::Append { key, value } => write!(f, "append k{key} {value}"),
        }
    }
}

fn parse_key(word: &str) -> Result<u8, String> {
    let n = word
        .strip_prefix('k')
        .and_then(|n| n.parse::<u8>().ok())
        .ok_or_else(|| format!("`{word}` is not a key; keys are k0 to k{}", KEYS - 1))?;
    if n >= KEYS {
        return Err(format!(
            "key `{word}` does not exist; keys are k0 to k{}",
            KEYS - 1
        ));
    }
    Ok(n)
}

fn parse_value(word: &str) -> Result<u32, String> {
    word.parse::<u32>().map_err(|_| {
        format!(
            "`{word}` is not a value; values are whole numbers from 0 to {}",
            u32::MAX
        )
    })
}

impl FromStr for KvOp {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let words: Vec<&str> = s.split_whitespace().collect();
        match words.as_slice() {
            ["get", key] => Ok(KvOp::Get {
                key: parse_key(key)?,
            }),
            ["put", key, value] => Ok(KvOp::Put {
                key: parse_key(key)?,
                value: parse_value(value)?,
            }),
            ["append", key, value] => Ok(KvOp::Append {
                key: parse_key(key)?,
                value: parse_value(value)?,
            }),
            ["get", ..] => Err("`get` takes one key, as in `get k1`".to_string()),
            ["put", ..] => Err("`put` takes a key and a value, as in `put k1 5`".to_string()),
            ["append", ..] => {
                Err("`append` takes a key and a value, as in `append k1 5`".to_string())
            }
            [] => Err("expected an operation: get, put or append".to_string()),
            [other, ..] => Err(format!(
                "unknown operation `{other}`; expected get, put or append"
            )),
        }
    }
}

/// Key choice by byte (`% 20`): biased to a few keys so operations contend —
/// k0 40%, k1 25%, k2 15%, k3 10%, k4 10%.
const KEY_BY_ROLL: [u8; 20] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 4];

impl<'a> Arbitrary<'a> for KvOp {
    // Whole bytes mapped with `%`, so `op_bytes` can invert it (fuzz corpus seeding).
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let key = KEY_BY_ROLL[usize::from(u8::arbitrary(u)? % 20)];
        let value = u32::from(u8::arbitrary(u)? % 100);
        Ok(match u8::arbitrary(u)? % 20 {
            0..=6 => KvOp::Get { key },
            7..=13 => KvOp::Put { key, value },
            _ => KvOp::Append { key, value },
        })
    }
}

impl KvOp {
    /// The bytes [`Arbitrary`] decodes into this operation (values modulo 100).
    pub fn to_bytes(&self) -> Vec<u8> {
        let key = KEY_BY_ROLL
            .iter()
            .position(|k| *k == self.key())
            .unwrap_or(0) as u8;
        match *self {
            KvOp::Get { .. } => vec![key, 0, 0],
            KvOp::Put { value, .. } => vec![key, (value % 100) as u8, 7],
            KvOp::Append { value, .. } => vec![key, (value % 100) as u8, 14],
        }
    }
}

/// The Raft KV system, optionally with a planted bug.
#[derive(Clone, Copy, Debug, Default)]
pub struct RaftKv {
    /// The planted bug, if any.
    pub mutant: Option<Mutant>,
}

impl RaftKv {
    /// The store with the named planted bug (`None`: the correct store).
    pub fn from_mutant_name(mutant: Option<&str>) -> Result<Self, String> {
        Ok(RaftKv {
            mutant: mutant.map(str::parse).transpose()?,
        })
    }

    /// The planted bugs, for `squall mutants`.
    pub fn mutants() -> Vec<crate::mutants::MutantInfo> {
        Mutant::ALL
            .iter()
            .map(|m| crate::mutants::MutantInfo {
                name: m.name(),
                description: m.description(),
                caught_by: m.caught_by(),
            })
            .collect()
    }
}

impl System for RaftKv {
    type Op = KvOp;
    type Observer = observer::Observer;
    type Checker = invariants::Checker;
    type Client = client::RaftClient;

    fn name(&self) -> &'static str {
        "raft"
    }

    fn observer(&self, nodes: u8) -> Self::Observer {
        observer::Observer::new(nodes)
    }

    fn checker(&self, nodes: u8) -> Self::Checker {
        invariants::Checker::new(nodes)
    }

    fn start_node(
        &self,
        ctx: NodeContext,
        observer: Self::Observer,
    ) -> BoxFuture<'static, io::Result<()>> {
        Box::pin(node::run(ctx, observer, self.mutant))
    }

    fn connect_client(&self, ctx: ClientContext) -> BoxFuture<'static, io::Result<Self::Client>> {
        let mutant = self.mutant;
        Box::pin(async move { client::RaftClient::connect(ctx, mutant).await })
    }

    fn history_op(&self, op: &KvOp) -> HistoryOp {
        let key = Some(format!("k{}", op.key()));
        match *op {
            KvOp::Get { .. } => HistoryOp {
                f: Function::Read,
                key,
                value: Value::Nil,
            },
            KvOp::Put { value, .. } => HistoryOp {
                f: Function::Write,
                key,
                value: Value::Str(token(value)),
            },
            KvOp::Append { value, .. } => HistoryOp {
                f: Function::Append,
                key,
                value: Value::Str(token(value)),
            },
        }
    }

    fn uniquify(&self, op: &mut KvOp, n: u32) {
        match op {
            KvOp::Get { .. } => {}
            KvOp::Put { value, .. } | KvOp::Append { value, .. } => *value = n,
        }
    }

    fn is_read_only(&self, op: &KvOp) -> bool {
        matches!(op, KvOp::Get { .. })
    }

    fn check_step(
        &self,
        checker: &mut Self::Checker,
        observer: &Self::Observer,
        ctx: &mut StepContext<'_>,
    ) -> Result<(), Violation> {
        checker.check(observer, ctx)
    }

    fn liveness(&self, checker: &Self::Checker, observer: &Self::Observer) -> Liveness {
        checker.liveness(observer)
    }

    fn liveness_probe(&self, client: u8) -> Option<KvOp> {
        Some(KvOp::Put {
            key: client % KEYS,
            value: 1_000_000 + u32::from(client),
        })
    }

    fn history_model(&self) -> Option<HistoryModel> {
        Some(HistoryModel::Kv)
    }

    fn op_bytes(&self, op: &KvOp) -> Option<Vec<u8>> {
        Some(op.to_bytes())
    }

    fn simpler_ops(&self, op: &KvOp) -> Vec<KvOp> {
        let mut simpler = Vec::new();
        match *op {
            KvOp::Get { key } => {
                if key != 0 {
                    simpler.push(KvOp::Get { key: 0 });
                }
            }
            KvOp::Put { key, value } | KvOp::Append { key, value } => {
                simpler.push(KvOp::Get { key });
                if matches!(op, KvOp::Append { .. }) {
                    simpler.push(KvOp::Put { key, value });
                }
                if key != 0 {
                    simpler.push(match *op {
                        KvOp::Append { .. } => KvOp::Append { key: 0, value },
                        _ => KvOp::Put { key: 0, value },
                    });
                }
            }
        }
        simpler
    }

    fn leader(
        &self,
        _checker: &Self::Checker,
        observer: &Self::Observer,
    ) -> Option<crate::scenario::NodeId> {
        let reg = observer.0.borrow();
        (0..reg.nodes.len())
            .filter(|i| reg.nodes[*i].up && reg.nodes[*i].role == observer::Role::Leader)
            .max_by_key(|i| reg.nodes[*i].term)
            .map(|i| i as crate::scenario::NodeId)
    }

    fn phase(&self, checker: &Self::Checker, observer: &Self::Observer) -> &'static str {
        coverage::phase(checker, observer)
    }

    fn abstract_state(&self, checker: &Self::Checker, observer: &Self::Observer) -> u64 {
        coverage::abstract_state(checker, observer)
    }

    /// Every line of the store is squall's own: it keeps no per-thread or per-process state
    /// and iterates no hashed collection, so its scenarios can share a thread, the cheapest
    /// way to run them (BENCHMARKS.md). `squall determinism raft` checks the claim, and
    /// findings are still replayed in a fresh process.
    fn isolation(&self) -> crate::sim::isolate::Isolation {
        crate::sim::isolate::Isolation::Shared
    }
}
