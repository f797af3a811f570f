//! Planted saga bugs behind one runtime switch, each modelled on a real bug class
//! (`/work/shared/BUGS.md` rows S1–S8).

use crate::mutants::MutantInfo;
use std::str::FromStr;

/// A planted bug in the saga store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutant {
    /// S1: a compensation whose forward step never took effect applies its inverse anyway.
    EmptyCompensation,
    /// S2: a forward step arriving after its compensation is executed.
    HangingForward,
    /// S3: a service keeps no dedup record of forward steps; a retry runs the step again.
    ForwardWithoutDedup,
    /// S4: a service keeps no dedup record of compensations; a retry undoes the step again.
    CompensationWithoutDedup,
    /// S5: a step's effect and its dedup record are two writes; a crash between them leaves
    /// the effect without the record, and the retry applies it again.
    DedupNotAtomic,
    /// S6: the orchestrator keeps a saga's forward progress in memory and logs it only with
    /// the saga's compensation or end; a crash forgets the saga.
    UnloggedSteps,
    /// S7: a forward step whose outcome is unknown (its reply lost) is treated as not
    /// executed, so only the steps before it are compensated.
    AmbiguousNotCompensated,
    /// S8: a compensation is retried a few times, then given up on and counted as done.
    CompensationGivesUp,
}

impl Mutant {
    /// Every planted bug.
    pub const ALL: [Mutant; 8] = [
        Mutant::EmptyCompensation,
        Mutant::HangingForward,
        Mutant::ForwardWithoutDedup,
        Mutant::CompensationWithoutDedup,
        Mutant::DedupNotAtomic,
        Mutant::UnloggedSteps,
        Mutant::AmbiguousNotCompensated,
        Mutant::CompensationGivesUp,
    ];

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// Name, description and the property expected to catch it.
    pub fn info(self) -> MutantInfo {
        use super::invariants as p;
        match self {
            Mutant::EmptyCompensation => MutantInfo::new(
                "empty-compensation",
                "S1: a compensation arriving before (or without) its forward step undoes what the step would have done, e.g. refunds money never charged (Seata: allow empty compensation)",
                p::COMPENSATION_MATCHES.name,
            ),
            Mutant::HangingForward => MutantInfo::new(
                "hanging-forward",
                "S2: a forward step delayed past its compensation is executed, and nothing undoes it (Seata anti-suspension, servicecomb-pack #346)",
                p::NO_FORWARD_AFTER_COMPENSATION.name,
            ),
            Mutant::ForwardWithoutDedup => MutantInfo::new(
                "forward-without-dedup",
                "S3: a forward step has no dedup record under its idempotency key, so a retry after a lost reply runs it twice (double charge)",
                p::AT_MOST_ONCE.name,
            ),
            Mutant::CompensationWithoutDedup => MutantInfo::new(
                "compensation-without-dedup",
                "S4: a compensation has no dedup record, so a retry after a lost acknowledgment refunds twice (servicecomb-pack #400)",
                p::AT_MOST_ONCE.name,
            ),
            Mutant::DedupNotAtomic => MutantInfo::new(
                "dedup-not-atomic",
                "S5: a step's effect and its dedup record are separate writes; a crash between them loses the record and the retry applies the effect again (Seata PR #3545)",
                p::AT_MOST_ONCE.name,
            ),
            Mutant::UnloggedSteps => MutantInfo::new(
                "unlogged-steps",
                "S6: the orchestrator issues steps before logging them (forward progress in memory only); a crash forgets the saga, neither continued nor compensated (hoangdaochuz/booking #39)",
                p::LOG_MONOTONE.name,
            ),
            Mutant::AmbiguousNotCompensated => MutantInfo::new(
                "ambiguous-not-compensated",
                "S7: a step that timed out is treated as not executed, so its effect is never compensated (servicecomb-pack #227, hoangdaochuz/booking #23)",
                p::SEMANTIC_ATOMICITY.name,
            ),
            Mutant::CompensationGivesUp => MutantInfo::new(
                "compensation-gives-up",
                "S8: a compensation is given up after a few retries and the saga marked compensated, leaving a partial order behind (OrleansContrib.Sagas #10)",
                p::SEMANTIC_ATOMICITY.name,
            ),
        }
    }
}

impl FromStr for Mutant {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Mutant::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Mutant::ALL.iter().map(|m| m.name()).collect();
                format!(
                    "unknown planted bug `{s}` for `saga`; known: {}",
                    names.join(", ")
                )
            })
    }
}
