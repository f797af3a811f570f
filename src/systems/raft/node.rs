//! One Raft node: a sans-IO core ([`Node`]: messages and timer ticks in, messages out) and the
//! run loop that drives it over a [`Transport`].
//!
//! Section references are to Ongaro & Ousterhout 2014 ("§5.x") and Ongaro's thesis ("thesis
//! §x"):
//! - elections (§5.2) with randomized timeouts from a seeded RNG, preceded by PreVote (thesis
//!   §9.6) so a node that cannot reach a majority never bumps terms and disrupts it; leader
//!   stickiness (thesis §4.2.3: a node that heard from a leader within the minimum election
//!   timeout neither pre-votes nor votes for someone else) and CheckQuorum (thesis §6.2: a
//!   leader that has not heard from a majority for a maximum election timeout steps down);
//! - the election restriction (§5.4.1): vote only for a log at least as up to date;
//! - log replication (§5.3): a follower truncates only at a real conflict, never on a stale or
//!   duplicated AppendEntries whose entries match; the leader backs `nextIndex` off with the
//!   follower's conflict hint (the first index of the conflicting term);
//! - commitment (§5.4.2, Figure 8): the leader commits only an entry of its own term, by
//!   counting replicas; earlier entries commit indirectly; a new leader appends a no-op
//!   (thesis §6.4) so this happens promptly; a follower's commit index is bounded by its last
//!   new entry (Figure 2, AppendEntries step 5);
//! - persistence (Figure 2): term, vote and log are synced before answering any RPC and
//!   before the leader counts its own entry;
//! - client sessions (thesis §6.3): see [`super::state_machine`]; reads go through the log,
//!   or, in `raft-lease` ([`Reads::Lease`]), are served by a leader that holds a lease (thesis
//!   §6.4.1; see [`LEASE`]).
//!
//! Time is the node's [`Clock`]'s: timers wait on its monotonic clock, so a node whose clock
//! drifts times out early or late in true time, as it would on a real machine.
//!
//! Replies from an earlier term are ignored; any message with a later term makes the node a
//! follower in that term (§5.1) — unless the term is beyond any an honest cluster reaches
//! ([`MAX_TERM`]): such a message is dropped, so that a forged or corrupted term cannot push
//! the cluster to the end of the term space, where no election could follow.

use super::log::{Corrupt, Log, Meta};
use super::messages::RECEIVE_BUFFER;
use super::messages::{
    AppendEntries, AppendReply, ClientReply, ClientRequest, Command, Entry, Index, LeaseAppend,
    LeaseReply, Message, Outcome, PreVote, PreVoteReply, RequestVote, RequestVoteReply, Term,
    MAX_ENTRIES_PER_APPEND,
};
use super::mutants::Mutant;
use super::observer::{Event, Observer, Role};
use super::state_machine::{Applied, StateMachine};
use super::Reads;
use crate::node::disk::Disk;
use crate::node::net::{Received, Transport};
use crate::node::Clock;
use crate::systems::NodeContext;
use crate::workload::kv::KvOp;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::time::Instant;

/// Shortest election timeout. Three heartbeat intervals: a follower tolerates two lost
/// heartbeats plus the worst one-way latency (25 ms) and tick rounding (10 ms) before it
/// suspects the leader.
pub const ELECTION_TIMEOUT_MIN: Duration = Duration::from_millis(150);
/// Longest election timeout. A range as wide as the minimum spreads candidates ~75 ms apart
/// on average, more than a pre-vote plus vote round trip (≤ ~70 ms with 25 ms latency and
/// 10 ms ticks), so split votes are rare and a healthy cluster elects within ~0.5 s.
pub const ELECTION_TIMEOUT_MAX: Duration = Duration::from_millis(300);
/// Heartbeat interval.
pub const HEARTBEAT: Duration = Duration::from_millis(50);
/// The clock drift `raft-lease` claims to tolerate, in parts per million: every node's clock
/// runs at 0.9 to 1.1 times true time (far beyond real quartz, ±100 ppm; the generator's
/// widest drift, so that chaos tests the claim at its edge).
pub const LEASE_MAX_DRIFT_PPM: u32 = 100_000;
/// How much earlier in true time an event may be timed than one it caused: the simulator
/// runs each host's tick over the same span of true time, so a message sent late in one
/// host's tick can be handled early in the receiver's — up to a tick before it was sent. A
/// lease's argument spans two such hops (the leader's heartbeat to a follower's promise, a
/// new leader's write to the read the old one serves), so this covers two ticks of up to
/// 20 ms.
pub const LEASE_SLACK: Duration = Duration::from_millis(40);
/// How long an acknowledged heartbeat lets a leader serve reads on its own (`raft-lease`),
/// on its monotonic clock from the moment it sent the heartbeat.
///
/// The argument (Ongaro's thesis §6.4.1): a follower that acknowledged a heartbeat heard
/// from the leader, so for `ELECTION_TIMEOUT_MIN` (150 ms) of its own clock it neither
/// pre-votes nor votes (leader stickiness; also right after a restart, see `Node::new`). A
/// new leader needs votes from a majority, which shares a node with the majority that
/// acknowledged; so none is elected for `ELECTION_TIMEOUT_MIN / (1 + ρ)` of true time after
/// that node heard the heartbeat, its clock running at most `1 + ρ` fast. The lease, `L` of
/// the leader's own clock running at least `1 - ρ` fast, lasts at most `L / (1 - ρ)` of true
/// time from the heartbeat's sending. So `L = (1 - ρ) · (ELECTION_TIMEOUT_MIN / (1 + ρ) -
/// LEASE_SLACK)`: about 86 ms for ρ = 10 %. Clock offsets (skew) do not enter: the lease
/// never reads the wall clock.
pub const LEASE: Duration = lease(ELECTION_TIMEOUT_MIN, LEASE_MAX_DRIFT_PPM, LEASE_SLACK);

/// [`LEASE`]'s formula, in microseconds.
const fn lease(election: Duration, drift_ppm: u32, slack: Duration) -> Duration {
    let one = 1_000_000u64;
    let rho = drift_ppm as u64;
    let follower = election.as_micros() as u64 * one / (one + rho);
    let bound = follower.saturating_sub(slack.as_micros() as u64);
    Duration::from_micros(bound * (one - rho) / one)
}
/// The highest term a node takes from a message. Terms grow by one per election, so no
/// honest cluster comes near it; a term above is forged or corrupted. Adopting one such term
/// would move the whole cluster next to `u64::MAX`, where a candidate's `term + 1` overflows
/// and no election can succeed again (found by `forge` steps). An absolute bound rather than
/// one relative to the node's own term: with a relative bound, repeated forgeries could push
/// one node out of every other's range for good. After a forged term at most this high the
/// cluster still has 2^62 elections to go.
pub const MAX_TERM: Term = 1 << 62;

