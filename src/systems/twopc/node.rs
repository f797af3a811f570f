//! One node of the 2PC store: a participant owning some accounts, and on node 0 also the
//! coordinator. A sans-IO core ([`Node`]: messages and timer ticks in, messages out through
//! its outbox) and the run loop that drives it over a [`Transport`].
//!
//! Protocol (Gray & Reuter, "Transaction Processing", §10.3, with presumed abort from Mohan,
//! Lindsay & Obermarck, "Transaction Management in the R* Distributed Database Management
//! System", TODS 1986):
//! - phase 1: the coordinator sends PREPARE with each participant's writes; a participant
//!   locks the accounts (no waiting: a held lock is a no vote), checks the balance, forces
//!   a `Prepared` record and votes yes, or votes no;
//! - phase 2: on every yes the coordinator forces `Decision{commit}`; on a no or a vote
//!   timeout it forces `Decision{abort}` (forced so that a duplicated BEGIN can never re-run
//!   an aborted transfer) and answers the client at once; it resends the decision until every
//!   participant acknowledges, then writes `Done` and answers a committed client;
//! - a participant forces `Committed`/`Aborted` before it acknowledges, applies, and releases
//!   its locks; an ABORT for a transaction it never prepared leaves an in-memory tombstone so
//!   that a late PREPARE is refused;
//! - recovery: each log is replayed; the coordinator re-drives every decision without `Done`;
//!   an in-doubt participant keeps its locks and asks the coordinator, which answers from its
//!   log or, finding nothing and the transaction not active, with abort (presumed abort).

use super::messages::{encode_record, Message, Record, Write, RECEIVE_BUFFER};
use super::mutants::Mutant;
use super::observer::{Event, Observer};
use crate::node::disk::Disk;
use crate::node::net::{Received, Transport};
use crate::systems::NodeContext;
use crate::workload::bank::{TxId, ACCOUNTS, INITIAL_BALANCE};
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::time::Instant;

/// The coordinator's log file.
pub const COORDINATOR_LOG: &str = "coordinator.wal";
/// A participant's log file.
pub const PARTICIPANT_LOG: &str = "participant.wal";
/// The coordinator's node.
pub const COORDINATOR: u8 = 0;
/// How long the coordinator waits for votes before it aborts.
pub const VOTE_TIMEOUT: Duration = Duration::from_millis(150);
/// How often unanswered PREPAREs and decisions are resent.
pub const RESEND: Duration = Duration::from_millis(50);
/// How often an in-doubt participant asks the coordinator.
pub const INQUIRY: Duration = Duration::from_millis(100);
/// How long a read-all's lock lasts at a participant.
pub const READ_LEASE: Duration = Duration::from_millis(200);
/// How long an in-doubt participant waits before deciding alone (planted bug T3 only).
pub const IN_DOUBT_TIMEOUT: Duration = Duration::from_millis(250);

/// The node owning `account` in a cluster of `nodes`.
pub fn owner(account: u8, nodes: u8) -> u8 {
    account % nodes.max(1)
}

/// A transaction at the coordinator.
struct Txn {
    client: Option<SocketAddr>,
    writes: BTreeMap<u8, Vec<Write>>,
    votes: BTreeMap<u8, bool>,
    decision: Option<bool>,
    acks: BTreeSet<u8>,
    vote_deadline: Instant,
    resend_at: Instant,
}

/// A transaction prepared at a participant.
struct Prepared {
    writes: Vec<Write>,
    since: Instant,
}

/// One node: participant, and coordinator on node 0.
pub struct Node {
    id: u8,
    nodes: u8,
    peers: Vec<SocketAddr>,
    disk: Disk,
    observer: Observer,
    mutant: Option<Mutant>,
    /// Messages to send once the current event is handled.
    pub outbox: Vec<(SocketAddr, Message)>,

    // Coordinator.
    decisions: BTreeMap<TxId, bool>,
    done: BTreeSet<TxId>,
    active: BTreeMap<TxId, Txn>,

