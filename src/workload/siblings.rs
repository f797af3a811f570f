//! The `siblings` workload: get, put and delete on a handful of keys of a store whose reads
//! may return several concurrent values (siblings), as Dynamo's, Riak's and Voldemort's do.
//!
//! `get KEY` and `put KEY VALUE` are written exactly as in the [`kv`](super::kv) workload
//! (`get k1`, `put k1 5`; keys `k0`..`k4`), so a `kv` scenario without appends reads as a
//! `siblings` one (`squall cap`); `delete KEY` writes a tombstone.
//!
//! # The history, shaped for the kv model
//!
//! squall's [`History`](crate::history::History) records every operation as the kv
//! workload does, so that the kv linearizability checker ([`ModelKind::Kv`]) can be run on
//! it, though [`Workload::model`] is `None` (the store does not claim linearizability):
//!
//! | operation | invoke | ok |
//! |---|---|---|
//! | `put k1 5` | `write`, key `"k1"`, `"[5]"` | same value |
//! | `delete k1` | `write`, key `"k1"`, `nil` (the kv model's empty string) | `nil` |
//! | `get k1` | `read`, key `"k1"`, `nil` | `nil` when no live sibling; `"[5]"` for one; for several, the tokens sorted and joined by `\|` (`"[3]\|[5]"`): a value no write wrote, so the kv model flags a read that saw siblings |
//!
//! A write whose outcome is unknown is `info`; a read that fails (a timeout, or a session
//! context no replica covers) is `fail`.
//!
//! What the AP checks need beyond that — each write's unique id and causal context, each
//! read's siblings and context, and the replicas' final states — is recorded by the system
//! ([`crate::systems::dynamo`]) in a [`crate::check::eventual`] history.

use super::kv::{key_of_roll, parse_key, parse_value, roll_of, token};
use super::{HistoryOp, Workload};
use crate::check::model::ModelKind;
use crate::history::{Function, Value};
use arbitrary::{Arbitrary, Unstructured};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The `siblings` workload.
#[derive(Clone, Copy, Debug, Default)]
pub struct Siblings;

/// A client operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SiblingsOp {
    /// Read a key: its siblings.
    Get {
        /// Key index (`k0` is 0).
        key: u8,
    },
    /// Write the token of `value`, overwriting what the client's last read of the key saw.
    Put {
        /// Key index.
        key: u8,
        /// Value written.
        value: u32,
    },
    /// Delete a key (a tombstone), overwriting what the client's last read saw.
    Delete {
        /// Key index.
        key: u8,
    },
}

impl SiblingsOp {
    /// The key.
    pub fn key(&self) -> u8 {
        match *self {
            SiblingsOp::Get { key } | SiblingsOp::Put { key, .. } | SiblingsOp::Delete { key } => {
                key
            }
        }
    }
}

/// What a read of these siblings' values records in the history (see the module docs).
pub fn read_value(values: &[u32]) -> Value {
    let mut tokens: Vec<String> = values.iter().map(|v| token(*v)).collect();
    tokens.sort();
    match tokens.len() {
        0 => Value::Nil,
        _ => Value::Str(tokens.join("|")),
    }
}

impl fmt::Display for SiblingsOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SiblingsOp::Get { key } => write!(f, "get k{key}"),
            SiblingsOp::Put { key, value } => write!(f, "put k{key} {value}"),
            SiblingsOp::Delete { key } => write!(f, "delete k{key}"),
        }
    }
}

impl FromStr for SiblingsOp {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let words: Vec<&str> = s.split_whitespace().collect();
        match words.as_slice() {
            ["get", key] => Ok(SiblingsOp::Get {
                key: parse_key(key)?,
            }),
            ["put", key, value] => Ok(SiblingsOp::Put {
                key: parse_key(key)?,
                value: parse_value(value)?,
            }),
            ["delete", key] => Ok(SiblingsOp::Delete {
                key: parse_key(key)?,
            }),
            ["get", ..] => Err("`get` takes one key, as in `get k1`".to_string()),
            ["put", ..] => Err("`put` takes a key and a value, as in `put k1 5`".to_string()),
            ["delete", ..] => Err("`delete` takes one key, as in `delete k1`".to_string()),
            ["append", ..] => Err(
                "`append` is not an operation of this store (siblings: get, put, delete)"
                    .to_string(),
            ),
            [] => Err("expected an operation: get, put or delete".to_string()),
            [other, ..] => Err(format!(
                "unknown operation `{other}`; expected get, put or delete"
            )),
        }
    }
}