/// Where a client request waits for its entry to apply.
#[derive(Clone, Copy, Debug)]
struct Pending {
    seq: u64,
    reply_to: SocketAddr,
    term: Term,
}

/// The protocol core of one node.
pub struct Node {
    id: u8,
    peers: Vec<SocketAddr>,
    disk: Disk,
    observer: Observer,
    mutant: Option<Mutant>,
    rng: Xoshiro256PlusPlus,
    /// How the leader serves reads.
    reads: Reads,
    /// The node's clock: the unbounded-lease mutant reads its wall clock.
    clock: Clock,
    /// When this incarnation started, on its monotonic clock: the origin of the lease
    /// readings it sends.
    started: Instant,

    term: Term,
    voted_for: Option<u8>,
    log: Log,

    role: Role,
    leader: Option<u8>,
    commit: Index,
    applied: Index,
    state: StateMachine,

    election_at: Instant,
    heartbeat_at: Instant,
    last_leader_contact: Option<Instant>,
    votes: BTreeSet<u8>,
    /// Only the stale-vote mutant counts this instead of `votes`.
    vote_count: usize,

    next_index: Vec<Index>,
    match_index: Vec<Index>,
    last_ack: Vec<Instant>,
    term_start: Index,
    pending: BTreeMap<u64, Pending>,
    /// As a leader in lease mode: per peer, the latest lease reading of a [`LeaseAppend`]
    /// it acknowledged in this term.
    lease_acks: Vec<Option<u64>>,

    /// Messages to send, drained by the run loop.
    pub outbox: Vec<(SocketAddr, Message)>,
    /// Only two mutants set it: term and vote are synced after the outbox is sent.
    sync_meta_after_send: bool,
    /// A vote was granted in this turn: the run loop passes `after-vote-reply` once the
    /// outbox carrying the grant has been sent.
    granted_this_turn: bool,
}

impl Node {
    /// Starts a node from its disk at time `now` (on `ctx.clock`), serving reads as `reads`
    /// says, or refuses a corrupt disk ([`super::log`]).
    pub fn new(
        ctx: &NodeContext,
        observer: Observer,
        mutant: Option<Mutant>,
        reads: Reads,
        now: Instant,
    ) -> Result<Node, Corrupt> {
        // What a crashed process wrote but never synced is still in the page cache and reads
        // back now; a power loss later would take it away after this incarnation acted on it
        // (voted in the term it read, say). Recovery makes it durable first. (Found by a crash
        // between a write and its sync, which no crash between steps can reach.)
        for file in [super::log::META_FILE, super::log::LOG_FILE] {
            if ctx.disk.is_dirty(file) {
                ctx.disk.sync(file);
            }
        }
        let meta = Meta::load(&ctx.disk)?;
        let recovered = Log::recover(&ctx.disk, mutant != Some(Mutant::UnverifiedRecords))?;
        let n = ctx.peers.len();
        let mut node = Node {
            id: ctx.id,
            peers: ctx.peers.clone(),
            disk: ctx.disk.clone(),
            observer,
            mutant,
            rng: Xoshiro256PlusPlus::seed_from_u64(ctx.seed),
            reads,
            clock: ctx.clock.clone(),
            started: now,
            term: meta.term,
            voted_for: meta.voted_for,
            log: recovered.log,
            role: Role::Follower,
            leader: None,
            commit: 0,
            applied: 0,
            state: StateMachine::new(),
            election_at: now,
            heartbeat_at: now,
            last_leader_contact: None,
            votes: BTreeSet::new(),
            vote_count: 0,
            next_index: vec![1; n],
            match_index: vec![0; n],
            last_ack: vec![now; n],
            term_start: 0,
            pending: BTreeMap::new(),
            lease_acks: vec![None; n],
            outbox: Vec::new(),
            sync_meta_after_send: false,
            granted_this_turn: false,
        };
        node.reset_election_timer(now);
        if node.leases() {
            // Before it crashed this node may have acknowledged a heartbeat on which a
            // leader's lease rests, and it no longer remembers when: it stays out of
            // elections for a minimum election timeout, as if it had just heard a leader.
            node.last_leader_contact = Some(now);
        }
        {
            let mut reg = node.observer.0.borrow_mut();
            if recovered.torn_bytes > 0 {
                reg.torn_tails += 1;
            }
            reg.events.push(Event::Restarted {
                node: node.id,
                incarnation: ctx.incarnation,
                term: node.term,
                voted_for: node.voted_for,
                log: node.log.summary(),
                torn_bytes: recovered.torn_bytes,
            });
        }
        node.observer.view(node.id, |v| {
            *v = Default::default();
            v.up = true;
        });
        node.publish_view();
        Ok(node)
    }

    fn majority(&self) -> usize {
        self.peers.len() / 2 + 1
    }

    fn is_peer(&self, from: u8) -> bool {
        from != self.id && usize::from(from) < self.peers.len()
    }

    fn leases(&self) -> bool {
        self.reads == Reads::Lease
    }

    /// The clock the lease is measured on, in microseconds: the monotonic clock since this
    /// incarnation started; with the unbounded-lease bug, the wall clock (since the epoch, so
    /// that different nodes' readings compare, as the bug assumes they do).
    fn lease_reading(&self, now: Instant) -> u64 {
        if self.mutant == Some(Mutant::UnboundedLease) {
            let wall = self.clock.wall().duration_since(std::time::UNIX_EPOCH);
            return wall.map_or(0, |d| d.as_micros() as u64);
        }
        now.saturating_duration_since(self.started).as_micros() as u64
    }

