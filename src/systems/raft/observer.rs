//! The registry Raft nodes publish into, and the events they publish.
//!
//! Nodes push small [`Event`]s as things happen (role and term changes, log appends and
//! truncations, commit advances, applied entries, restarts) and keep a [`NodeView`] of their
//! current state up to date. The checker drains the events after every simulation step, so the
//! invariants are incremental: nothing rescans whole logs.

use super::messages::{Index, Term};
use std::cell::RefCell;
use std::rc::Rc;

/// A node's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Follows a leader (or waits for one).
    Follower,
    /// Asking for pre-votes; its term has not changed yet.
    PreCandidate,
    /// Campaigning in its term.
    Candidate,
    /// Leads its term.
    Leader,
}

/// Something a node did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The node started from its disk; `log` is every recovered entry's (term, chain digest).
    Restarted {
        /// Node.
        node: u8,
        /// Which start this is.
        incarnation: u32,
        /// Recovered current term.
        term: Term,
        /// Recovered vote in that term.
        voted_for: Option<u8>,
        /// Recovered log.
        log: Vec<(Term, u64)>,
        /// Bytes of torn tail cut off the log file.
        torn_bytes: usize,
    },
    /// The node found a record it synced corrupt and refused to start (it stays out).
    Refused {
        /// Node.
        node: u8,
        /// Which start this was.
        incarnation: u32,
        /// What failed verification.
        why: String,
    },
    /// The node granted its vote (after persisting it).
    Voted {
        /// Voter.
        node: u8,
        /// The term of the vote.
        term: Term,
        /// Whom it voted for.
        candidate: u8,
    },
    /// A follower told the leader its log matches up to `index` (after persisting it).
    Acked {
        /// Follower.
        node: u8,
        /// Its term, which the reply carries.
        term: Term,
        /// Index acknowledged.
        index: Index,
        /// Chain digest at `index`.
        chain: u64,
    },
    /// A leader took a follower to hold its log up to `index` (it raised its match index).
    Matched {
        /// Leader.
        leader: u8,
        /// The leader's term.
        term: Term,
        /// Follower.
        follower: u8,
        /// The new match index.
        index: Index,
    },
    /// The node's role or term changed (after the change was persisted).
    Role {
        /// Node.
        node: u8,
        /// New role.
        role: Role,
        /// Its current term.
        term: Term,
    },
    /// The node appended an entry to its log.
    Appended {
        /// Node.
        node: u8,
        /// The entry's index.
        index: Index,
        /// The entry's term.
        term: Term,
        /// Chain digest at `index`.
        chain: u64,
    },
    /// The node removed its entries from `from` on.
    Truncated {
        /// Node.
        node: u8,
        /// First removed index.
        from: Index,
    },
    /// The node's commit index advanced to `index`.
    Committed {
        /// Node.
        node: u8,
        /// New commit index.
        index: Index,
    },
    /// The node applied the entry at `index` to its state machine.
    Applied {
        /// Node.
        node: u8,
        /// The entry's index.
        index: Index,
        /// Digest of the entry applied.
        entry: u64,
    },
    /// A leader answered a read from its own state under its lease (`raft-lease`), without a
    /// round through the log.
    LeaseRead {
        /// Leader.
        node: u8,
        /// Its term.
        term: Term,
        /// Its commit index: the read sees the state up to it.
        commit: Index,
    },
}

/// A node's current state, as it last published it.
#[derive(Clone, Debug)]
pub struct NodeView {
    /// Whether the node's process is running.
    pub up: bool,
    /// Whether its process runs but refused to start from a corrupt disk: it takes no part.
    pub refused: bool,
    /// Its role.
    pub role: Role,
    /// Its current term.
    pub term: Term,
    /// The leader it follows (itself when leader).
    pub leader: Option<u8>,
    /// Its commit index.
    pub commit: Index,
    /// Index of the last entry applied.
    pub applied: Index,
    /// Digest of the state machine.
    pub state_digest: u64,
    /// As leader: the index it must commit to show progress in its term — its term's no-op
    /// (without the no-op, as in the planted Figure 8 bug: its last inherited entry; 0 for
    /// an empty log).
    pub term_start: Index,
    /// Bytes of its state that input grows (log, state machine, queues).
    pub memory: u64,
}

impl Default for NodeView {
    fn default() -> Self {
        NodeView {
            up: false,
            refused: false,
            role: Role::Follower,
            term: 0,
            leader: None,
            commit: 0,
            applied: 0,
            state_digest: 0,
            term_start: 0,
            memory: 0,
        }
    }
}

/// The shared registry.
#[derive(Debug, Default)]
pub struct Registry {
    /// Per node.
    pub nodes: Vec<NodeView>,
    /// Events since the checker last drained them.
    pub events: Vec<Event>,
    /// Frames nodes rejected as undecodable.
    pub rejected_frames: u64,
    /// Torn log tails found at restart.
    pub torn_tails: u64,
}

/// A handle to the registry; clones share it.
#[derive(Clone, Debug)]
pub struct Observer(pub Rc<RefCell<Registry>>);

impl Observer {
    /// A registry for `nodes` nodes.
    pub fn new(nodes: u8) -> Self {
        Observer(Rc::new(RefCell::new(Registry {
            nodes: vec![NodeView::default(); usize::from(nodes)],
            ..Registry::default()
        })))
    }

    /// Publishes an event.
    pub fn push(&self, event: Event) {
        // A node that crashed at an armed point mid-step did none of what follows it: what it
        // would publish now (an acknowledgment whose sync was lost) is not true.
        if crate::node::points::is_crashed() {
            return;
        }
        self.0.borrow_mut().events.push(event);
    }

    /// Updates a node's view.
    pub fn view(&self, node: u8, f: impl FnOnce(&mut NodeView)) {
        if let Some(v) = self.0.borrow_mut().nodes.get_mut(usize::from(node)) {
            f(v);
        }
    }

    /// Records that `node` refused to start from a corrupt disk.
    pub fn refused(&self, node: u8, incarnation: u32, why: String) {
        self.view(node, |v| {
            *v = NodeView::default();
            v.refused = true;
        });
        self.push(Event::Refused {
            node,
            incarnation,
            why,
        });
    }

    /// Counts a rejected frame.
    pub fn rejected_frame(&self) {
        self.0.borrow_mut().rejected_frames += 1;
    }

    /// Moves the pending events into `into` (cleared first), keeping both buffers'
    /// capacity so that the per-step check does not allocate.
    pub fn drain_into(&self, into: &mut Vec<Event>) {
        into.clear();
        std::mem::swap(&mut self.0.borrow_mut().events, into);
    }
}