    // Participant.
    balances: BTreeMap<u8, i64>,
    seen: BTreeMap<u8, BTreeSet<TxId>>,
    prepared: BTreeMap<TxId, Prepared>,
    locks: BTreeMap<u8, TxId>,
    committed: BTreeSet<TxId>,
    /// What each committed transaction wrote here (a planted bug re-applies it).
    committed_writes: BTreeMap<TxId, Vec<Write>>,
    aborted: BTreeSet<TxId>,
    /// Read locks by read and attempt, with when each lapses. Keyed by the attempt too: the
    /// attempts of one read share its id, and an unlock of an earlier attempt that arrives
    /// after a later attempt's read (messages reorder) must not release the later lock, or a
    /// transfer could prepare and commit inside a snapshot that is being taken.
    read_locks: BTreeMap<(TxId, u32), Instant>,
    inquire_at: Instant,
}

impl Node {
    /// Recovers a node from its disk.
    pub fn new(
        ctx: &NodeContext,
        observer: Observer,
        mutant: Option<Mutant>,
        now: Instant,
    ) -> Node {
        let nodes = ctx.peers.len() as u8;
        let mut node = Node {
            id: ctx.id,
            nodes,
            peers: ctx.peers.clone(),
            disk: ctx.disk.clone(),
            observer,
            mutant,
            outbox: Vec::new(),
            decisions: BTreeMap::new(),
            done: BTreeSet::new(),
            active: BTreeMap::new(),
            balances: (0..ACCOUNTS)
                .filter(|a| owner(*a, nodes) == ctx.id)
                .map(|a| (a, INITIAL_BALANCE))
                .collect(),
            seen: BTreeMap::new(),
            prepared: BTreeMap::new(),
            locks: BTreeMap::new(),
            committed: BTreeSet::new(),
            committed_writes: BTreeMap::new(),
            aborted: BTreeSet::new(),
            read_locks: BTreeMap::new(),
            inquire_at: now + INQUIRY,
        };
        node.recover_participant(now, ctx.incarnation);
        if node.id == COORDINATOR {
            node.recover_coordinator(now);
        }
        node.publish_view();
        node
    }

    fn is(&self, m: Mutant) -> bool {
        self.mutant == Some(m)
    }

    fn log(&self, file: &str, record: &Record, sync: bool) {
        self.disk.append(file, &encode_record(record));
        if sync {
            self.disk.sync(file);
        }
    }

    fn read_file(&self, file: &str) -> Vec<Record> {
        // Cuts a torn tail and syncs what a crashed process left unsynced, before the node
        // acts on it (a later power loss would otherwise take back a decision it sent).
        crate::node::records::recover(&self.disk, file)
    }

    fn recover_participant(&mut self, now: Instant, incarnation: u32) {
        for record in self.read_file(PARTICIPANT_LOG) {
            match record {
                Record::Prepared { tx, writes } => {
                    for (a, _) in &writes {
                        self.locks.insert(*a, tx);
                    }
                    self.prepared.insert(tx, Prepared { writes, since: now });
                }
                Record::Committed { tx } => {
                    if let Some(p) = self.prepared.remove(&tx) {
                        self.apply(tx, &p.writes);
                        self.committed_writes.insert(tx, p.writes);
                    }
                    self.committed.insert(tx);
                }
                Record::Aborted { tx } => {
                    if let Some(p) = self.prepared.remove(&tx) {
                        self.unlock(tx, &p.writes);
                    }
                    self.aborted.insert(tx);
                }
                Record::Decision { .. } | Record::Done { .. } => {}
            }
        }
        self.observer.push(Event::ParticipantRecovered {
            node: self.id,
            prepared: self.prepared.keys().copied().collect(),
            resolved: self
                .committed
                .iter()
                .map(|tx| (*tx, true))
                .chain(self.aborted.iter().map(|tx| (*tx, false)))
                .collect(),
            incarnation,
        });
    }

    fn recover_coordinator(&mut self, now: Instant) {
        let mut recovered = BTreeMap::new();
        for record in self.read_file(COORDINATOR_LOG) {
            match record {
                Record::Decision { tx, commit, writes } => {
                    recovered.insert(tx, (commit, writes.clone()));
                    self.decisions.insert(tx, commit);
                    if writes.is_empty() {
                        // A presumed abort given to an inquiry: nothing to re-drive.
                        continue;
                    }
                    self.active.insert(
                        tx,
                        Txn {
                            client: None,
                            writes: writes.into_iter().collect(),
                            votes: BTreeMap::new(),
                            decision: Some(commit),
                            acks: BTreeSet::new(),
                            vote_deadline: now,
                            resend_at: now,
                        },
                    );
                }
                Record::Done { tx } => {
                    self.done.insert(tx);
                    self.active.remove(&tx);
                }
                _ => {}
            }
        }
        if self.is(Mutant::NoRedrive) {
            // Planted bug T6: what the log says is left undone stays undone.
            self.active.clear();
        }
        self.observer.push(Event::CoordinatorRecovered {
            decisions: recovered,
        });
    }