    /// Whether this leader holds a read lease at `now`: a majority (itself included)
    /// acknowledged heartbeats of its term sent less than [`LEASE`] ago, and it has committed
    /// an entry of its term, so that its state machine holds every committed write.
    fn holds_lease(&self, now: Instant) -> bool {
        if self.role != Role::Leader || self.commit < self.term_start {
            return false;
        }
        let reading = self.lease_reading(now);
        let mut acks: Vec<u64> = self.lease_acks.iter().flatten().copied().collect();
        acks.sort_unstable_by(|a, b| b.cmp(a));
        // The leader counts itself: it needs majority - 1 others; the oldest of the newest
        // such acknowledgments dates the lease.
        let start = match self.majority() - 1 {
            0 => reading,
            k => match acks.get(k - 1) {
                Some(start) => *start,
                None => return false,
            },
        };
        let lease = if self.mutant == Some(Mutant::UnboundedLease) {
            // The planted bug: the whole minimum election timeout, no margin for drift.
            ELECTION_TIMEOUT_MIN
        } else {
            LEASE
        };
        reading < start.saturating_add(lease.as_micros() as u64)
    }

    /// When the node next needs [`Node::on_timer`].
    pub fn next_deadline(&self) -> Instant {
        if self.role == Role::Leader {
            self.heartbeat_at
        } else {
            self.election_at
        }
    }

    fn reset_election_timer(&mut self, now: Instant) {
        let timeout = if self.mutant == Some(Mutant::FixedElectionTimeout) {
            ELECTION_TIMEOUT_MIN
        } else {
            let ms = self.rng.random_range(
                ELECTION_TIMEOUT_MIN.as_millis() as u64..=ELECTION_TIMEOUT_MAX.as_millis() as u64,
            );
            Duration::from_millis(ms)
        };
        self.election_at = now + timeout;
    }

    fn send(&mut self, to: u8, msg: impl Into<Message>) {
        self.outbox.push((self.peers[usize::from(to)], msg.into()));
    }

    fn broadcast<M: Into<Message>>(&mut self, msg: impl Fn() -> M) {
        for p in 0..self.peers.len() as u8 {
            if p != self.id {
                self.send(p, msg());
            }
        }
    }

    /// After the outbox is sent: the reply point of a granted vote (whatever a vote rests
    /// on must be durable by now), then what two planted bugs sync too late.
    pub fn after_send(&mut self) {
        if std::mem::take(&mut self.granted_this_turn) {
            crate::crash_point!("after-vote-reply");
        }
        if std::mem::take(&mut self.sync_meta_after_send) {
            self.disk.sync(super::log::META_FILE);
        }
    }

    fn persist_meta(&self, sync: bool) {
        Meta {
            term: self.term,
            voted_for: self.voted_for,
        }
        .store(&self.disk, sync);
    }

    /// Tells the checker what this leader now takes `follower` to hold.
    fn publish_match(&self, follower: u8) {
        self.observer.push(Event::Matched {
            leader: self.id,
            term: self.term,
            follower,
            index: self.match_index[usize::from(follower)],
        });
    }

    /// Its role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Its current term.
    pub fn term(&self) -> Term {
        self.term
    }

    /// Index of its last log entry.
    pub fn last_index(&self) -> Index {
        self.log.last_index()
    }

    /// Bytes of state that input grows: the log, the state machine and its sessions, the
    /// requests waiting for their entry, the messages not yet sent (for the bounded-memory
    /// check).
    pub fn memory(&self) -> u64 {
        let pending = self.pending.len() * std::mem::size_of::<(u64, Pending)>();
        let outbox = self.outbox.len() * std::mem::size_of::<(SocketAddr, Message)>();
        self.log.bytes() + self.state.bytes() + (pending + outbox) as u64
    }

    fn publish_view(&self) {
        let (role, term, leader, commit, applied) =
            (self.role, self.term, self.leader, self.commit, self.applied);
        let (digest, term_start, memory) = (self.state.digest(), self.term_start, self.memory());
        self.observer.view(self.id, |v| {
            v.role = role;
            v.term = term;
            v.leader = leader;
            v.commit = commit;
            v.applied = applied;
            v.state_digest = digest;
            v.term_start = term_start;
            v.memory = memory;
        });
    }

    fn publish_role(&self) {
        self.observer.push(Event::Role {
            node: self.id,
            role: self.role,
            term: self.term,
        });
    }

    /// Whether this node believes a leader is alive (leader stickiness, thesis §4.2.3).
    fn leader_recent(&self, now: Instant) -> bool {
        if self.mutant == Some(Mutant::NoPreVote) {
            return false;
        }
        self.role == Role::Leader
            || self
                .last_leader_contact
                .is_some_and(|t| now < t + ELECTION_TIMEOUT_MIN)
    }

    /// §5.4.1: is a log ending at (`last_index`, `last_term`) at least as up to date as ours?
    fn log_ok(&self, last_index: Index, last_term: Term) -> bool {
        if self.mutant == Some(Mutant::LogLengthElection) {
            return last_index >= self.log.last_index();
        }
        (last_term, last_index) >= (self.log.last_term(), self.log.last_index())
    }

    /// Adopts a later term as a follower (§5.1); persisted and synced before anything else.
    fn adopt_term(&mut self, term: Term, now: Instant) {
        debug_assert!(term > self.term);
        let was_leader = self.role == Role::Leader;
        self.term = term;
        self.voted_for = None;
        let late = self.mutant == Some(Mutant::TermSyncAfterReply);
        self.persist_meta(!late);
        self.sync_meta_after_send |= late;
        self.role = Role::Follower;
        self.leader = None;
        self.votes.clear();
        if was_leader {
            self.reset_election_timer(now);
        }
        self.publish_role();
    }

    fn become_follower(&mut self, now: Instant) {
        if self.role != Role::Follower {
            if self.role == Role::Leader {
                self.reset_election_timer(now);
            }
            self.role = Role::Follower;
            self.publish_role();
        }
    }

    /// Handles what the transport received: a message, or a rejected frame (garbage), which
    /// is counted and dropped.
    pub fn on_received(&mut self, received: Received<Message>, from: SocketAddr, now: Instant) {
        match received {
            Received::Message(msg) => self.on_message(msg, from, now),
            Received::Rejected(_) => self.observer.rejected_frame(),
        }
        self.publish_view();
    }

