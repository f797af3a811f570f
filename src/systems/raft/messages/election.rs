//! Elections: PreVote (thesis §9.6) and RequestVote (Figure 2), with their replies.

use super::{Index, Term};
use arbitrary::Arbitrary;
use serde::{Deserialize, Serialize};

/// "Would you vote for me in `term`?" — does not change anyone's term (thesis §9.6).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Arbitrary)]
pub struct PreVote {
    /// Sender.
    #[arbitrary(with = crate::node::forge::node_id)]
    pub from: u8,
    /// The term the sender would campaign in (its current term + 1).
    #[arbitrary(with = crate::node::forge::plausible_u64)]
    pub term: Term,
    /// Sender's last log index.
    #[arbitrary(with = crate::node::forge::plausible_u64)]
    pub last_index: Index,
    /// Sender's last log term.
    #[arbitrary(with = crate::node::forge::plausible_u64)]
    pub last_term: Term,
}

/// Answer to a [`PreVote`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Arbitrary)]
pub struct PreVoteReply {
    /// Sender.
    #[arbitrary(with = crate::node::forge::node_id)]
    pub from: u8,
    /// The proposed term this answers.
    #[arbitrary(with = crate::node::forge::plausible_u64)]
    pub term: Term,
    /// The responder's current term (a rejecting node may be ahead).
    #[arbitrary(with = crate::node::forge::plausible_u64)]
    pub current_term: Term,
    /// Whether it would vote.
    pub granted: bool,
}

/// RequestVote RPC (Figure 2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Arbitrary)]
pub struct RequestVote {
    /// Candidate.
    #[arbitrary(with = crate::node::forge::node_id)]
    pub from: u8,
    /// Candidate's term.
    #[arbitrary(with = crate::node::forge::plausible_u64)]
    pub term: Term,
    /// Candidate's last log index.
    #[arbitrary(with = crate::node::forge::plausible_u64)]
    pub last_index: Index,
    /// Candidate's last log term.
    #[arbitrary(with = crate::node::forge::plausible_u64)]
    pub last_term: Term,
}

/// [`RequestVote`] result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Arbitrary)]
pub struct RequestVoteReply {
    /// Voter.
    #[arbitrary(with = crate::node::forge::node_id)]
    pub from: u8,
    /// Voter's current term.
    #[arbitrary(with = crate::node::forge::plausible_u64)]
    pub term: Term,
    /// Whether the vote was granted.
    pub granted: bool,
}
