//! The `kv` workload: get, put and append on a handful of keys, judged against the kv
//! model (each key a string; put overwrites, append concatenates) for linearizability.

use super::{HistoryOp, Workload};
use crate::check::model::ModelKind;
use crate::history::{Function, Value};
use arbitrary::{Arbitrary, Unstructured};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The `kv` workload.
#[derive(Clone, Copy, Debug, Default)]
pub struct Kv;

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

pub(crate) fn parse_key(word: &str) -> Result<u8, String> {
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

pub(crate) fn parse_value(word: &str) -> Result<u32, String> {
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

/// The key a generator byte picks ([`KEY_BY_ROLL`]; shared with the `siblings` workload).
pub(crate) fn key_of_roll(byte: u8) -> u8 {
    KEY_BY_ROLL[usize::from(byte % 20)]
}

/// The first generator byte that picks `key`: [`key_of_roll`] inverted, for `op_bytes`.
pub(crate) fn roll_of(key: u8) -> u8 {
    KEY_BY_ROLL.iter().position(|k| *k == key).unwrap_or(0) as u8
}

impl<'a> Arbitrary<'a> for KvOp {
    // Whole bytes mapped with `%`, so `op_bytes` can invert it (fuzz corpus seeding).
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let key = key_of_roll(u8::arbitrary(u)?);
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
        let key = roll_of(self.key());
        match *self {
            KvOp::Get { .. } => vec![key, 0, 0],
            KvOp::Put { value, .. } => vec![key, (value % 100) as u8, 7],
            KvOp::Append { value, .. } => vec![key, (value % 100) as u8, 14],
        }
    }
}

impl Workload for Kv {
    type Op = KvOp;
    const NAME: &'static str = "kv";

    fn history_op(op: &KvOp) -> HistoryOp {
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

    fn is_read_only(op: &KvOp) -> bool {
        matches!(op, KvOp::Get { .. })
    }

    fn model() -> Option<ModelKind> {
        Some(ModelKind::Kv)
    }

    fn uniquify(op: &mut KvOp, n: u32) {
        match op {
            KvOp::Get { .. } => {}
            KvOp::Put { value, .. } | KvOp::Append { value, .. } => *value = n,
        }
    }

    fn liveness_probe(client: u8) -> Option<KvOp> {
        Some(KvOp::Put {
            key: client % KEYS,
            value: 1_000_000 + u32::from(client),
        })
    }

    fn op_bytes(op: &KvOp) -> Option<Vec<u8>> {
        Some(op.to_bytes())
    }

    fn simpler_ops(op: &KvOp) -> Vec<KvOp> {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kv_ops_round_trip_through_text_and_reject_bad_input() {
        for text in ["get k1", "put k0 5", "append k4 4294967295"] {
            let op: KvOp = text.parse().expect("parses");
            assert_eq!(op.to_string(), text);
        }
        for bad in [
            "",
            "get",
            "get k5",
            "put k1",
            "put k1 x",
            "del k1",
            "append k1 -1",
            "get 1",
        ] {
            let err = bad.parse::<KvOp>().expect_err(bad);
            assert!(!err.is_empty());
        }
    }

    #[test]
    fn op_bytes_decode_back_to_the_op() {
        for key in 0..KEYS {
            for op in [
                KvOp::Get { key },
                KvOp::Put { key, value: 42 },
                KvOp::Append { key, value: 7 },
            ] {
                let bytes = Kv::op_bytes(&op).expect("encodable");
                let mut u = arbitrary::Unstructured::new(&bytes);
                let back = <KvOp as arbitrary::Arbitrary>::arbitrary(&mut u).expect("decodes");
                assert_eq!(back, op);
            }
        }
    }
}