    /// Handles one message. Messages from peers name their sender, which must be another
    /// node of the cluster; client requests are answered at the address they came from.
    pub fn on_message(&mut self, msg: Message, from_addr: SocketAddr, now: Instant) {
        if peer_term(&msg) > MAX_TERM {
            return;
        }
        match msg {
            Message::PreVote(m) if self.is_peer(m.from) => self.on_pre_vote(m, now),
            Message::PreVoteReply(m) if self.is_peer(m.from) => self.on_pre_vote_reply(m, now),
            Message::RequestVote(m) if self.is_peer(m.from) => self.on_request_vote(m, now),
            Message::RequestVoteReply(m) if self.is_peer(m.from) => {
                self.on_request_vote_reply(m, now)
            }
            Message::AppendEntries(m) if self.is_peer(m.from) => self.on_append(m, None, now),
            Message::AppendReply(m) if self.is_peer(m.from) => self.on_append_reply(m, now),
            Message::LeaseAppend(m) if self.leases() && self.is_peer(m.append.from) => {
                self.on_append(m.append, Some(m.sent), now)
            }
            Message::LeaseReply(m) if self.leases() && self.is_peer(m.reply.from) => {
                self.on_lease_reply(m, now)
            }
            Message::ClientRequest(m) => self.on_request(m, from_addr, now),
            // From a node that is not a peer (garbage that passed the checksum could say so),
            // or a reply only clients expect.
            Message::PreVote(_)
            | Message::PreVoteReply(_)
            | Message::RequestVote(_)
            | Message::RequestVoteReply(_)
            | Message::AppendEntries(_)
            | Message::AppendReply(_)
            | Message::ClientReply(_)
            // A store without leases does not speak their messages.
            | Message::LeaseAppend(_)
            | Message::LeaseReply(_) => {}
        }
    }

    fn on_pre_vote(&mut self, m: PreVote, now: Instant) {
        let granted = m.term > self.term
            && self.log_ok(m.last_index, m.last_term)
            && !self.leader_recent(now);
        let reply = PreVoteReply {
            from: self.id,
            term: m.term,
            current_term: self.term,
            granted,
        };
        self.send(m.from, reply);
    }

    fn on_pre_vote_reply(&mut self, m: PreVoteReply, now: Instant) {
        if m.current_term > self.term && !m.granted {
            self.adopt_term(m.current_term, now);
            return;
        }
        if self.role == Role::PreCandidate && m.term == self.term + 1 && m.granted {
            self.votes.insert(m.from);
            if self.votes.len() + 1 >= self.majority() {
                self.start_election(now);
            }
        }
    }

    fn on_request_vote(&mut self, m: RequestVote, now: Instant) {
        let from = m.from;
        if m.term > self.term && self.leader_recent(now) {
            // Sticky: a live leader exists; neither the term nor the vote changes.
            let reply = RequestVoteReply {
                from: self.id,
                term: self.term,
                granted: false,
            };
            self.send(from, reply);
            return;
        }
        if m.term > self.term {
            self.adopt_term(m.term, now);
        }
        let granted = m.term == self.term
            && self.voted_for.is_none_or(|v| v == from)
            && self.log_ok(m.last_index, m.last_term);
        if granted {
            self.voted_for = Some(from);
            let late = self.mutant == Some(Mutant::VoteReplyBeforeSync);
            self.persist_meta(self.mutant != Some(Mutant::UnsyncedVote) && !late);
            self.sync_meta_after_send |= late;
            self.granted_this_turn = true;
            crate::crash_point!("after-vote-persist");
            self.reset_election_timer(now);
            let (node, term) = (self.id, self.term);
            self.observer.push(Event::Voted {
                node,
                term,
                candidate: from,
            });
        }
        let reply = RequestVoteReply {
            from: self.id,
            term: self.term,
            granted,
        };
        self.send(from, reply);
    }

    fn on_request_vote_reply(&mut self, m: RequestVoteReply, now: Instant) {
        if m.term > self.term {
            self.adopt_term(m.term, now);
            return;
        }
        if self.role != Role::Candidate || !m.granted {
            return;
        }
        if self.mutant == Some(Mutant::StaleVoteCount) {
            self.vote_count += 1;
            if self.vote_count + 1 >= self.majority() {
                self.become_leader(now);
            }
            return;
        }
        if m.term == self.term {
            self.votes.insert(m.from);
            if self.votes.len() + 1 >= self.majority() {
                self.become_leader(now);
            }
        }
    }

    /// Answers an AppendEntries of the leader `to`: a [`LeaseReply`] echoing `lease` if it
    /// came as a [`LeaseAppend`].
    fn reply_append(&mut self, to: u8, reply: AppendReply, lease: Option<u64>, now: Instant) {
        match lease {
            None => self.send(to, reply),
            // The planted bug: the follower dates its promise by its own wall clock, which
            // the leader will compare with its own.
            Some(_) if self.mutant == Some(Mutant::UnboundedLease) => {
                let sent = self.lease_reading(now);
                self.send(to, LeaseReply { sent, reply });
            }
            Some(sent) => self.send(to, LeaseReply { sent, reply }),
        }
    }

    /// Handles an AppendEntries; `lease` is the leader's reading if it came as a
    /// [`LeaseAppend`].
    fn on_append(&mut self, m: AppendEntries, lease: Option<u64>, now: Instant) {
        if self.mutant == Some(Mutant::FixedAppendBatch) {
            // The planted bug: the entries are staged in a buffer sized by the batch limit
            // every honest leader keeps to, before anything else is checked.
            let mut batch: [Option<&Entry>; MAX_ENTRIES_PER_APPEND] =
                [None; MAX_ENTRIES_PER_APPEND];
            for (k, entry) in m.entries.iter().enumerate() {
                batch[k] = Some(entry);
            }
        }
        let AppendEntries {
            from,
            term,
            prev_index,
            prev_term,
            entries,
            leader_commit,
        } = m;
        if term < self.term {
            let t = self.term;
            let reply = AppendReply {
                from: self.id,
                term: t,
                success: false,
                index: 0,
            };
            self.reply_append(from, reply, lease, now);
            return;
        }
        if term > self.term {
            self.adopt_term(term, now);
        }
        // A leader of our term exists: we follow it (§5.2).
        self.become_follower(now);
        if self.leader != Some(from) {
            self.leader = Some(from);
        }
        self.last_leader_contact = Some(now);
        self.reset_election_timer(now);

        let reply = |node: &mut Node, success: bool, index: Index| {
            let t = node.term;
            let reply = AppendReply {
                from: node.id,
                term: t,
                success,
                index,
            };
            node.reply_append(from, reply, lease, now);
        };
        if self.mutant == Some(Mutant::UnboundedFollowerCommit) {
            // The planted bug: the leader's commit index, bounded only by our own log, taken
            // before (and whatever the outcome of) the consistency check.
            let commit = leader_commit.min(self.log.last_index());
            if commit > self.commit {
                self.set_commit(commit);
            }
        }
        // Consistency check (§5.3).
        match self.log.term_at(prev_index) {
            None => {
                let hint = self.log.last_index() + 1;
                return reply(self, false, hint);
            }
            Some(t) if t != prev_term => {
                let hint = self
                    .log
                    .first_index_of_term_at(prev_index)
                    .max(self.commit + 1);
                return reply(self, false, hint.min(prev_index));
            }
            Some(_) => {}
        }
        let last_new = prev_index + entries.len() as Index;
        let mut wrote = false;
        if self.mutant == Some(Mutant::TruncateOnAppend)
            && !entries.is_empty()
            && self.log.last_index() > prev_index
        {
            self.truncate_from(prev_index + 1);
            wrote = true;
        }
        for (k, entry) in entries.into_iter().enumerate() {
            let index = prev_index + 1 + k as Index;
            match self.log.term_at(index) {
                // Already have it: a stale or duplicated AppendEntries must not truncate.
                Some(t) if t == entry.term => continue,
                Some(_) => self.truncate_from(index),
                None => {}
            }
            self.append(entry);
            wrote = true;
        }
        if wrote && self.mutant != Some(Mutant::UnsyncedLog) {
            self.log.sync(&self.disk);
        }
        crate::crash_point!("after-append-persist");
        let commit = leader_commit.min(last_new);
        if commit > self.commit {
            self.set_commit(commit);
        }
        let chain = self.log.chain(last_new);
        self.observer.push(Event::Acked {
            node: self.id,
            term: self.term,
            index: last_new,
            chain,
        });
        reply(self, true, last_new);
    }

