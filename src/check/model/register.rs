//! A read/write register.

use super::Model;
use crate::check::linearizability::{Operation, Outcome};
use crate::history::{Function, Value};

/// A register holding one [`Value`], initially `Nil`. A read returns the current value; a
/// write replaces it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Register;

/// A register operation.
#[derive(Debug)]
pub enum RegisterOp {
    /// Read that returned this value (`None`: unknown).
    Read(Option<Value>),
    /// Write of this value.
    Write(Value),
}

impl Model for Register {
    type State = Value;
    type Op = RegisterOp;

    fn name(&self) -> &'static str {
        "register"
    }

    fn init(&self) -> Value {
        Value::Nil
    }

    fn prepare(&self, op: &Operation) -> Result<RegisterOp, String> {
        match (op.f, &op.output) {
            (Function::Read, Outcome::Ok(v)) => Ok(RegisterOp::Read(Some(v.clone()))),
            (Function::Read, Outcome::Unknown) => Ok(RegisterOp::Read(None)),
            (Function::Write, Outcome::Ok(_) | Outcome::Unknown) => {
                Ok(RegisterOp::Write(op.input.clone()))
            }
            (f, o) => Err(format!("the register model has no {f:?} with outcome {o}")),
        }
    }

    fn step(&self, state: &Value, op: &RegisterOp) -> Option<Value> {
        match op {
            RegisterOp::Read(Some(v)) => (v == state).then(|| state.clone()),
            RegisterOp::Read(None) => Some(state.clone()),
            RegisterOp::Write(v) => Some(v.clone()),
        }
    }

    fn is_read_only(&self, op: &Self::Op) -> bool {
        matches!(op, RegisterOp::Read(Some(_)))
    }

    fn describe_state(&self, state: &Value) -> String {
        state.to_string()
    }
}
