//! Wire messages, and the log entry's disk record.
//!
//! The node and its clients send and receive [`Message`] over squall's typed transport
//! ([`Transport::send_msg`], [`Transport::recv_msg`]), which frames and checksums it
//! ([`crate::node::frame`]): a garbage or bit-flipped frame is rejected there, and the node
//! counts and drops it, instead of decoding it into a plausible but bogus message (a forged
//! AppendEntries could otherwise overwrite a follower's log).
//!
//! The RPCs are those of the Raft paper (Ongaro & Ousterhout 2014, Figure 2) plus PreVote
//! (Ongaro's thesis §9.6) and the client protocol (thesis §6.3: client id + sequence number).
//!
//! [`Transport::send_msg`]: crate::node::net::Transport::send_msg
//! [`Transport::recv_msg`]: crate::node::net::Transport::recv_msg

use crate::node::frame::checksum;
pub use crate::node::frame::fnv64;
use crate::workload::kv::KvOp;
use serde::{Deserialize, Serialize};

/// Most entries one AppendEntries carries. Small on purpose: simulated runs build logs of a
/// few dozen entries, and with a small batch a lagging follower catches up over several
/// AppendEntries, so the code at batch boundaries (a follower's commit index bounded by its
/// last new entry, not by its log; acknowledging what was sent, not the whole log) runs in
/// every catch-up. With 64 it never ran, and a bug planted there went unfound.
pub const MAX_ENTRIES_PER_APPEND: usize = 2;

/// Receive buffer size. The largest frame squall's Raft sends is an AppendEntries with
/// [`MAX_ENTRIES_PER_APPEND`] entries of about 25 bytes each (under 2 KiB); a larger datagram
/// is truncated by the socket, fails its checksum and is rejected. Smaller than the 64 KiB
/// datagram limit because every (re)start zeroes one per node and client.
pub const RECEIVE_BUFFER: usize = 16 * 1024;

/// A log index (1-based; 0 means "before the first entry").
pub type Index = u64;
/// A Raft term.
pub type Term = u64;

/// What a log entry asks the state machine to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// The entry a new leader appends at the start of its term (Raft §8, thesis §6.4).
    Noop,
    /// A client's operation, with its session identity.
    Kv {
        /// The client's id.
        client: u64,
        /// The client's sequence number for this operation.
        seq: u64,
        /// The operation.
        op: KvOp,
    },
}

/// One log entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The term in which a leader created it.
    pub term: Term,
    /// Its command.
    pub command: Command,
}

/// How the cluster answered a client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// Applied; the result (what a get read; empty for writes).
    Done(String),
    /// This node is not the leader; try the hinted node if any.
    NotLeader(Option<u8>),
}

/// Every message squall's Raft speaks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// "Would you vote for me in `term`?" — does not change anyone's term (thesis §9.6).
    PreVote {
        /// Sender.
        from: u8,
        /// The term the sender would campaign in (its current term + 1).
        term: Term,
        /// Sender's last log index.
        last_index: Index,
        /// Sender's last log term.
        last_term: Term,
    },
    /// Answer to a PreVote.
    PreVoteReply {
        /// Sender.
        from: u8,
        /// The proposed term this answers.
        term: Term,
        /// The responder's current term (a rejecting node may be ahead).
        current_term: Term,
        /// Whether it would vote.
        granted: bool,
    },
    /// RequestVote RPC (Figure 2).
    RequestVote {
        /// Candidate.
        from: u8,
        /// Candidate's term.
        term: Term,
        /// Candidate's last log index.
        last_index: Index,
        /// Candidate's last log term.
        last_term: Term,
    },
    /// RequestVote result.
    RequestVoteReply {
        /// Voter.
        from: u8,
        /// Voter's current term.
        term: Term,
        /// Whether the vote was granted.
        granted: bool,
    },
    /// AppendEntries RPC (Figure 2); also the heartbeat.
    AppendEntries {
        /// Leader.
        from: u8,
        /// Leader's term.
        term: Term,
        /// Index of the entry before `entries`.
        prev_index: Index,
        /// Its term.
        prev_term: Term,
        /// Entries to store (empty for a heartbeat).
        entries: Vec<Entry>,
        /// Leader's commit index.
        leader_commit: Index,
    },
    /// AppendEntries result.
    AppendReply {
        /// Follower.
        from: u8,
        /// Follower's current term.
        term: Term,
        /// Whether the follower's log matched at `prev_index`.
        success: bool,
        /// On success: the index up to which the follower's log now matches the leader's.
        /// On failure: where the leader should retry from (the conflict hint).
        index: Index,
    },
    /// A client's request.
    Request {
        /// Client id.
        client: u64,
        /// Sequence number (retries reuse it).
        seq: u64,
        /// The operation.
        op: KvOp,
    },
    /// The answer to a client's request.
    Reply {
        /// The request's sequence number.
        seq: u64,
        /// The answer.
        outcome: Outcome,
    },
}