    fn truncate_from(&mut self, index: Index) {
        self.log.truncate_from(&self.disk, index);
        self.observer.push(Event::Truncated {
            node: self.id,
            from: index,
        });
        if index <= self.commit {
            self.lose_committed(index);
        }
    }

    /// Recovery from losing committed entries (from `index` on), which an honest leader never
    /// causes (it never conflicts with a committed entry, §5.4) but a forged AppendEntries
    /// can: what now sits at those indices is not known committed, and a state machine that
    /// applied the lost entries is rebuilt from the log, as a restart does. Without this the
    /// node would count as committed and applied indices that now hold other entries, and
    /// never apply those.
    fn lose_committed(&mut self, index: Index) {
        self.commit = index.saturating_sub(1);
        if self.applied > self.commit {
            self.state = StateMachine::new();
            self.applied = 0;
            self.apply_committed();
        }
    }

    fn append(&mut self, entry: Entry) -> Index {
        let term = entry.term;
        let (index, digests) = self.log.append(&self.disk, entry);
        self.observer.push(Event::Appended {
            node: self.id,
            index,
            term,
            chain: digests.chain,
        });
        index
    }

    /// An acknowledgment of a [`LeaseAppend`]: it renews the lease from the moment the
    /// heartbeat it answers was sent, if it is of this leader's term (the follower then heard
    /// this leader, whatever the log check said); then it is an AppendReply like any other.
    fn on_lease_reply(&mut self, m: LeaseReply, now: Instant) {
        let LeaseReply { sent, reply } = m;
        // A reading from the future was not this leader's (a forgery): it dates nothing. The
        // planted bug takes a follower's wall-clock time at face value, whatever it says.
        let plausible =
            sent <= self.lease_reading(now) || self.mutant == Some(Mutant::UnboundedLease);
        if self.role == Role::Leader && reply.term == self.term && plausible {
            let ack = &mut self.lease_acks[usize::from(reply.from)];
            *ack = Some(ack.map_or(sent, |a| a.max(sent)));
        }
        self.on_append_reply(reply, now);
    }

    fn on_append_reply(&mut self, m: AppendReply, now: Instant) {
        let AppendReply {
            from,
            term,
            success,
            index,
        } = m;
        if term > self.term {
            self.adopt_term(term, now);
            return;
        }
        if self.role != Role::Leader {
            return;
        }
        if term < self.term && self.mutant != Some(Mutant::StaleAppendReply) {
            return;
        }
        let p = usize::from(from);
        self.last_ack[p] = now;
        let last = self.log.last_index();
        if success {
            let index = index.min(last);
            if index > self.match_index[p] {
                self.match_index[p] = index;
                self.publish_match(from);
                self.next_index[p] = self.next_index[p].max(index + 1);
                self.advance_commit();
                if self.next_index[p] <= last {
                    self.send_append(from, now);
                }
            } else if crate::buggify!() {
                // BUGGIFY: an early retry, which the follower sees as a duplicate.
                self.send_append(from, now);
            }
        } else {
            if index <= self.match_index[p] && self.match_index[p] > 0 {
                // The follower rejects entries this leader counts it as holding: the rejection
                // is stale (reordered, duplicated), or the acknowledgment behind the match
                // index was forged. Start over from its hint either way: a lower match index
                // only delays commits, while a false one would keep the leader from ever
                // sending the follower what it lacks.
                self.match_index[p] = index.saturating_sub(1);
                self.publish_match(from);
            }
            // Not `clamp`: it panics if a (wrongly) high match index passes `last`.
            let next = index.max(self.match_index[p] + 1).min(last + 1);
            self.next_index[p] = next;
            self.send_append(from, now);
        }
    }

    fn on_request(&mut self, m: ClientRequest, reply_to: SocketAddr, now: Instant) {
        let ClientRequest { client, seq, op } = m;
        if self.role != Role::Leader {
            let hint = self.leader.filter(|l| *l != self.id);
            self.outbox.push((
                reply_to,
                ClientReply {
                    seq,
                    outcome: Outcome::NotLeader(hint),
                }
                .into(),
            ));
            return;
        }
        if let KvOp::Get { key } = op {
            // A read the leader answers from its own state machine: with a lease, which
            // guarantees no other leader has committed anything since (raft-lease); or
            // without one, the planted local-reads bug.
            let lease = self.leases() && self.holds_lease(now);
            if lease || self.mutant == Some(Mutant::LocalReads) {
                if lease {
                    let (node, term, commit) = (self.id, self.term, self.commit);
                    self.observer.push(Event::LeaseRead { node, term, commit });
                }
                let value = self.state.get(key).to_string();
                self.outbox.push((
                    reply_to,
                    ClientReply {
                        seq,
                        outcome: Outcome::Done(value),
                    }
                    .into(),
                ));
                return;
            }
        }
        let dedup = self.mutant != Some(Mutant::NoDedup);
        if dedup {
            if let Some(result) = self.state.cached(client, seq) {
                let outcome = Outcome::Done(result.to_string());
                self.outbox
                    .push((reply_to, ClientReply { seq, outcome }.into()));
                return;
            }
            if self.state.seen(client, seq) {
                return;
            }
            if let Some(p) = self.pending.get_mut(&client) {
                if p.seq == seq && p.term == self.term {
                    // Already in our log this term: just answer wherever the client is now.
                    p.reply_to = reply_to;
                    return;
                }
            }
        }
        self.pending.insert(
            client,
            Pending {
                seq,
                reply_to,
                term: self.term,
            },
        );
        self.append(Entry {
            term: self.term,
            command: Command::Kv { client, seq, op },
        });
        self.log.sync(&self.disk);
        crate::crash_point!("after-leader-append");
        self.advance_commit();
        for p in 0..self.peers.len() as u8 {
            if p != self.id {
                self.send_append(p, now);
            }
        }
    }

