//! What a run reports: the readable trace.

mod trace;

pub use trace::Trace;
