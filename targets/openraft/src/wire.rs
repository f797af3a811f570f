//! The frames nodes and clients exchange over squall's datagram transport.
//!
//! One frame per datagram: `MAGIC`, an FNV-1a 64 checksum of the body, then the postcard
//! body. The checksum is what a real deployment gets from TCP/CRC: squall's garbage fault
//! delivers random bytes, and a random frame that happened to decode into, say, a vote with
//! a huge term would be a forged message, not a protocol bug. With the checksum a garbage
//! frame is rejected with probability 1 - 2^-64.

use crate::types::{Command, TypeConfig};
use openraft::raft::{AppendEntriesRequest, AppendEntriesResponse, VoteRequest, VoteResponse};
use serde::{Deserialize, Serialize};

const MAGIC: &[u8; 4] = b"sqor";

/// A datagram.
#[derive(Debug, Serialize, Deserialize)]
pub enum Frame {
    /// A request; the answer carries the same id.
    Request {
        /// Chosen by the sender, unique per sender incarnation.
        id: u64,
        /// What is asked.
        body: Request,
    },
    /// The answer to request `id`.
    Response {
        /// The request's id.
        id: u64,
        /// The answer.
        body: Response,
    },
}

/// Requests: openraft's RPCs between nodes, and the KV clients' operations.
#[derive(Debug, Serialize, Deserialize)]
pub enum Request {
    /// Replication and heartbeats.
    Append(AppendEntriesRequest<TypeConfig>),
    /// A vote request.
    Vote(VoteRequest<TypeConfig>),
    /// A pre-vote request.
    PreVote(VoteRequest<TypeConfig>),
    /// A client's write.
    Write(Command),
    /// A client's linearizable read of key `k{0}`.
    Read(u8),
}

/// Answers.
#[derive(Debug, Serialize, Deserialize)]
pub enum Response {
    /// To `Append`.
    Append(AppendEntriesResponse<TypeConfig>),
    /// To `Vote` and `PreVote`.
    Vote(VoteResponse<TypeConfig>),
    /// A client operation took effect; the key's value (after a write, or as read).
    Done(String),
    /// This node is not the leader; the leader it knows of, if any.
    NotLeader(Option<u64>),
    /// The receiver failed to handle the request (openraft error text).
    Error(String),
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Encodes a frame.
pub fn encode(frame: &Frame) -> Vec<u8> {
    let body = postcard::to_stdvec(frame).unwrap_or_default();
    let mut out = Vec::with_capacity(12 + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&fnv1a(&body).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// Decodes a frame; `None` for anything that is not an intact frame.
pub fn decode(bytes: &[u8]) -> Option<Frame> {
    let rest = bytes.strip_prefix(MAGIC)?;
    let (sum, body) = rest.split_at_checked(8)?;
    if u64::from_le_bytes(sum.try_into().ok()?) != fnv1a(body) {
        return None;
    }
    postcard::from_bytes(body).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_corruption_are_rejected() {
        let frame = Frame::Request {
            id: 7,
            body: Request::Read(1),
        };
        let mut bytes = encode(&frame);
        assert!(matches!(
            decode(&bytes),
            Some(Frame::Request {
                id: 7,
                body: Request::Read(1)
            })
        ));
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(decode(&bytes).is_none());
        assert!(decode(b"").is_none());
        assert!(decode(b"sqor").is_none());
        assert!(decode(&[0u8; 64]).is_none());
    }
}