    fn send_append(&mut self, to: u8, now: Instant) {
        let p = usize::from(to);
        let next = self.next_index[p].clamp(1, self.log.last_index() + 1);
        let prev_index = next - 1;
        let prev_term = self.log.term_at(prev_index).unwrap_or(0);
        // BUGGIFY: an AppendEntries that carries nothing (the follower still checks the
        // consistency of its log, and the leader must come back for the entries).
        let batch = if crate::buggify!() {
            0
        } else {
            MAX_ENTRIES_PER_APPEND
        };
        let entries = self.log.entries_from(next, batch);
        let msg = AppendEntries {
            from: self.id,
            term: self.term,
            prev_index,
            prev_term,
            entries,
            leader_commit: self.commit,
        };
        if self.leases() {
            let sent = self.lease_reading(now);
            self.send(to, LeaseAppend { sent, append: msg });
        } else {
            self.send(to, msg);
        }
    }

    /// §5.3/§5.4.2: commit the highest index stored on a majority, if it is of our term.
    fn advance_commit(&mut self) {
        let mut matched: Vec<Index> = (0..self.peers.len())
            .map(|p| {
                if p == usize::from(self.id) {
                    self.log.last_index()
                } else {
                    self.match_index[p]
                }
            })
            .collect();
        matched.sort_unstable_by(|a, b| b.cmp(a));
        let n = matched[self.majority() - 1];
        if n <= self.commit {
            return;
        }
        let own_term = self.log.term_at(n) == Some(self.term);
        if own_term || self.mutant == Some(Mutant::CommitPreviousTerm) {
            self.set_commit(n);
        }
    }

    fn set_commit(&mut self, index: Index) {
        debug_assert!(index > self.commit);
        self.commit = index;
        self.observer.push(Event::Committed {
            node: self.id,
            index,
        });
        self.apply_committed();
    }

    fn apply_committed(&mut self) {
        let dedup = self.mutant != Some(Mutant::NoDedup);
        while self.applied < self.commit {
            let index = self.applied + 1;
            let Some(entry) = self.log.entry(index) else {
                break;
            };
            let digest = self.log.digests(index).map_or(0, |d| d.entry);
            if let Command::Kv { client, seq, op } = &entry.command {
                let (client, seq) = (*client, *seq);
                let result = match self.state.apply(client, seq, op, dedup) {
                    Applied::Fresh(r) | Applied::Retry(r) => Some(r),
                    Applied::Stale => None,
                };
                if let (Some(result), Some(p)) = (result, self.pending.get(&client).copied()) {
                    if p.seq == seq {
                        self.pending.remove(&client);
                        let outcome = Outcome::Done(result);
                        self.outbox
                            .push((p.reply_to, ClientReply { seq, outcome }.into()));
                        crate::crash_point!("after-apply");
                    }
                }
            }
            self.applied = index;
            self.observer.push(Event::Applied {
                node: self.id,
                index,
                entry: digest,
            });
        }
    }

    fn start_prevote(&mut self, now: Instant) {
        self.role = Role::PreCandidate;
        self.leader = None;
        self.votes.clear();
        self.reset_election_timer(now);
        let (from, term) = (self.id, self.term + 1);
        let (last_index, last_term) = (self.log.last_index(), self.log.last_term());
        self.broadcast(|| PreVote {
            from,
            term,
            last_index,
            last_term,
        });
        if self.majority() == 1 {
            self.start_election(now);
        }
    }

    fn start_election(&mut self, now: Instant) {
        self.term += 1;
        self.voted_for = Some(self.id);
        self.persist_meta(true);
        self.role = Role::Candidate;
        self.leader = None;
        self.votes.clear();
        self.vote_count = 0;
        self.reset_election_timer(now);
        self.publish_role();
        let (from, term) = (self.id, self.term);
        let (last_index, last_term) = (self.log.last_index(), self.log.last_term());
        self.broadcast(|| RequestVote {
            from,
            term,
            last_index,
            last_term,
        });
        if self.majority() == 1 {
            self.become_leader(now);
        }
    }

    fn become_leader(&mut self, now: Instant) {
        self.role = Role::Leader;
        self.leader = Some(self.id);
        let n = self.peers.len();
        self.next_index = vec![self.log.last_index() + 1; n];
        self.match_index = vec![0; n];
        self.last_ack = vec![now; n];
        self.lease_acks = vec![None; n];
        self.publish_role();
        // What a new leader starts out believing of its followers, published so the checker
        // holds it to acknowledgments of this term like every later raise. All zero here; a
        // leader that carried match indices over from an earlier term of its own would count
        // followers whose logs have changed since.
        for follower in 0..n as u8 {
            if self.match_index[usize::from(follower)] > 0 {
                self.publish_match(follower);
            }
        }
        if self.mutant == Some(Mutant::CommitPreviousTerm) {
            // The planted Figure 8 bug comes without the start-of-term no-op, which would
            // otherwise commit the earlier entries at once and hide it. Progress for such a
            // leader is committing what it inherited: its last entry.
            self.term_start = self.log.last_index();
        } else {
            let term = self.term;
            self.term_start = self.append(Entry {
                term,
                command: Command::Noop,
            });
            self.log.sync(&self.disk);
        }
        self.advance_commit();
        self.heartbeat(now);
    }

    fn heartbeat(&mut self, now: Instant) {
        for p in 0..self.peers.len() as u8 {
            if p != self.id {
                self.send_append(p, now);
            }
        }
        self.heartbeat_at = now + HEARTBEAT;
    }