/// Combines two digests (order matters).
pub fn mix(a: u64, b: u64) -> u64 {
    let mut x = a ^ b.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(31);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x
}

/// Encodes one log entry as a disk record: `[len: u32 LE][checksum: u32 LE][postcard]`.
pub fn encode_record(entry: &Entry) -> Vec<u8> {
    let payload = postcard::to_allocvec(entry).unwrap_or_default();
    let mut out = Vec::with_capacity(payload.len() + 8);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&checksum(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    out
}

/// Decodes the disk record at the start of `bytes`: the entry and the record's length, or
/// `None` if the bytes there are not a whole, intact record (a torn or garbled tail).
pub fn decode_record(bytes: &[u8]) -> Option<(Entry, usize)> {
    if bytes.len() < 8 {
        return None;
    }
    let len = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    let sum = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    let payload = bytes.get(8..8usize.checked_add(len)?)?;
    if checksum(payload) != sum {
        return None;
    }
    let entry = postcard::from_bytes::<Entry>(payload).ok()?;
    Some((entry, 8 + len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::frame::{decode, encode, FrameError};
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};

    fn sample() -> Vec<Message> {
        vec![
            Message::PreVote {
                from: 1,
                term: 4,
                last_index: 9,
                last_term: 3,
            },
            Message::AppendEntries {
                from: 0,
                term: 3,
                prev_index: 2,
                prev_term: 1,
                entries: vec![
                    Entry {
                        term: 3,
                        command: Command::Noop,
                    },
                    Entry {
                        term: 3,
                        command: Command::Kv {
                            client: 7,
                            seq: 2,
                            op: KvOp::Append { key: 1, value: 5 },
                        },
                    },
                ],
                leader_commit: 2,
            },
            Message::AppendReply {
                from: 2,
                term: 3,
                success: false,
                index: 1,
            },
            Message::Request {
                client: 1,
                seq: 1,
                op: KvOp::Get { key: 4 },
            },
            Message::Reply {
                seq: 1,
                outcome: Outcome::NotLeader(Some(2)),
            },
        ]
    }

    #[test]
    fn messages_round_trip() {
        for msg in sample() {
            let frame = encode(&msg).expect("encodes");
            assert_eq!(decode::<Message>(&frame), Ok(msg));
        }
    }

    #[test]
    fn a_corrupted_message_is_rejected() {
        for msg in sample() {
            let mut frame = encode(&msg).expect("encodes");
            frame[2] ^= 0x10;
            assert_eq!(decode::<Message>(&frame), Err(FrameError::Checksum));
        }
    }

    #[test]
    fn random_bytes_never_panic_as_records() {
        let mut rng = SmallRng::seed_from_u64(7);
        for _ in 0..20_000 {
            let len = rng.random_range(0..200);
            let bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            let _ = decode_record(&bytes);
        }
    }

    #[test]
    fn records_round_trip_and_torn_records_are_rejected() {
        let entry = Entry {
            term: 2,
            command: Command::Kv {
                client: 1,
                seq: 9,
                op: KvOp::Put { key: 0, value: 3 },
            },
        };
        let rec = encode_record(&entry);
        assert_eq!(decode_record(&rec), Some((entry, rec.len())));
        for len in 0..rec.len() {
            assert_eq!(decode_record(&rec[..len]), None);
        }
    }
}
