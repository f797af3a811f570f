//! Wire messages, one struct per message, and the log entry's disk record.
//!
//! The RPCs are those of the Raft paper (Ongaro & Ousterhout 2014, Figure 2) plus PreVote
//! (Ongaro's thesis §9.6) and the client protocol (thesis §6.3: client id + sequence number):
//! - [`election`]: [`PreVote`], [`PreVoteReply`], [`RequestVote`], [`RequestVoteReply`];
//! - [`replication`]: [`AppendEntries`] carrying [`Entry`]s, and [`AppendReply`]; their lease
//!   forms [`LeaseAppend`] and [`LeaseReply`] (`raft-lease` only);
//! - [`client`]: [`ClientRequest`] and [`ClientReply`];
//! - [`record`]: a log entry as a checksummed disk record.
//!
//! [`Message`] wraps them for the wire. The node and its clients send and receive it over
//! squall's typed transport ([`Transport::send_msg`], [`Transport::recv_msg`]), which frames
//! and checksums it ([`crate::node::frame`]): a garbage or bit-flipped frame is rejected there
//! and never reaches the node as a message. Each struct encodes as its fields in declaration
//! order (postcard), so a variant wrapping a struct puts the same bytes on the wire as a
//! struct-like variant with those fields would.
//!
//! [`Transport::send_msg`]: crate::node::net::Transport::send_msg
//! [`Transport::recv_msg`]: crate::node::net::Transport::recv_msg

pub mod client;
pub mod election;
pub mod record;
pub mod replication;

pub use crate::node::frame::fnv64;
pub use client::{ClientReply, ClientRequest, Outcome};
pub use election::{PreVote, PreVoteReply, RequestVote, RequestVoteReply};
pub use record::{decode_record, encode_record};
pub use replication::{AppendEntries, AppendReply, Command, Entry, LeaseAppend, LeaseReply};

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

/// Every message squall's Raft speaks. The variants' order is the wire format's (postcard
/// encodes a variant by its index): append new ones at the end.
///
/// `Arbitrary` is for forged messages ([`crate::node::forge`]): node ids, terms, indices and
/// session numbers are drawn by its plausible-value helpers, so that a forgery often names a
/// real node and a term or index near the cluster's, and sometimes an absurd one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// See [`PreVote`].
    PreVote(PreVote),
    /// See [`PreVoteReply`].
    PreVoteReply(PreVoteReply),
    /// See [`RequestVote`].
    RequestVote(RequestVote),
    /// See [`RequestVoteReply`].
    RequestVoteReply(RequestVoteReply),
    /// See [`AppendEntries`].
    AppendEntries(AppendEntries),
    /// See [`AppendReply`].
    AppendReply(AppendReply),
    /// See [`ClientRequest`].
    ClientRequest(ClientRequest),
    /// See [`ClientReply`].
    ClientReply(ClientReply),
    /// See [`LeaseAppend`].
    LeaseAppend(LeaseAppend),
    /// See [`LeaseReply`].
    LeaseReply(LeaseReply),
}

/// Written out rather than derived so that the lease messages, added last, left every
/// earlier forgery as it was: the first byte picks a variant among the first eight exactly as
/// the derived impl did (multiply and shift), and only the draws that picked a client reply
/// — which a node ignores — are split between it and the two lease messages.
impl<'a> arbitrary::Arbitrary<'a> for Message {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let tag = u32::arbitrary(u)?;
        Ok(match (u64::from(tag) * 8) >> 32 {
            0 => Message::PreVote(u.arbitrary()?),
            1 => Message::PreVoteReply(u.arbitrary()?),
            2 => Message::RequestVote(u.arbitrary()?),
            3 => Message::RequestVoteReply(u.arbitrary()?),
            4 => Message::AppendEntries(u.arbitrary()?),
            5 => Message::AppendReply(u.arbitrary()?),
            6 => Message::ClientRequest(u.arbitrary()?),
            _ => match tag & 3 {
                2 => Message::LeaseAppend(u.arbitrary()?),
                3 => Message::LeaseReply(u.arbitrary()?),
                _ => Message::ClientReply(u.arbitrary()?),
            },
        })
    }
}

macro_rules! wrap {
    ($($kind:ident),*) => {$(
        impl From<$kind> for Message {
            fn from(msg: $kind) -> Message {
                Message::$kind(msg)
            }
        }
    )*};
}
wrap!(
    PreVote,
    PreVoteReply,
    RequestVote,
    RequestVoteReply,
    AppendEntries,
    AppendReply,
    ClientRequest,
    ClientReply,
    LeaseAppend,
    LeaseReply
);

/// Combines two digests (order matters).
pub fn mix(a: u64, b: u64) -> u64 {
    let mut x = a ^ b.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(31);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::frame::{checksum, decode, encode, FrameError, VERSION};
    use crate::workload::kv::KvOp;

    fn sample() -> Vec<Message> {
        vec![
            PreVote {
                from: 1,
                term: 4,
                last_index: 9,
                last_term: 3,
            }
            .into(),
            AppendEntries {
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
            }
            .into(),
            AppendReply {
                from: 2,
                term: 3,
                success: false,
                index: 1,
            }
            .into(),
            ClientRequest {
                client: 1,
                seq: 1,
                op: KvOp::Get { key: 4 },
            }
            .into(),
            ClientReply {
                seq: 1,
                outcome: Outcome::NotLeader(Some(2)),
            }
            .into(),
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
    fn the_wire_format_is_pinned() {
        // Version, variant index, then each field as a postcard varint; the checksum last.
        // These bytes are what the struct-like variants of the first format put on the wire.
        let cases: [(Message, &[u8]); 3] = [
            (sample().remove(0), &[VERSION, 0, 1, 4, 9, 3]),
            (
                RequestVoteReply {
                    from: 2,
                    term: 300,
                    granted: true,
                }
                .into(),
                &[VERSION, 3, 2, 0xac, 0x02, 1],
            ),
            (
                ClientReply {
                    seq: 5,
                    outcome: Outcome::Done("ab".into()),
                }
                .into(),
                &[VERSION, 7, 5, 0, 2, b'a', b'b'],
            ),
        ];
        for (msg, body) in cases {
            let frame = encode(&msg).expect("encodes");
            let mut expected = body.to_vec();
            expected.extend_from_slice(&checksum(body).to_le_bytes());
            assert_eq!(frame, expected, "{msg:?}");
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
}