    /// Fires due timers.
    pub fn on_timer(&mut self, now: Instant) {
        if now < self.next_deadline() {
            return;
        }
        if self.role == Role::Leader {
            // CheckQuorum (thesis §6.2).
            if self.mutant != Some(Mutant::NoPreVote) {
                let heard = (0..self.peers.len())
                    .filter(|p| {
                        *p == usize::from(self.id) || now < self.last_ack[*p] + ELECTION_TIMEOUT_MAX
                    })
                    .count();
                // The planted lease bug also keeps leadership while the lease holds: a lease
                // is a promise that no one else leads, so why step down?
                let leased = self.mutant == Some(Mutant::UnboundedLease) && self.holds_lease(now);
                if heard < self.majority() && !leased {
                    self.leader = None;
                    self.become_follower(now);
                    self.publish_view();
                    return;
                }
            }
            self.heartbeat(now);
        } else if self.mutant == Some(Mutant::NoPreVote) {
            self.start_election(now);
        } else {
            self.start_prevote(now);
        }
        self.publish_view();
    }
}

/// The highest term a peer message asks its receiver to consider (0 for a client's).
fn peer_term(msg: &Message) -> Term {
    match msg {
        Message::PreVote(m) => m.term,
        Message::PreVoteReply(m) => m.term.max(m.current_term),
        Message::RequestVote(m) => m.term,
        Message::RequestVoteReply(m) => m.term,
        Message::AppendEntries(m) => m.term,
        Message::AppendReply(m) => m.term,
        Message::LeaseAppend(m) => m.append.term,
        Message::LeaseReply(m) => m.reply.term,
        Message::ClientRequest(_) | Message::ClientReply(_) => 0,
    }
}

/// Marks the node down in the registry when its future is dropped (crash).
struct UpGuard(Observer, u8);

impl Drop for UpGuard {
    fn drop(&mut self) {
        self.0.view(self.1, |v| v.up = false);
    }
}

/// Runs one incarnation of a node until it is crashed (the future is dropped).
pub async fn run(
    ctx: NodeContext,
    observer: Observer,
    mutant: Option<Mutant>,
    reads: Reads,
) -> io::Result<()> {
    let transport = Transport::bind(&ctx.net, ctx.addr()).await?;
    let _up = UpGuard(observer.clone(), ctx.id);
    let clock = ctx.clock.clone();
    let mut node = match Node::new(&ctx, observer.clone(), mutant, reads, clock.now()) {
        Ok(node) => node,
        Err(corrupt) => {
            // A node that cannot trust its disk stays out rather than rejoin with less than it
            // acknowledged (fail-stop, as etcd on a WAL checksum mismatch): it never votes or
            // acknowledges again, so the others stay safe. It sits here until crashed.
            observer.refused(ctx.id, ctx.incarnation, corrupt.0);
            drop(transport);
            return std::future::pending().await;
        }
    };
    let mut buf = vec![0u8; RECEIVE_BUFFER];
    loop {
        let deadline = node.next_deadline();
        tokio::select! {
            biased;
            received = transport.recv_msg(&mut buf) => match received {
                Ok((received, from)) => node.on_received(received, from, clock.now()),
                // Real UDP can report errors for earlier sends (ICMP); never spin on them.
                Err(_) => clock.sleep(Duration::from_millis(1)).await,
            },
            () = clock.sleep_until(deadline) => node.on_timer(clock.now()),
        }
        node.on_timer(clock.now());
        for (to, msg) in node.outbox.drain(..) {
            // UDP is best effort; a failed send is a lost message, which Raft tolerates.
            let _ = transport.send_msg(to, &msg).await;
        }
        node.after_send();
    }
}

#[cfg(test)]
mod tests {
    //! Log replication rules on a single node (§5.3), driven message by message.
    use super::*;
    use crate::node::net::Net;

    fn node(id: u8) -> (Node, Observer, Instant) {
        let observer = Observer::new(3);
        let ctx = NodeContext {
            id,
            peers: (0..3)
                .map(|i| SocketAddr::from(([10, 0, 0, i + 1], 7000)))
                .collect(),
            disk: Disk::new(),
            seed: 1,
            net: Net::Real,
            incarnation: 0,
            points: Default::default(),
            clock: Default::default(),
        };
        let now = Instant::now();
        let node = Node::new(&ctx, observer.clone(), None, Reads::Log, now).expect("an empty disk");
        (node, observer, now)
    }

    fn put(term: Term, value: u32) -> Entry {
        Entry {
            term,
            command: Command::Kv {
                client: 1,
                seq: u64::from(value),
                op: KvOp::Put { key: 0, value },
            },
        }
    }

    fn append(
        n: &mut Node,
        now: Instant,
        term: Term,
        prev: (Index, Term),
        entries: Vec<Entry>,
        commit: Index,
    ) -> Message {
        let msg = Message::from(AppendEntries {
            from: 0,
            term,
            prev_index: prev.0,
            prev_term: prev.1,
            entries,
            leader_commit: commit,
        });
        n.on_message(msg, SocketAddr::from(([10, 0, 0, 1], 7000)), now);
        n.outbox.pop().expect("a reply").1
    }

    fn truncations(obs: &Observer) -> usize {
        let mut events = Vec::new();
        obs.drain_into(&mut events);
        events
            .iter()
            .filter(|e| matches!(e, Event::Truncated { .. }))
            .count()
    }

    #[test]
    fn a_stale_append_whose_entries_match_does_not_truncate() {
        let (mut n, obs, now) = node(1);
        append(
            &mut n,
            now,
            1,
            (0, 0),
            vec![put(1, 1), put(1, 2), put(1, 3)],
            0,
        );
        let reply = append(&mut n, now, 1, (0, 0), vec![put(1, 1)], 0);
        assert_eq!(
            reply,
            Message::from(AppendReply {
                from: 1,
                term: 1,
                success: true,
                index: 1
            })
        );
        assert_eq!(n.log.last_index(), 3);
        assert_eq!(truncations(&obs), 0);
    }

