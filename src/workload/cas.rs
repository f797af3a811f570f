//! The `cas` workload: reads, writes and compare-and-set on one register, judged against
//! the etcd model (Jepsen's and Porcupine's `cas`) for linearizability.

use super::{HistoryOp, Workload};
use crate::check::model::ModelKind;
use crate::history::{Function, Value};
use arbitrary::{Arbitrary, Unstructured};
use std::fmt;
use std::str::FromStr;

/// The `cas` workload.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cas;

/// A compare-and-set register operation; values are small so that compare-and-sets meet
/// the value they expect often enough to succeed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CasOp {
    /// Read the register.
    Read,
    /// Write a value.
    Write(u8),
    /// Set the register to `new` if it holds `expected`.
    Cas {
        /// The value the register must hold.
        expected: u8,
        /// The value it then holds.
        new: u8,
    },
}

/// Values range over `0..VALUES`.
pub const VALUES: u8 = 5;

impl<'a> Arbitrary<'a> for CasOp {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let a = u8::arbitrary(u)? % VALUES;
        let b = u8::arbitrary(u)? % VALUES;
        Ok(match u8::arbitrary(u)? % 3 {
            0 => CasOp::Read,
            1 => CasOp::Write(a),
            _ => CasOp::Cas {
                expected: a,
                new: b,
            },
        })
    }
}

impl fmt::Display for CasOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CasOp::Read => f.write_str("read"),
            CasOp::Write(v) => write!(f, "write {v}"),
            CasOp::Cas { expected, new } => write!(f, "cas {expected} {new}"),
        }
    }
}

fn value(word: &str) -> Result<u8, String> {
    word.parse::<u8>()
        .ok()
        .filter(|v| *v < VALUES)
        .ok_or_else(|| format!("`{word}` is not a value; values are 0 to {}", VALUES - 1))
}

impl FromStr for CasOp {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let words: Vec<&str> = s.split_whitespace().collect();
        match words.as_slice() {
            ["read"] => Ok(CasOp::Read),
            ["write", v] => Ok(CasOp::Write(value(v)?)),
            ["cas", a, b] => Ok(CasOp::Cas {
                expected: value(a)?,
                new: value(b)?,
            }),
            _ => Err(format!(
                "expected `read`, `write V` or `cas EXPECTED NEW`, found `{s}`"
            )),
        }
    }
}

impl Workload for Cas {
    type Op = CasOp;
    const NAME: &'static str = "cas";

    fn history_op(op: &CasOp) -> HistoryOp {
        let int = |v: u8| Value::Int(v.into());
        match *op {
            CasOp::Read => HistoryOp {
                f: Function::Read,
                key: None,
                value: Value::Nil,
            },
            CasOp::Write(v) => HistoryOp {
                f: Function::Write,
                key: None,
                value: int(v),
            },
            CasOp::Cas { expected, new } => HistoryOp {
                f: Function::Cas,
                key: None,
                value: Value::Cas(Box::new(int(expected)), Box::new(int(new))),
            },
        }
    }

    fn is_read_only(op: &CasOp) -> bool {
        *op == CasOp::Read
    }

    fn model() -> Option<ModelKind> {
        Some(ModelKind::Cas)
    }

    fn simpler_ops(op: &CasOp) -> Vec<CasOp> {
        match *op {
            CasOp::Read => Vec::new(),
            CasOp::Write(v) => vec![CasOp::Read, CasOp::Write(v.min(1))],
            CasOp::Cas { new, .. } => vec![CasOp::Read, CasOp::Write(new)],
        }
    }

    fn liveness_probe(client: u8) -> Option<CasOp> {
        (client == 0).then_some(CasOp::Write(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_round_trip_through_text() {
        for op in [
            CasOp::Read,
            CasOp::Write(3),
            CasOp::Cas {
                expected: 1,
                new: 4,
            },
        ] {
            assert_eq!(op.to_string().parse::<CasOp>(), Ok(op));
        }
        assert!("cas 1 9".parse::<CasOp>().is_err());
        assert!("swap 1".parse::<CasOp>().is_err());
    }

    #[test]
    fn a_cas_is_recorded_with_both_values() {
        let h = Cas::history_op(&CasOp::Cas {
            expected: 2,
            new: 3,
        });
        assert_eq!(h.f, Function::Cas);
        assert_eq!(
            h.value,
            Value::Cas(Box::new(Value::Int(2)), Box::new(Value::Int(3)))
        );
    }
}