    fn apply(&mut self, tx: TxId, writes: &[Write]) {
        for (a, delta) in writes {
            *self.balances.entry(*a).or_default() += delta;
            self.seen.entry(*a).or_default().insert(tx);
        }
        self.unlock(tx, writes);
    }

    fn unlock(&mut self, tx: TxId, writes: &[Write]) {
        for (a, _) in writes {
            if self.locks.get(a) == Some(&tx) {
                self.locks.remove(a);
            }
        }
    }

    fn publish_view(&self) {
        let balances = self.balances.clone();
        let prepared: Vec<TxId> = self.prepared.keys().copied().collect();
        let active: Vec<TxId> = self.active.keys().copied().collect();
        self.observer.view(self.id, |v| {
            v.up = true;
            v.balances = balances;
            v.prepared = prepared;
            v.active = active;
        });
    }

    fn send(&mut self, to: u8, msg: Message) {
        if let Some(addr) = self.peers.get(usize::from(to)) {
            self.outbox.push((*addr, msg));
        }
    }

    /// The next time the node has something to do without a message.
    pub fn next_deadline(&self) -> Instant {
        let mut next = self.inquire_at;
        for t in self.active.values() {
            next = next.min(t.resend_at);
            if t.decision.is_none() {
                next = next.min(t.vote_deadline);
            }
        }
        next
    }

    /// Handles one received frame.
    pub fn on_received(&mut self, received: Received<Message>, from: SocketAddr, now: Instant) {
        let Received::Message(msg) = received else {
            return;
        };
        match msg {
            Message::Begin {
                tx,
                from: a,
                to: b,
                amount,
            } => self.on_begin(tx, a, b, amount, from, now),
            Message::Vote { tx, node, yes } => self.on_vote(tx, node, yes, now),
            Message::Ack { tx, node } => self.on_ack(tx, node),
            Message::Inquire { tx, node } => self.on_inquire(tx, node),
            Message::Prepare { tx, writes } => self.on_prepare(tx, writes, now),
            Message::Decide { tx, commit } => self.on_decide(tx, commit),
            Message::Read {
                tx,
                accounts,
                lock,
                attempt,
            } => self.on_read(tx, accounts, lock, attempt, from, now),
            Message::Unlock { tx, attempt } => {
                self.read_locks.remove(&(tx, attempt));
            }
            Message::Outcome { .. } | Message::ReadReply { .. } => {}
        }
        self.publish_view();
    }

    // ---- coordinator ----

    fn on_begin(&mut self, tx: TxId, a: u8, b: u8, amount: u32, client: SocketAddr, now: Instant) {
        if self.id != COORDINATOR {
            return;
        }
        if let Some(t) = self.active.get_mut(&tx) {
            t.client = Some(client);
            return;
        }
        if let Some(&commit) = self.decisions.get(&tx) {
            // Decided and done (or aborted): answer again.
            self.outbox.push((
                client,
                Message::Outcome {
                    tx,
                    committed: commit,
                },
            ));
            return;
        }
        if a >= ACCOUNTS || b >= ACCOUNTS || a == b {
            self.outbox.push((
                client,
                Message::Outcome {
                    tx,
                    committed: false,
                },
            ));
            return;
        }
        let amount = i64::from(amount);
        let mut writes: BTreeMap<u8, Vec<Write>> = BTreeMap::new();
        writes
            .entry(owner(a, self.nodes))
            .or_default()
            .push((a, -amount));
        writes
            .entry(owner(b, self.nodes))
            .or_default()
            .push((b, amount));
        let txn = Txn {
            client: Some(client),
            writes,
            votes: BTreeMap::new(),
            decision: None,
            acks: BTreeSet::new(),
            vote_deadline: now + VOTE_TIMEOUT,
            resend_at: now + RESEND,
        };
        let prepares: Vec<(u8, Vec<Write>)> =
            txn.writes.iter().map(|(p, w)| (*p, w.clone())).collect();
        self.active.insert(tx, txn);
        for (p, writes) in prepares {
            self.send(p, Message::Prepare { tx, writes });
        }
    }