    #[test]
    fn a_real_conflict_truncates_from_the_conflicting_entry() {
        let (mut n, obs, now) = node(1);
        append(
            &mut n,
            now,
            1,
            (0, 0),
            vec![put(1, 1), put(1, 2), put(1, 3)],
            0,
        );
        let reply = append(&mut n, now, 2, (1, 1), vec![put(2, 9)], 0);
        assert_eq!(
            reply,
            Message::from(AppendReply {
                from: 1,
                term: 2,
                success: true,
                index: 2
            })
        );
        assert_eq!(n.log.last_index(), 2);
        assert_eq!(n.log.term_at(2), Some(2));
        assert_eq!(truncations(&obs), 1);
        // And the log on disk says the same after a restart.
        let recovered = Log::recover(&n.disk, true).expect("intact").log;
        assert_eq!(recovered.summary(), n.log.summary());
    }

    #[test]
    fn a_mismatch_answers_with_a_conflict_hint() {
        let (mut n, _obs, now) = node(1);
        append(
            &mut n,
            now,
            1,
            (0, 0),
            vec![put(1, 1), put(1, 2), put(1, 3)],
            0,
        );
        // Leader's entry 3 has term 2: skip back over our whole term-1 run.
        let reply = append(&mut n, now, 3, (3, 2), vec![], 0);
        assert_eq!(
            reply,
            Message::from(AppendReply {
                from: 1,
                term: 3,
                success: false,
                index: 1
            })
        );
        // Leader is far ahead: retry right after our last entry.
        let reply = append(&mut n, now, 3, (10, 3), vec![], 0);
        assert_eq!(
            reply,
            Message::from(AppendReply {
                from: 1,
                term: 3,
                success: false,
                index: 4
            })
        );
    }

    #[test]
    fn the_commit_index_is_bounded_by_the_last_new_entry() {
        let (mut n, _obs, now) = node(1);
        append(
            &mut n,
            now,
            1,
            (0, 0),
            vec![put(1, 1), put(1, 2), put(1, 3)],
            0,
        );
        // A new leader whose log matches only up to index 1 commits up to 3 in its own log.
        append(&mut n, now, 2, (1, 1), vec![], 3);
        assert_eq!(n.commit, 1);
    }

    #[test]
    fn an_append_from_an_earlier_term_is_refused() {
        let (mut n, _obs, now) = node(1);
        append(&mut n, now, 3, (0, 0), vec![put(3, 1)], 0);
        let reply = append(&mut n, now, 2, (1, 3), vec![put(2, 2)], 1);
        assert_eq!(
            reply,
            Message::from(AppendReply {
                from: 1,
                term: 3,
                success: false,
                index: 0
            })
        );
        assert_eq!(n.log.last_index(), 1);
        assert_eq!(n.commit, 0);
    }

    fn elect(n: &mut Node, now: Instant) -> Instant {
        let later = now + ELECTION_TIMEOUT_MAX;
        n.on_timer(later);
        assert_eq!(n.role, Role::PreCandidate);
        let from = SocketAddr::from(([10, 0, 0, 2], 7000));
        let term = n.term + 1;
        n.on_message(
            Message::from(PreVoteReply {
                from: 1,
                term,
                current_term: n.term,
                granted: true,
            }),
            from,
            later,
        );
        assert_eq!(n.role, Role::Candidate);
        later
    }

    #[test]
    fn vote_replies_from_an_earlier_term_are_not_counted() {
        let (mut n, _obs, now) = node(0);
        let now = elect(&mut n, now);
        let from = SocketAddr::from(([10, 0, 0, 2], 7000));
        n.term = 2; // as if a second election round had started
        n.on_message(
            Message::from(RequestVoteReply {
                from: 1,
                term: 1,
                granted: true,
            }),
            from,
            now,
        );
        assert_eq!(n.role, Role::Candidate);
        n.on_message(
            Message::from(RequestVoteReply {
                from: 1,
                term: 2,
                granted: true,
            }),
            from,
            now,
        );
        assert_eq!(n.role, Role::Leader);
    }

    #[test]
    fn append_replies_from_an_earlier_term_are_ignored() {
        let (mut n, _obs, now) = node(0);
        let now = elect(&mut n, now);
        let from = SocketAddr::from(([10, 0, 0, 2], 7000));
        n.on_message(
            Message::from(RequestVoteReply {
                from: 1,
                term: 1,
                granted: true,
            }),
            from,
            now,
        );
        assert_eq!(n.role, Role::Leader);
        n.term = 2; // pretend we are the leader of a later term with the same log
        n.on_message(
            Message::from(AppendReply {
                from: 1,
                term: 1,
                success: true,
                index: 1,
            }),
            from,
            now,
        );
        assert_eq!(n.match_index[1], 0);
        assert_eq!(n.commit, 0);
    }

    #[test]
    fn a_term_beyond_any_honest_one_is_dropped() {
        let (mut n, _obs, now) = node(1);
        let vote = |term| {
            Message::from(RequestVoteReply {
                from: 2,
                term,
                granted: false,
            })
        };
        n.on_message(
            vote(MAX_TERM + 1),
            SocketAddr::from(([10, 0, 0, 3], 7000)),
            now,
        );
        assert_eq!(n.term, 0);
        n.on_message(vote(MAX_TERM), SocketAddr::from(([10, 0, 0, 3], 7000)), now);
        assert_eq!(n.term, MAX_TERM);
    }

    #[test]
    fn losing_applied_entries_rebuilds_the_state_machine() {
        let (mut n, _obs, now) = node(1);
        append(&mut n, now, 1, (0, 0), vec![put(1, 1), put(1, 2)], 2);
        assert_eq!((n.commit, n.applied), (2, 2));
        // A forged AppendEntries of a later term replaces entry 2, which was applied.
        append(&mut n, now, 2, (1, 1), vec![put(2, 9)], 1);
        assert_eq!((n.commit, n.applied), (1, 1));
        assert_eq!(n.state.get(0), "[1]");
    }

    #[test]
    fn a_rejection_below_the_match_index_sends_the_leader_back() {
        let (mut n, _obs, now) = node(0);
        let now = elect(&mut n, now);
        let from = SocketAddr::from(([10, 0, 0, 2], 7000));
        n.on_message(
            Message::from(RequestVoteReply {
                from: 1,
                term: 1,
                granted: true,
            }),
            from,
            now,
        );
        assert_eq!(n.role, Role::Leader);
        let reply = |success, index| {
            Message::from(AppendReply {
                from: 1,
                term: 1,
                success,
                index,
            })
        };
        // A forged acknowledgment of everything, then the follower's real rejection.
        n.on_message(reply(true, 99), from, now);
        assert_eq!(n.match_index[1], 1);
        n.on_message(reply(false, 1), from, now);
        assert_eq!((n.match_index[1], n.next_index[1]), (0, 1));
    }
}
