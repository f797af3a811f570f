//! Checkers: pure functions of observations and histories.
//!
//! Per-step safety invariants live with their system (they read what its nodes publish);
//! what is shared is here: the [`Violation`] every checker reports, and the history checkers.

// Linearizability checking: the search, its sequential models, history file formats and
// the Porcupine benchmark (`squall check` itself is in `crate::cli`); and the checkers of
// replicated stores that return sibling sets (`eventual`).
pub mod bench;
pub mod eventual;
pub mod formats;
pub mod linearizability;
pub mod model;
pub mod property;

use std::fmt;

/// A broken property, as a checker reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The property's name, in English ("election safety").
    pub property: String,
    /// What exactly was seen.
    pub detail: String,
    /// Whether the property is a liveness property checked while the run goes on (progress
    /// under persistent faults) rather than a safety invariant.
    pub liveness: bool,
}

impl Violation {
    /// A violation of the safety property `property`, explained by `detail`.
    pub fn new(property: impl Into<String>, detail: impl Into<String>) -> Self {
        Violation {
            property: property.into(),
            detail: detail.into(),
            liveness: false,
        }
    }

    /// A violation of the liveness property `property`, found during the run.
    pub fn liveness(property: impl Into<String>, detail: impl Into<String>) -> Self {
        Violation {
            liveness: true,
            ..Violation::new(property, detail)
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.property, self.detail)
    }
}

/// Search steps a run's history check may take. A step budget (not a deadline) keeps the
/// verdict, and so the trace, deterministic.
pub const RUN_HISTORY_STEPS: u64 = 5_000_000;

/// What checking a run's client history concluded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HistoryVerdict {
    /// Consistent with the model.
    Consistent,
    /// Not: the violation names the property and explains it.
    Violated(Violation),
    /// The check could not decide within its budget (not a failure).
    Unknown(String),
}

/// The options a run's history check uses: a step budget, so that its verdict (and the
/// trace) is deterministic.
fn run_check_options() -> linearizability::CheckOptions {
    linearizability::CheckOptions {
        budget: linearizability::Budget {
            max_steps: Some(RUN_HISTORY_STEPS),
            deadline: None,
            max_memory: 512 << 20,
        },
        ..linearizability::CheckOptions::default()
    }
}

/// Checks a run's client history for linearizability against `model`.
pub fn history_verdict(
    model: model::ModelKind,
    history: &crate::history::History,
) -> HistoryVerdict {
    match linearizability::check_history_with(model, history, &run_check_options()) {
        Ok(linearizability::Verdict::Linearizable) => HistoryVerdict::Consistent,
        Ok(linearizability::Verdict::NotLinearizable(explanation)) => {
            HistoryVerdict::Violated(Violation::new("linearizability", explanation.to_string()))
        }
        Ok(linearizability::Verdict::Unknown(why)) => HistoryVerdict::Unknown(why),
        // The harness recorded the history; if it does not pair up, that is a harness bug.
        Err(e) => HistoryVerdict::Violated(Violation::new("well-formed history", e.to_string())),
    }
}

/// Why a run's client history is not linearizable against `model`, as data (the longest
/// linearizable prefix and the operations that cannot follow it), for the HTML report; `None`
/// if it is, or the check cannot tell. The same check as [`history_verdict`].
pub fn history_explanation(
    model: model::ModelKind,
    history: &crate::history::History,
) -> Option<Box<linearizability::Explanation>> {
    match linearizability::check_history_with(model, history, &run_check_options()) {
        Ok(linearizability::Verdict::NotLinearizable(e)) => Some(e),
        _ => None,
    }
}
