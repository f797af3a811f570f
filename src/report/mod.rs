//! What a run reports: the verdict and the report around it, the readable trace, and the
//! counts that prove the faults took effect.

mod effects;
mod trace;
mod verdict;

pub use effects::Effects;
pub use trace::{hash as trace_hash, Trace};
pub use verdict::{Failure, FailureKind, OpCounts, Outcome, Report};
