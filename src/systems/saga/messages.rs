//! Wire messages and log records of the saga store.
//!
//! Every message between the orchestrator and a service carries the step's idempotency key,
//! (saga id, step): a retried, duplicated or late message is matched to its step and handled
//! idempotently, never as another one.

use crate::workload::orders::TxId;
use crate::workload::orders::{Delta, Key, Order};
use serde::{Deserialize, Serialize};

/// The largest frame the store sends or receives.
pub const RECEIVE_BUFFER: usize = 16 * 1024;

/// Every message between clients, the orchestrator and the services.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// Client → orchestrator: run this order as saga `saga` (resent until answered).
    Begin {
        /// The saga's id.
        saga: TxId,
        /// The order.
        order: Order,
    },
    /// Orchestrator → client: the saga's end.
    Outcome {
        /// The saga's id.
        saga: TxId,
        /// Completed (every step took effect) or compensated (none stands).
        completed: bool,
    },
    /// Client → orchestrator: how many sagas are in flight (an audit's quiescence check).
    Quiet {
        /// The client's attempt, echoed.
        attempt: u32,
    },
    /// Orchestrator → client: the answer to [`Message::Quiet`].
    QuietReply {
        /// The attempt answered.
        attempt: u32,
        /// Sagas begun and not ended.
        active: Vec<TxId>,
        /// Every saga its log holds: one that appears between two answers began between
        /// them.
        begun: Vec<TxId>,
    },
    /// Client → service: read `keys` (every key of the service when empty).
    Read {
        /// The service's step.
        step: u8,
        /// The keys to read.
        keys: Vec<Key>,
        /// The client's attempt, echoed.
        attempt: u32,
    },
    /// Service → client: values and the sagas whose effect stands on them.
    ReadReply {
        /// The service's step.
        step: u8,
        /// The attempt answered.
        attempt: u32,
        /// The values read.
        values: Vec<(Key, i64)>,
        /// The sagas whose forward effect stands (applied, not compensated) on them.
        standing: Vec<TxId>,
    },
    /// Orchestrator → service: take saga step `step` (resent under the same key).
    Forward {
        /// The saga.
        saga: TxId,
        /// The step, naming the service.
        step: u8,
        /// What the step changes.
        delta: Delta,
    },
    /// Service → orchestrator: the step's outcome (the recorded one, for a retry).
    ForwardReply {
        /// The saga.
        saga: TxId,
        /// The step.
        step: u8,
        /// Applied, or refused for a business reason (nothing changed).
        applied: bool,
    },
    /// Orchestrator → service: undo saga step `step` (resent until acknowledged).
    Compensate {
        /// The saga.
        saga: TxId,
        /// The step.
        step: u8,
        /// What the forward step would have changed (a correct service undoes what it
        /// recorded, not this).
        delta: Delta,
    },
    /// Service → orchestrator: the compensation is recorded (applied, or a no-op).
    CompensateReply {
        /// The saga.
        saga: TxId,
        /// The step.
        step: u8,
    },
}

/// A record of the orchestrator's saga log. Each is synced before the orchestrator acts on
/// it, so a restarted orchestrator resumes every saga at least where it left it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SagaRecord {
    /// The saga began: step 0 may be issued.
    Begin {
        /// The saga.
        saga: TxId,
        /// Its order.
        order: Order,
    },
    /// A forward step took effect: the next may be issued.
    StepDone {
        /// The saga.
        saga: TxId,
        /// The step.
        step: u8,
    },
    /// The saga is being compensated: steps `compensate - 1` down to 0 are undone.
    Abort {
        /// The saga.
        saga: TxId,
        /// How many steps to compensate (the failed step's index, or one more if its outcome
        /// was unknown).
        compensate: u8,
    },
    /// A compensation was acknowledged.
    Compensated {
        /// The saga.
        saga: TxId,
        /// The step.
        step: u8,
    },
    /// The saga ended: the client may be told.
    End {
        /// The saga.
        saga: TxId,
        /// Completed, or compensated.
        completed: bool,
    },
}

/// Which half of a step a service record is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Kind {
    /// The forward step.
    Forward,
    /// Its compensation.
    Compensation,
}

/// How a service handled a forward step or a compensation: what its dedup table says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// It took effect.
    Applied,
    /// A forward step refused for a business reason, or arriving after its compensation: no
    /// effect.
    Refused,
    /// A compensation with nothing to undo (an empty compensation): a tombstone that refuses
    /// a late forward step.
    NoOp,
}

/// A record of a service's log: its dedup table and its effects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Entry {
    /// The dedup record and the effect, in one record (so one sync makes both durable or
    /// neither).
    Step {
        /// The saga.
        saga: TxId,
        /// Forward step or compensation.
        kind: Kind,
        /// The outcome recorded for its key.
        outcome: Outcome,
        /// What changed (empty unless applied).
        delta: Delta,
    },
    /// The effect alone (planted bug S5: written apart from its dedup record).
    Effect {
        /// The saga.
        saga: TxId,
        /// Forward step or compensation.
        kind: Kind,
        /// What changed.
        delta: Delta,
    },
    /// The dedup record alone (planted bug S5).
    Dedup {
        /// The saga.
        saga: TxId,
        /// Forward step or compensation.
        kind: Kind,
        /// The outcome recorded for its key.
        outcome: Outcome,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::records::{encode_record, read_log};

    #[test]
    fn records_round_trip_and_torn_tails_are_cut() {
        let saga = TxId { client: 1, seq: 2 };
        let a = Entry::Step {
            saga,
            kind: Kind::Forward,
            outcome: Outcome::Applied,
            delta: vec![(Key::Item(1), -2)],
        };
        let b = Entry::Dedup {
            saga,
            kind: Kind::Compensation,
            outcome: Outcome::NoOp,
        };
        let mut bytes = encode_record(&a);
        bytes.extend(encode_record(&b));
        let whole = bytes.len();
        assert_eq!(read_log::<Entry>(&bytes), (vec![a.clone(), b], whole));
        bytes.truncate(whole - 1);
        let first = encode_record(&a).len();
        assert_eq!(read_log::<Entry>(&bytes), (vec![a], first));
        // Garbage reads as no records, never as a panic.
        assert_eq!(read_log::<SagaRecord>(&[0xff; 40]).0, Vec::new());
    }
}
