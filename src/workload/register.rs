//! The `register` workload: reads and writes of one register holding a small number, judged
//! against the register model for linearizability.

use super::{HistoryOp, Workload};
use crate::check::model::ModelKind;
use crate::history::{Function, Value};
use std::fmt;
use std::str::FromStr;

/// The `register` workload.
#[derive(Clone, Copy, Debug, Default)]
pub struct Register;

/// A register operation.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, arbitrary::Arbitrary, serde::Serialize, serde::Deserialize,
)]
pub enum RegOp {
    /// Read the register.
    Read,
    /// Write a value.
    Write(u8),
}

impl fmt::Display for RegOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegOp::Read => f.write_str("read"),
            RegOp::Write(v) => write!(f, "write {v}"),
        }
    }
}

impl FromStr for RegOp {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let words: Vec<&str> = s.split_whitespace().collect();
        match words.as_slice() {
            ["read"] => Ok(RegOp::Read),
            ["write", v] => v
                .parse()
                .map(RegOp::Write)
                .map_err(|_| format!("`{v}` is not a value 0..=255")),
            _ => Err(format!("expected `read` or `write V`, found `{s}`")),
        }
    }
}

impl Workload for Register {
    type Op = RegOp;
    const NAME: &'static str = "register";

    fn history_op(op: &RegOp) -> HistoryOp {
        match op {
            RegOp::Read => HistoryOp {
                f: Function::Read,
                key: None,
                value: Value::Nil,
            },
            RegOp::Write(v) => HistoryOp {
                f: Function::Write,
                key: None,
                value: Value::Int((*v).into()),
            },
        }
    }

    fn is_read_only(op: &RegOp) -> bool {
        *op == RegOp::Read
    }

    fn model() -> Option<ModelKind> {
        Some(ModelKind::Register)
    }

    fn simpler_ops(op: &RegOp) -> Vec<RegOp> {
        match op {
            RegOp::Write(v) if *v != 0 => vec![RegOp::Read, RegOp::Write(0)],
            RegOp::Write(_) => vec![RegOp::Read],
            RegOp::Read => Vec::new(),
        }
    }

    fn liveness_probe(client: u8) -> Option<RegOp> {
        (client == 0).then_some(RegOp::Write(255))
    }
}
