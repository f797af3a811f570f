//! What implementing a system takes, in one import: `use squall::prelude::*;`.

pub use crate::check::Violation;
pub use crate::history::Value;
pub use crate::mutants::MutantInfo;
pub use crate::node::{CallError, ClientContext, NodeContext, PointInfo, Reply, Rpc, Transport};
pub use crate::systems::{Client, Liveness, OpResult, Property, StepContext, System};
pub use crate::testing::Check;
