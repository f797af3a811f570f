//! A compare-and-set register: the model of Jepsen's etcd test.

use super::Model;
use crate::check::linearizability::{Operation, Outcome};
use crate::history::{Function, Value};

/// A register with read, write and compare-and-set, initially absent (`Nil`).
///
/// A read returning `Nil` means the register is absent. `cas [old new]` sets `new` if the value
/// equals `old` and then returns ok; when the value differs it returns
/// [`Outcome::Rejected`] and changes nothing. An operation with an unknown outcome constrains
/// nothing about its output: a pending cas swaps if it can, and is otherwise a no-op.
#[derive(Clone, Copy, Debug, Default)]
pub struct CasRegister;

/// A compare-and-set register operation.
#[derive(Debug)]
pub enum CasOp {
    /// Read that returned this value (`None`: unknown).
    Read(Option<Value>),
    /// Write of this value.
    Write(Value),
    /// Compare-and-set.
    Cas {
        /// Expected value.
        old: Value,
        /// New value.
        new: Value,
        /// `Some(true)`: swapped; `Some(false)`: comparison failed; `None`: unknown.
        swapped: Option<bool>,
    },
}

impl Model for CasRegister {
    type State = Value;
    type Op = CasOp;

    fn name(&self) -> &'static str {
        "cas-register"
    }

    fn init(&self) -> Value {
        Value::Nil
    }

    fn prepare(&self, op: &Operation) -> Result<CasOp, String> {
        match (op.f, &op.output) {
            (Function::Read, Outcome::Ok(v)) => Ok(CasOp::Read(Some(v.clone()))),
            (Function::Read, Outcome::Unknown) => Ok(CasOp::Read(None)),
            (Function::Write, Outcome::Ok(_) | Outcome::Unknown) => {
                Ok(CasOp::Write(op.input.clone()))
            }
            (Function::Cas, out) => {
                let Value::Cas(old, new) = &op.input else {
                    return Err(format!("cas needs [old new] as input, got {}", op.input));
                };
                let swapped = match out {
                    Outcome::Ok(_) => Some(true),
                    Outcome::Rejected => Some(false),
                    Outcome::Unknown => None,
                };
                Ok(CasOp::Cas {
                    old: (**old).clone(),
                    new: (**new).clone(),
                    swapped,
                })
            }
            (f, o) => Err(format!("the cas model has no {f:?} with outcome {o}")),
        }
    }

    fn step(&self, state: &Value, op: &CasOp) -> Option<Value> {
        match op {
            CasOp::Read(Some(v)) => (v == state).then(|| state.clone()),
            CasOp::Read(None) => Some(state.clone()),
            CasOp::Write(v) => Some(v.clone()),
            CasOp::Cas { old, new, swapped } => match (old == state, swapped) {
                (true, Some(true) | None) => Some(new.clone()),
                (false, Some(false) | None) => Some(state.clone()),
                _ => None,
            },
        }
    }

    fn is_read_only(&self, op: &Self::Op) -> bool {
        matches!(
            op,
            CasOp::Read(Some(_))
                | CasOp::Cas {
                    swapped: Some(false),
                    ..
                }
        )
    }

    fn describe_state(&self, state: &Value) -> String {
        state.to_string()
    }
}
