//! Wire messages and their codec.
//!
//! Every frame is `[VERSION][postcard payload][checksum: u32 LE]`. The checksum (FNV-1a over
//! version and payload) means a garbage or bit-flipped frame is rejected with overwhelming
//! probability instead of decoding into a plausible but bogus message (a forged
//! AppendEntries could otherwise overwrite a follower's log). Decoding never panics: any frame
//! that is too short, has the wrong version, a bad checksum or a payload postcard cannot read
//! is a [`DecodeError`], and the node counts and drops it.
//!
//! The RPCs are those of the Raft paper (Ongaro & Ousterhout 2014, Figure 2) plus PreVote
//! (Ongaro's thesis §9.6) and the client protocol (thesis §6.3: client id + sequence number).

use crate::workload::kv::KvOp;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Format version, the first byte of every frame.
pub const VERSION: u8 = 1;

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

/// Why a frame was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Shorter than version + checksum.
    TooShort(usize),
    /// Unknown format version.
    Version(u8),
    /// The checksum does not match the contents.
    Checksum,
    /// postcard could not read the payload.
    Payload(String),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::TooShort(n) => write!(f, "frame of {n} bytes is too short"),
            DecodeError::Version(v) => write!(f, "unknown frame version {v}"),
            DecodeError::Checksum => f.write_str("frame checksum mismatch"),
            DecodeError::Payload(e) => write!(f, "undecodable payload: {e}"),
        }
    }
}

/// FNV-1a, 64 bits: the digest used for checksums, log chains and state digests.
pub fn fnv64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Combines two digests (order matters).
pub fn mix(a: u64, b: u64) -> u64 {
    let mut x = a ^ b.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(31);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x
}

fn checksum(bytes: &[u8]) -> u32 {
    let h = fnv64(bytes);
    (h ^ (h >> 32)) as u32
}

/// Encodes a message into a frame.
pub fn encode(msg: &Message) -> Vec<u8> {
    let mut out = vec![VERSION];
    // Serializing these plain types into a Vec cannot fail.
    out = postcard::to_extend(msg, out).unwrap_or_else(|_| vec![VERSION]);
    let sum = checksum(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

/// Decodes a frame; never panics.
pub fn decode(frame: &[u8]) -> Result<Message, DecodeError> {
    if frame.len() < 5 {
        return Err(DecodeError::TooShort(frame.len()));
    }
    if frame[0] != VERSION {
        return Err(DecodeError::Version(frame[0]));
    }
    let (body, sum) = frame.split_at(frame.len() - 4);
    let sum = u32::from_le_bytes([sum[0], sum[1], sum[2], sum[3]]);
    if checksum(body) != sum {
        return Err(DecodeError::Checksum);
    }
    match postcard::take_from_bytes::<Message>(&body[1..]) {
        Ok((msg, [])) => Ok(msg),
        Ok((_, rest)) => Err(DecodeError::Payload(format!(
            "{} trailing bytes",
            rest.len()
        ))),
        Err(e) => Err(DecodeError::Payload(e.to_string())),
    }
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
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

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
            assert_eq!(decode(&encode(&msg)), Ok(msg));
        }
    }

    #[test]
    fn every_truncation_and_bit_flip_is_rejected() {
        for msg in sample() {
            let frame = encode(&msg);
            for len in 0..frame.len() {
                assert!(
                    decode(&frame[..len]).is_err(),
                    "prefix of {len} bytes accepted"
                );
            }
            for bit in 0..frame.len() * 8 {
                let mut bad = frame.clone();
                bad[bit / 8] ^= 1 << (bit % 8);
                assert!(decode(&bad).is_err(), "flipped bit {bit} accepted");
            }
        }
    }

    #[test]
    fn random_bytes_never_panic_and_are_rejected() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let mut accepted = 0;
        for _ in 0..20_000 {
            let len = rng.random_range(0..200);
            let mut bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            if len > 0 && rng.random_bool(0.5) {
                bytes[0] = VERSION;
            }
            if decode(&bytes).is_ok() {
                accepted += 1;
            }
            let _ = decode_record(&bytes);
        }
        assert_eq!(accepted, 0);
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
