//! Elections: PreVote (thesis §9.6) and RequestVote (Figure 2), with their replies.

use super::{Index, Term};
use serde::{Deserialize, Serialize};

/// "Would you vote for me in `term`?" — does not change anyone's term (thesis §9.6).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreVote {
    /// Sender.
    pub from: u8,
    /// The term the sender would campaign in (its current term + 1).
    pub term: Term,
    /// Sender's last log index.
    pub last_index: Index,
    /// Sender's last log term.
    pub last_term: Term,
}

/// Answer to a [`PreVote`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreVoteReply {
    /// Sender.
    pub from: u8,
    /// The proposed term this answers.
    pub term: Term,
    /// The responder's current term (a rejecting node may be ahead).
    pub current_term: Term,
    /// Whether it would vote.
    pub granted: bool,
}

/// RequestVote RPC (Figure 2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestVote {
    /// Candidate.
    pub from: u8,
    /// Candidate's term.
    pub term: Term,
    /// Candidate's last log index.
    pub last_index: Index,
    /// Candidate's last log term.
    pub last_term: Term,
}

/// [`RequestVote`] result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestVoteReply {
    /// Voter.
    pub from: u8,
    /// Voter's current term.
    pub term: Term,
    /// Whether the vote was granted.
    pub granted: bool,
}
