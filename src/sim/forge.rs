//! The runner's side of forged messages (`forge nX`): drawing one, and what a run checks once
//! one has been delivered.
//!
//! A forgery is drawn from the scenario's seed, the target node and the step's number — not
//! from the runner's RNG stream — so that removing other steps (shrinking) leaves it as it was.
//! The runner sends it from the harness's address in an envelope ([`crate::node::forge`]);
//! the target's transport counts it as delivered when it receives it.
//!
//! What a run checks after the first delivery depends on the system:
//! - a system that claims byzantine tolerance ([`System::byzantine_tolerant`]) keeps every
//!   property;
//! - any other keeps only the harness's properties — no panics, no node errors, bounded
//!   memory, recovery and progress once everything heals — and its client history is checked
//!   for linearizability only up to the last step before the delivery: a forged AppendEntries
//!   may legitimately overwrite a crash-fault-tolerant log, so the protocol's safety
//!   properties and the consistency of what clients see afterwards are not the system's
//!   promise any more. The history prefix is sound to check: nothing in it could have seen
//!   the forgery, and an operation still running at the cut counts as indeterminate (it may
//!   or may not take effect), which every linearizable history allows.

use crate::node::forge::{envelope, ForgeContext, Forged};
use crate::scenario::NodeId;
use crate::systems::property::harness;
use crate::systems::{Property, Selection, System};
use arbitrary::Unstructured;
use rand::{Rng, RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::net::SocketAddr;

/// Purpose tag of the forgery seeds ([`super::runner::derive_seed`]).
const FORGE_SEED_TAG: u64 = 4;

/// Bytes a forged message is generated from.
pub const FORGE_BYTES: usize = 512;

/// One forged message, ready to send.
pub(super) struct Draw {
    /// The node it impersonates.
    pub sender: NodeId,
    /// The message.
    pub forged: Forged,
}

impl Draw {
    /// The datagram the harness sends: the frame in an envelope naming `peer`.
    pub fn datagram(&self, peer: SocketAddr) -> Vec<u8> {
        envelope(peer, &self.forged.frame)
    }
}

/// The `k`-th forgery for `target` in a `nodes`-node run of scenario seed `seed`; `None` if
/// the system takes no forged messages or these bytes make none.
pub(super) fn draw<S: System>(
    system: &S,
    seed: u64,
    nodes: u8,
    target: NodeId,
    k: u8,
) -> Option<Draw> {
    let forger = system.forger()?;
    let stream = super::runner::derive_seed(seed, FORGE_SEED_TAG);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(super::runner::derive_seed(
        stream,
        u64::from(target) << 8 | u64::from(k),
    ));
    // Any node but the target.
    let other = rng.random_range(0..nodes.max(2) - 1);
    let sender = if other >= target { other + 1 } else { other };
    let mut bytes = vec![0u8; FORGE_BYTES];
    rng.fill_bytes(&mut bytes);
    let context = ForgeContext {
        nodes,
        target,
        sender,
    };
    let forged = forger.forge(&mut Unstructured::new(&bytes), context)?;
    Some(Draw { sender, forged })
}

/// What a run has seen of its forgeries.
pub(super) struct Forgeries {
    /// Whether the system keeps its properties under forged input.
    byzantine_tolerant: bool,
    /// Forged messages sent so far.
    sent: u64,
    /// Whether one has been delivered.
    delivered: bool,
    /// History events recorded while certainly no forgery had been delivered.
    events_before: usize,
}

impl Forgeries {
    pub(super) fn new(byzantine_tolerant: bool) -> Self {
        Forgeries {
            byzantine_tolerant,
            sent: 0,
            delivered: false,
            events_before: 0,
        }
    }

    /// A forgery was sent while the history had `events` events.
    pub(super) fn sent(&mut self, events: usize) {
        if !self.delivered && self.sent == 0 {
            self.events_before = events;
        }
        self.sent += 1;
    }

    /// Whether the runner must look for a first delivery after each tick.
    pub(super) fn watching(&self) -> bool {
        self.sent > 0 && !self.delivered
    }

    /// After a tick: `delivered` is whether any forgery has reached a node, `events` the
    /// history's length now. Returns true at the first delivery.
    pub(super) fn after_tick(&mut self, delivered: bool, events: usize) -> bool {
        if delivered {
            self.delivered = true;
            return true;
        }
        self.events_before = events;
        false
    }

    /// How many history events linearizability is checked on: `None` for all of them (no
    /// forgery delivered, or a byzantine-tolerant system).
    pub(super) fn honest_events(&self) -> Option<usize> {
        (self.delivered && !self.byzantine_tolerant).then_some(self.events_before)
    }

    /// The selection for the rest of the run after the first delivery.
    pub(super) fn selection_after(&self, selection: &Selection, known: &[Property]) -> Selection {
        if self.byzantine_tolerant {
            return selection.clone();
        }
        selection.suspending(known, |p| {
            !harness::ALL.contains(p) && *p != harness::LINEARIZABILITY
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VOTE: Property = Property::safety("election safety", "…");

    #[test]
    fn a_crash_fault_tolerant_run_keeps_only_the_harness_and_the_history_prefix() {
        let known = [
            harness::NO_PANICS,
            harness::NO_NODE_ERRORS,
            harness::BOUNDED_MEMORY,
            harness::RECOVERY_AFTER_HEAL,
            VOTE,
            harness::LINEARIZABILITY,
        ];
        let mut f = Forgeries::new(false);
        assert!(!f.watching());
        f.sent(4);
        assert!(f.watching());
        assert!(!f.after_tick(false, 6));
        assert_eq!(f.honest_events(), None);
        assert!(f.after_tick(true, 9));
        assert!(!f.watching());
        assert_eq!(f.honest_events(), Some(6));
        let after = f.selection_after(&Selection::all(), &known);
        for p in &known {
            assert_eq!(after.includes(p.name), *p != VOTE, "{}", p.name);
        }
        // It composes with a selection: what was not selected stays out.
        let only_vote = Selection::of(&["election-safety".into()], &known).expect("known");
        let after = f.selection_after(&only_vote, &known);
        assert!(!after.includes(VOTE.name) && !after.includes(harness::BOUNDED_MEMORY.name));
        assert!(after.includes(harness::NO_PANICS.name));
    }

    #[test]
    fn a_byzantine_tolerant_run_keeps_everything() {
        let mut f = Forgeries::new(true);
        f.sent(0);
        assert!(f.after_tick(true, 3));
        assert_eq!(f.honest_events(), None);
        assert!(f.selection_after(&Selection::all(), &[VOTE]).is_all());
    }
}
