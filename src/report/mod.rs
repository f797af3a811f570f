//! What a run reports: the verdict and the report around it, the readable trace, the
//! counts that prove the faults took effect, and the self-contained HTML page of a run
//! ([`html`]) drawn from what a [`Recorder`] saw.

mod effects;
pub mod html;
mod recording;
mod trace;
mod verdict;

pub use effects::Effects;
pub use recording::{
    micros, summarize, Explained, ExplainedOp, FaultRecord, FrameRecord, LaneAddr, PhaseRecord,
    Recorder, Recording, StateRecord, StepRecord, MAX_FRAMES, MAX_SUMMARY,
};
pub use trace::{hash as trace_hash, Trace};
pub use verdict::{Failure, FailureKind, OpCounts, Outcome, Report};
