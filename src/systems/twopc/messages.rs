//! Wire messages and write-ahead-log records of the 2PC store.
//!
//! Every message carries its transaction id ([`TxId`]), so a late or duplicated message is
//! matched to its transaction and handled idempotently, never to another one.

pub use crate::node::records::encode_record;
use crate::workload::bank::TxId;
use serde::{Deserialize, Serialize};

/// The largest frame the store sends or receives.
pub const RECEIVE_BUFFER: usize = 16 * 1024;

/// An account's change in one transaction: (account, signed amount).
pub type Write = (u8, i64);

/// Every participant's writes in one transaction, by participant.
pub type Writes = Vec<(u8, Vec<Write>)>;

/// Every message between clients, the coordinator and the participants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// Client → coordinator: run this transfer as transaction `tx` (resent until answered).
    Begin {
        /// Transaction id.
        tx: TxId,
        /// Debited account.
        from: u8,
        /// Credited account.
        to: u8,
        /// Amount.
        amount: u32,
    },
    /// Coordinator → client: the transaction's outcome.
    Outcome {
        /// Transaction id.
        tx: TxId,
        /// Committed (and applied at every participant) or aborted.
        committed: bool,
    },
    /// Client → participant: read `accounts` (all of the participant's when empty). With
    /// `lock`, take a read lock on all of them (a read-all's snapshot), refused while a
    /// prepared transaction holds one.
    Read {
        /// The read's id.
        tx: TxId,
        /// Accounts to read; empty: all of the participant's.
        accounts: Vec<u8>,
        /// Whether to take a read lock.
        lock: bool,
        /// The client's attempt, echoed (a late answer to an earlier attempt is stale).
        attempt: u32,
    },
    /// Participant → client: committed balances and the transfers applied to them.
    ReadReply {
        /// The read's id.
        tx: TxId,
        /// Balances read.
        balances: Vec<(u8, i64)>,
        /// Committed transfers that touched them.
        seen: Vec<TxId>,
        /// The lock was refused (a prepared transaction holds an account): retry.
        busy: bool,
        /// The attempt answered.
        attempt: u32,
    },
    /// Client → participant: release the read lock of read `tx`'s attempt `attempt`.
    Unlock {
        /// The read's id.
        tx: TxId,
        /// The attempt whose lock to release: a late unlock of an earlier attempt must not
        /// release the lock of a later one.
        attempt: u32,
    },
    /// Coordinator → participant: phase 1.
    Prepare {
        /// Transaction id.
        tx: TxId,
        /// The participant's writes.
        writes: Vec<Write>,
    },
    /// Participant → coordinator: its vote.
    Vote {
        /// Transaction id.
        tx: TxId,
        /// Voter.
        node: u8,
        /// Yes (prepared, record synced) or no.
        yes: bool,
    },
    /// Coordinator → participant: phase 2 (or the answer to an inquiry).
    Decide {
        /// Transaction id.
        tx: TxId,
        /// Commit or abort.
        commit: bool,
    },
    /// Participant → coordinator: the decision is applied (and logged).
    Ack {
        /// Transaction id.
        tx: TxId,
        /// Acknowledging participant.
        node: u8,
    },
    /// In-doubt participant → coordinator: what was decided?
    Inquire {
        /// Transaction id.
        tx: TxId,
        /// Asking participant.
        node: u8,
    },
}

/// A record in a node's write-ahead log. The coordinator's log holds `Decision` and `Done`;
/// a participant's holds `Prepared`, `Committed` and `Aborted`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Record {
    /// The coordinator decided (forced before any participant hears of it).
    Decision {
        /// Transaction id.
        tx: TxId,
        /// Commit or abort.
        commit: bool,
        /// Every participant's writes.
        writes: Vec<(u8, Vec<Write>)>,
    },
    /// Every participant acknowledged the decision: nothing left to re-drive.
    Done {
        /// Transaction id.
        tx: TxId,
    },
    /// The participant prepared (forced before it votes yes).
    Prepared {
        /// Transaction id.
        tx: TxId,
        /// Its writes.
        writes: Vec<Write>,
    },
    /// The participant committed a prepared transaction.
    Committed {
        /// Transaction id.
        tx: TxId,
    },
    /// The participant aborted a prepared transaction.
    Aborted {
        /// Transaction id.
        tx: TxId,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::records::read_log;

    #[test]
    fn records_round_trip_and_torn_tails_are_cut() {
        let a = Record::Prepared {
            tx: TxId { client: 1, seq: 2 },
            writes: vec![(0, -5), (3, 5)],
        };
        let b = Record::Committed {
            tx: TxId { client: 1, seq: 2 },
        };
        let mut bytes = encode_record(&a);
        bytes.extend(encode_record(&b));
        let whole = bytes.len();
        assert_eq!(read_log(&bytes), (vec![a.clone(), b], whole));
        bytes.truncate(whole - 1);
        let first = encode_record(&a).len();
        assert_eq!(read_log(&bytes), (vec![a], first));
    }
}