    fn on_vote(&mut self, tx: TxId, node: u8, yes: bool, now: Instant) {
        let Some(t) = self.active.get_mut(&tx) else {
            return;
        };
        if t.decision.is_some() || !t.writes.contains_key(&node) {
            return;
        }
        t.votes.insert(node, yes);
        if !yes {
            self.decide(tx, false, now);
        } else if t.votes.len() == t.writes.len() {
            self.decide(tx, true, now);
        }
    }

    fn decide(&mut self, tx: TxId, commit: bool, now: Instant) {
        let Some(t) = self.active.get_mut(&tx) else {
            return;
        };
        t.decision = Some(commit);
        t.resend_at = now + RESEND;
        let writes: Vec<(u8, Vec<Write>)> = t.writes.iter().map(|(p, w)| (*p, w.clone())).collect();
        let participants: Vec<u8> = t.writes.keys().copied().collect();
        let client = t.client;
        let record = Record::Decision {
            tx,
            commit,
            writes: writes.clone(),
        };
        if self.is(Mutant::CommitBeforeLog) && commit {
            // Planted bug T2: COMMIT goes out before (instead of) the forced decision record.
        } else {
            self.log(COORDINATOR_LOG, &record, true);
            crate::crash_point!("coordinator-after-decision-sync");
        }
        self.decisions.insert(tx, commit);
        self.observer.push(Event::Decided { tx, commit, writes });
        for p in participants {
            self.send(p, Message::Decide { tx, commit });
            // BUGGIFY: a duplicated decision, which must be harmless.
            if crate::buggify!() {
                self.send(p, Message::Decide { tx, commit });
            }
        }
        if !commit {
            if let Some(c) = client {
                self.outbox.push((
                    c,
                    Message::Outcome {
                        tx,
                        committed: false,
                    },
                ));
            }
        }
    }

    fn on_ack(&mut self, tx: TxId, node: u8) {
        let Some(t) = self.active.get_mut(&tx) else {
            return;
        };
        if t.decision.is_none() || !t.writes.contains_key(&node) {
            return;
        }
        t.acks.insert(node);
        if t.acks.len() < t.writes.len() {
            return;
        }
        let commit = t.decision == Some(true);
        let client = t.client;
        self.active.remove(&tx);
        self.done.insert(tx);
        self.log(COORDINATOR_LOG, &Record::Done { tx }, false);
        crate::crash_point!("coordinator-before-client-reply");
        if commit {
            if let Some(c) = client {
                self.outbox.push((
                    c,
                    Message::Outcome {
                        tx,
                        committed: true,
                    },
                ));
            }
        }
    }

    fn on_inquire(&mut self, tx: TxId, node: u8) {
        if self.id != COORDINATOR {
            return;
        }
        match (self.decisions.get(&tx), self.active.contains_key(&tx)) {
            (Some(&commit), _) => self.send(node, Message::Decide { tx, commit }),
            // Still collecting votes: the decision will come.
            (None, true) => {}
            // Presumed abort: no record and not active means never committed. The answer is
            // logged before it is given: a retried BEGIN of the same transaction must not
            // run it again while this participant aborts it.
            (None, false) => {
                self.log(
                    COORDINATOR_LOG,
                    &Record::Decision {
                        tx,
                        commit: false,
                        writes: Vec::new(),
                    },
                    true,
                );
                self.decisions.insert(tx, false);
                self.observer.push(Event::Decided {
                    tx,
                    commit: false,
                    writes: Vec::new(),
                });
                self.send(node, Message::Decide { tx, commit: false });
            }
        }
    }

    // ---- participant ----

    fn vote(&mut self, tx: TxId, yes: bool, durable: bool) {
        self.observer.push(Event::Voted {
            node: self.id,
            tx,
            yes,
            durable,
        });
        self.send(
            COORDINATOR,
            Message::Vote {
                tx,
                node: self.id,
                yes,
            },
        );
    }

