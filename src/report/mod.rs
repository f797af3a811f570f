//! What a run reports: the readable trace.

mod trace;

pub use trace::{hash as trace_hash, Trace};