impl<'a> Arbitrary<'a> for SiblingsOp {
    // Whole bytes mapped with `%`, so `op_bytes` can invert it (fuzz corpus seeding).
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let key = key_of_roll(u8::arbitrary(u)?);
        let value = u32::from(u8::arbitrary(u)? % 100);
        Ok(match u8::arbitrary(u)? % 20 {
            0..=7 => SiblingsOp::Get { key },
            8..=16 => SiblingsOp::Put { key, value },
            _ => SiblingsOp::Delete { key },
        })
    }
}

impl SiblingsOp {
    /// The bytes [`Arbitrary`] decodes into this operation (values modulo 100).
    pub fn to_bytes(&self) -> Vec<u8> {
        let key = roll_of(self.key());
        match *self {
            SiblingsOp::Get { .. } => vec![key, 0, 0],
            SiblingsOp::Put { value, .. } => vec![key, (value % 100) as u8, 8],
            SiblingsOp::Delete { .. } => vec![key, 0, 17],
        }
    }
}

impl Workload for Siblings {
    type Op = SiblingsOp;
    const NAME: &'static str = "siblings";

    fn history_op(op: &SiblingsOp) -> HistoryOp {
        let key = Some(format!("k{}", op.key()));
        match *op {
            SiblingsOp::Get { .. } => HistoryOp {
                f: Function::Read,
                key,
                value: Value::Nil,
            },
            SiblingsOp::Put { value, .. } => HistoryOp {
                f: Function::Write,
                key,
                value: Value::Str(token(value)),
            },
            SiblingsOp::Delete { .. } => HistoryOp {
                f: Function::Write,
                key,
                value: Value::Nil,
            },
        }
    }

    fn is_read_only(op: &SiblingsOp) -> bool {
        matches!(op, SiblingsOp::Get { .. })
    }

    /// None: the store is available under partitions, not linearizable.
    fn model() -> Option<ModelKind> {
        None
    }

    fn uniquify(op: &mut SiblingsOp, n: u32) {
        if let SiblingsOp::Put { value, .. } = op {
            *value = n;
        }
    }

    /// None: an AP store's recovery is convergence, judged on the replicas' final states once
    /// the healed cluster is quiet; a probe would change what it probes (a read repairs the
    /// replicas it reads, a write triggers anti-entropy) and hide the divergence it should
    /// expose.
    fn liveness_probe(_client: u8) -> Option<SiblingsOp> {
        None
    }

    fn op_bytes(op: &SiblingsOp) -> Option<Vec<u8>> {
        Some(op.to_bytes())
    }

    fn simpler_ops(op: &SiblingsOp) -> Vec<SiblingsOp> {
        let mut simpler = Vec::new();
        match *op {
            SiblingsOp::Get { key } => {
                if key != 0 {
                    simpler.push(SiblingsOp::Get { key: 0 });
                }
            }
            SiblingsOp::Put { key, value } => {
                simpler.push(SiblingsOp::Get { key });
                if key != 0 {
                    simpler.push(SiblingsOp::Put { key: 0, value });
                }
            }
            SiblingsOp::Delete { key } => {
                simpler.push(SiblingsOp::Get { key });
                if key != 0 {
                    simpler.push(SiblingsOp::Delete { key: 0 });
                }
            }
        }
        simpler
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::kv::{KvOp, KEYS};

    #[test]
    fn ops_round_trip_through_text_and_reject_bad_input() {
        for text in ["get k1", "put k0 5", "delete k4"] {
            let op: SiblingsOp = text.parse().expect("parses");
            assert_eq!(op.to_string(), text);
        }
        for bad in [
            "",
            "get",
            "get k5",
            "put k1",
            "put k1 x",
            "delete",
            "append k1 2",
            "del k1",
        ] {
            assert!(!bad.parse::<SiblingsOp>().expect_err(bad).is_empty());
        }
    }

    #[test]
    fn kv_gets_and_puts_read_as_the_same_operations_with_the_same_history() {
        for text in ["get k3", "put k1 42"] {
            let kv: KvOp = text.parse().expect("kv");
            let ours: SiblingsOp = kv.to_string().parse().expect("siblings");
            assert_eq!(ours.to_string(), text);
            let (a, b) = (
                crate::workload::kv::Kv::history_op(&kv),
                Siblings::history_op(&ours),
            );
            assert_eq!(a, b);
        }
        assert_eq!(read_value(&[]), Value::Nil);
        assert_eq!(read_value(&[5, 3]), Value::Str("[3]|[5]".into()));
    }

    #[test]
    fn op_bytes_decode_back_to_the_op() {
        for key in 0..KEYS {
            for op in [
                SiblingsOp::Get { key },
                SiblingsOp::Put { key, value: 42 },
                SiblingsOp::Delete { key },
            ] {
                let bytes = Siblings::op_bytes(&op).expect("encodable");
                let mut u = Unstructured::new(&bytes);
                assert_eq!(SiblingsOp::arbitrary(&mut u).expect("decodes"), op);
            }
        }
    }
}