    fn on_prepare(&mut self, tx: TxId, writes: Vec<Write>, now: Instant) {
        if self.committed.contains(&tx) || self.prepared.contains_key(&tx) {
            return self.vote(tx, true, true);
        }
        if self.aborted.contains(&tx) {
            return self.vote(tx, false, true);
        }
        self.read_locks.retain(|_, until| *until > now);
        let mine = writes.iter().all(|(a, _)| self.balances.contains_key(a));
        let free =
            self.read_locks.is_empty() && writes.iter().all(|(a, _)| !self.locks.contains_key(a));
        let funded = writes
            .iter()
            .all(|(a, d)| self.balances.get(a).is_some_and(|b| b + d >= 0));
        // BUGGIFY: a participant may abort unilaterally whenever it has not voted yes.
        if !(mine && free && funded) || crate::buggify!() {
            // A unilateral abort: the coordinator aborts on a no.
            self.aborted.insert(tx);
            return self.vote(tx, false, true);
        }
        let sync = !self.is(Mutant::VoteBeforeSync);
        self.log(
            PARTICIPANT_LOG,
            &Record::Prepared {
                tx,
                writes: writes.clone(),
            },
            sync,
        );
        crate::crash_point!("participant-after-prepare-sync");
        for (a, _) in &writes {
            self.locks.insert(*a, tx);
        }
        self.prepared.insert(tx, Prepared { writes, since: now });
        let durable = !self.disk.is_dirty(PARTICIPANT_LOG);
        self.vote(tx, true, durable);
    }

    fn ack(&mut self, tx: TxId) {
        self.send(COORDINATOR, Message::Ack { tx, node: self.id });
    }

    fn on_decide(&mut self, tx: TxId, commit: bool) {
        if commit {
            if self.committed.contains(&tx) && !self.is(Mutant::DoubleApply) {
                return self.ack(tx);
            }
            let writes = match self.prepared.remove(&tx) {
                Some(p) => p.writes,
                None if self.is(Mutant::DoubleApply) && self.committed.contains(&tx) => {
                    // Planted bug T7: the writes are looked up again and re-applied.
                    self.applied_writes(tx)
                }
                // Never prepared (or its abort is logged): nothing to apply, no ack.
                None => return,
            };
            self.log(PARTICIPANT_LOG, &Record::Committed { tx }, true);
            crate::crash_point!("participant-after-commit-sync");
            self.apply(tx, &writes);
            self.committed.insert(tx);
            self.committed_writes.insert(tx, writes);
            self.observer.push(Event::Resolved {
                node: self.id,
                tx,
                commit: true,
                prepared: true,
            });
            self.ack(tx);
        } else {
            if self.committed.contains(&tx) {
                // Cannot happen with a correct coordinator; the checker sees the conflict.
                return;
            }
            let prepared = self.prepared.remove(&tx);
            if let Some(p) = &prepared {
                self.log(PARTICIPANT_LOG, &Record::Aborted { tx }, true);
                crate::crash_point!("participant-after-abort-sync");
                self.unlock(tx, &p.writes);
            }
            if prepared.is_some() || !self.is(Mutant::NoAbortTombstone) {
                self.aborted.insert(tx);
            }
            self.observer.push(Event::Resolved {
                node: self.id,
                tx,
                commit: false,
                prepared: prepared.is_some(),
            });
            self.ack(tx);
        }
    }

    fn applied_writes(&self, tx: TxId) -> Vec<Write> {
        self.committed_writes.get(&tx).cloned().unwrap_or_default()
    }

