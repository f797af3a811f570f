//! What a run produced: the verdict ([`Outcome`], [`Failure`]) and everything around it
//! ([`Report`]). Serializable, so that a run in a child process hands it back whole.

use super::Effects;
use crate::history::History;
use crate::scenario::FaultKind;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// Which family of property a failure broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailureKind {
    /// A per-step invariant (or a node panicked).
    Safety,
    /// The system did not recover in time once the faults healed.
    Liveness,
    /// The client history violates the consistency model.
    Consistency,
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FailureKind::Safety => "safety",
            FailureKind::Liveness => "liveness",
            FailureKind::Consistency => "consistency",
        })
    }
}

/// A failed run: which property, where, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// Safety, liveness or consistency.
    pub kind: FailureKind,
    /// The property's name.
    pub property: String,
    /// What was seen.
    pub detail: String,
    /// The scenario step (1-based) during which it happened; `None` after the last step.
    pub step: Option<usize>,
    /// Simulated time.
    pub at: Duration,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} violation: {}", self.kind, self.property)?;
        match self.step {
            Some(step) => write!(f, " at step {step}")?,
            None => write!(f, " after the last step")?,
        }
        write!(f, " ({:.3}s): {}", self.at.as_secs_f64(), self.detail)
    }
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// Every property held.
    Pass,
    /// A property was violated.
    Fail(Failure),
}

/// Client operation counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpCounts {
    /// Took effect.
    pub ok: u64,
    /// Certainly did not take effect.
    pub fail: u64,
    /// Unknown.
    pub info: u64,
}

/// Everything a run produced. Serializable, so that a run in a child process
/// ([`crate::sim::isolate`]) hands it back whole.
#[derive(Debug, Serialize, Deserialize)]
pub struct Report {
    /// The verdict.
    pub outcome: Outcome,
    /// The readable trace (empty unless `RunConfig::trace`).
    pub trace: String,
    /// The client history.
    pub history: History,
    /// What the faults did.
    pub effects: Effects,
    /// Client operation outcomes.
    pub ops: OpCounts,
    /// Simulated time run.
    pub sim_time: Duration,
    /// `sim.step()` calls.
    pub ticks: u64,
    /// Each fault applied, with the protocol phase it hit.
    #[serde(with = "phase_names")]
    pub fault_phases: Vec<(FaultKind, &'static str)>,
    /// Transitions between abstract protocol states, as hashes (when asked for).
    pub abstract_transitions: Vec<u64>,
    /// The history check ran out of budget (the run still passes).
    pub history_unknown: bool,
    /// What the HTML report draws (only when `RunConfig::record`).
    #[serde(default)]
    pub recording: Option<super::Recording>,
}

impl Report {
    /// Whether every property held.
    pub fn passed(&self) -> bool {
        self.outcome == Outcome::Pass
    }

    /// The failure, if any.
    pub fn failure(&self) -> Option<&Failure> {
        match &self.outcome {
            Outcome::Fail(f) => Some(f),
            Outcome::Pass => None,
        }
    }
}

/// Phase names are `&'static str`s a system declares; one that crosses a process boundary
/// comes back interned (leaked once per distinct name: systems have a handful).
mod phase_names {
    use crate::scenario::FaultKind;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeSet;
    use std::sync::Mutex;

    pub fn serialize<S: Serializer>(
        phases: &[(FaultKind, &'static str)],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        phases.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<(FaultKind, &'static str)>, D::Error> {
        static NAMES: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
        let phases = Vec::<(FaultKind, String)>::deserialize(d)?;
        let mut names = NAMES.lock().unwrap_or_else(|p| p.into_inner());
        Ok(phases
            .into_iter()
            .map(|(kind, name)| {
                let interned = match names.get(name.as_str()) {
                    Some(&known) => known,
                    None => {
                        let leaked: &'static str = Box::leak(name.into_boxed_str());
                        names.insert(leaked);
                        leaked
                    }
                };
                (kind, interned)
            })
            .collect())
    }
}