    fn on_read(
        &mut self,
        tx: TxId,
        accounts: Vec<u8>,
        lock: bool,
        attempt: u32,
        client: SocketAddr,
        now: Instant,
    ) {
        self.read_locks.retain(|_, until| *until > now);
        let dirty = self.is(Mutant::DirtyRead);
        let accounts: Vec<u8> = if accounts.is_empty() {
            self.balances.keys().copied().collect()
        } else {
            accounts
                .into_iter()
                .filter(|a| self.balances.contains_key(a))
                .collect()
        };
        if lock && !dirty && accounts.iter().any(|a| self.locks.contains_key(a)) {
            self.outbox.push((
                client,
                Message::ReadReply {
                    tx,
                    balances: Vec::new(),
                    seen: Vec::new(),
                    busy: true,
                    attempt,
                },
            ));
            return;
        }
        if lock {
            self.read_locks.insert((tx, attempt), now + READ_LEASE);
        }
        let mut balances: BTreeMap<u8, i64> =
            accounts.iter().map(|a| (*a, self.balances[a])).collect();
        let mut seen: BTreeSet<TxId> = accounts
            .iter()
            .flat_map(|a| self.seen.get(a).into_iter().flatten().copied())
            .collect();
        if dirty {
            // Planted bug T8: prepared writes are visible.
            for (t, p) in &self.prepared {
                for (a, d) in &p.writes {
                    if let Some(b) = balances.get_mut(a) {
                        *b += d;
                        seen.insert(*t);
                    }
                }
            }
        }
        self.outbox.push((
            client,
            Message::ReadReply {
                tx,
                balances: balances.into_iter().collect(),
                seen: seen.into_iter().collect(),
                busy: false,
                attempt,
            },
        ));
    }

    /// Handles the timers: vote timeouts and resends at the coordinator, inquiries at an
    /// in-doubt participant.
    pub fn on_timer(&mut self, now: Instant) {
        let expired: Vec<TxId> = self
            .active
            .iter()
            .filter(|(_, t)| t.decision.is_none() && t.vote_deadline <= now)
            .map(|(tx, _)| *tx)
            .collect();
        for tx in expired {
            let commit = self.is(Mutant::MissingVoteIsYes)
                && self.active[&tx].votes.values().all(|yes| *yes);
            self.decide(tx, commit, now);
        }
        let mut resend = Vec::new();
        for (tx, t) in &mut self.active {
            if t.resend_at > now {
                continue;
            }
            t.resend_at = now + RESEND;
            match t.decision {
                None => {
                    for (p, w) in &t.writes {
                        if !t.votes.contains_key(p) {
                            resend.push((
                                *p,
                                Message::Prepare {
                                    tx: *tx,
                                    writes: w.clone(),
                                },
                            ));
                        }
                    }
                }
                Some(_) if self.mutant == Some(Mutant::NoRedrive) => {}
                Some(commit) => {
                    for p in t.writes.keys().filter(|p| !t.acks.contains(p)) {
                        resend.push((*p, Message::Decide { tx: *tx, commit }));
                    }
                }
            }
        }
        for (p, m) in resend {
            self.send(p, m);
        }
        if self.inquire_at <= now {
            self.inquire_at = now + INQUIRY;
            let in_doubt: Vec<(TxId, Instant)> =
                self.prepared.iter().map(|(tx, p)| (*tx, p.since)).collect();
            for (tx, since) in in_doubt {
                if self.is(Mutant::InDoubtTimeout) && now.duration_since(since) >= IN_DOUBT_TIMEOUT
                {
                    // Planted bug T3: a heuristic abort.
                    self.on_decide(tx, false);
                    continue;
                }
                let node = self.id;
                self.send(COORDINATOR, Message::Inquire { tx, node });
            }
        }
        self.publish_view();
    }
}

/// Marks the node down in the registry when its future is dropped (crash).
struct UpGuard(Observer, u8);

impl Drop for UpGuard {
    fn drop(&mut self) {
        self.0.down(self.1);
    }
}

/// Runs one incarnation of a node until it is crashed (the future is dropped).
pub async fn run(ctx: NodeContext, observer: Observer, mutant: Option<Mutant>) -> io::Result<()> {
    let transport = Transport::bind(&ctx.net, ctx.addr()).await?;
    let _up = UpGuard(observer.clone(), ctx.id);
    let mut node = Node::new(&ctx, observer, mutant, Instant::now());
    let mut buf = vec![0u8; RECEIVE_BUFFER];
    loop {
        let deadline = node.next_deadline();
        tokio::select! {
            biased;
            received = transport.recv_msg(&mut buf) => match received {
                Ok((received, from)) => node.on_received(received, from, Instant::now()),
                Err(_) => tokio::time::sleep(Duration::from_millis(1)).await,
            },
            () = tokio::time::sleep_until(deadline) => node.on_timer(Instant::now()),
        }
        for (to, msg) in node.outbox.drain(..) {
            // Datagrams are best effort; every message is resent or answered again.
            let _ = transport.send_msg(to, &msg).await;
        }
    }
}
