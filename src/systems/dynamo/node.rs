//! One dynamo node: coordinator for any client request, home replica for the keys the ring
//! gives it, fallback (hint holder) for others. A sans-IO core ([`Node`]: messages and timer
//! ticks in, messages out through its outbox) and the run loop that drives it.
//!
//! - **writes**: the coordinator gives the version its timestamp, stores it if it is a home
//!   replica (synced before it counts), sends it to the other homes, and answers the client
//!   once W nodes hold it durably. Homes that have not answered after [`HANDOFF_AFTER`]
//!   while W is not reached are replaced by fallbacks further along the ring (a sloppy
//!   quorum): each holds a *hint* for its home, synced to its hint log before it answers,
//!   and hands it off ([`HINT_REPLAY`]) until the home acknowledges it.
//! - **reads**: the coordinator fetches the key from its homes, and after [`HANDOFF_AFTER`]
//!   from the fallbacks too, which answer with the hints they hold (a sloppy read: a
//!   partition that leaves R nodes on the client's side leaves the read answerable; the
//!   session check, not quorum overlap, keeps it from going back in time). It merges the
//!   replies; once R replied *and* the merge covers the session's context it answers; else
//!   it waits for more replies (or a handoff), answers at [`SESSION_WAIT`] with what it has,
//!   flagged as not covering the session, and fails the read at [`GIVE_UP`] if fewer than R
//!   replied. Homes whose reply differs from the merge are repaired with it (read repair).
//! - **anti-entropy**: every [`SYNC_EVERY`] a node sends each peer the root of a hash tree
//!   over the keys both replicate ([`super::merkle`]); a mismatch descends to the leaves,
//!   then to the entries of the ranges that differ, which both sides merge.
//! - **deletes** write tombstones; a key left with tombstones only for [`GC_HORIZON`] drops
//!   them but keeps its clock, so a late or resent older version is still recognised as
//!   overwritten.
//! - **durability**: every changed entry is appended to `data.log` and synced before the node
//!   acknowledges; hints live in `hints.log`. Both are replayed at restart.

use super::merkle;
use super::messages::{DataRecord, HintRecord, Message, ReqId, RECEIVE_BUFFER};
use super::mutants::Mutant;
use super::observer::{Event, Observer};
use super::ring::Ring;
use super::version::{Entry, Hlc, MergeBug, Resolve, Sibling, Vv};
use super::Config;
use crate::node::clock::Clock;
use crate::node::disk::Disk;
use crate::node::net::{Received, Transport};
use crate::node::records::{encode_record, recover};
use crate::systems::NodeContext;
use crate::workload::kv::KEYS;
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, UNIX_EPOCH};
use tokio::time::Instant;

/// The data log.
pub const DATA_LOG: &str = "data.log";
/// The hint log.
pub const HINT_LOG: &str = "hints.log";
/// How often unanswered stores and fetches are resent.
pub const RESEND: Duration = Duration::from_millis(40);
/// How long a write waits for its homes before it hands missing ones to fallbacks.
pub const HANDOFF_AFTER: Duration = Duration::from_millis(60);
/// How long a read waits for replicas that cover the session's context before it answers
/// with what the reachable ones hold, flagged as not covering it (the client then joins its
/// own copy of the session, see `client`).
pub const SESSION_WAIT: Duration = Duration::from_millis(200);
/// How long a coordinator keeps trying a request.
pub const GIVE_UP: Duration = Duration::from_millis(900);
/// How often a fallback tries to hand its hints off.
pub const HINT_REPLAY: Duration = Duration::from_millis(100);
/// How often a node runs anti-entropy with its peers.
pub const SYNC_EVERY: Duration = Duration::from_millis(150);
/// How long a key keeps its tombstones before they are collected (its clock stays).
pub const GC_HORIZON: Duration = Duration::from_millis(1000);
/// The horizon of planted bug A3, which also drops the clock.
pub const EARLY_GC_HORIZON: Duration = Duration::from_millis(200);

struct PendingWrite {
    client: SocketAddr,
    req: ReqId,
    key: u8,
    context: Vv,
    sibling: Sibling,
    homes: Vec<u8>,
    /// Nodes that hold it durably (homes and fallbacks).
    acks: BTreeSet<u8>,
    /// Fallback → the home its hint stands for.
    hinted: BTreeMap<u8, u8>,
    /// The greatest timestamp the acknowledging nodes hold for the version.
    held: Hlc,
    started: Instant,
    resend_at: Instant,
    round: usize,
}

struct PendingRead {
    client: SocketAddr,
    req: ReqId,
    key: u8,
    session: Vv,
    homes: Vec<u8>,
    /// The nodes whose answers count: the homes, and after [`HANDOFF_AFTER`] the fallbacks
    /// too (a sloppy read, as a sloppy write).
    asked: BTreeSet<u8>,
    replies: BTreeMap<u8, Entry>,
    started: Instant,
    resend_at: Instant,
}

struct Hint {
    home: u8,
    key: u8,
    context: Vv,
    sibling: Sibling,
}

/// One node.
pub struct Node {
    id: u8,
    peers: Vec<SocketAddr>,
    disk: Disk,
    clock: Clock,
    observer: Observer,
    mutant: Option<Mutant>,
    resolve: Resolve,
    config: Config,
    ring: Ring,
    incarnation: u32,
    entries: BTreeMap<u8, Entry>,
    /// Keys holding tombstones only, since when.
    deleted_since: BTreeMap<u8, Instant>,
    hints: BTreeMap<u64, Hint>,
    next_hint: u32,
    hlc: Hlc,
    next_op: u32,
    writes: BTreeMap<u64, PendingWrite>,
    reads: BTreeMap<u64, PendingRead>,
    requests: BTreeSet<(SocketAddr, ReqId)>,
    wrote_since_sync: bool,
    replay_at: Instant,
    sync_at: Instant,
    /// Messages to send once the current event is handled.
    pub outbox: Vec<(SocketAddr, Message)>,
}

impl Node {
    /// Recovers a node from its disk.
    pub fn new(
        ctx: &NodeContext,
        observer: Observer,
        mutant: Option<Mutant>,
        resolve: Resolve,
        config: Config,
        now: Instant,
    ) -> Node {
        let nodes = ctx.peers.len() as u8;
        let mut node = Node {
            id: ctx.id,
            peers: ctx.peers.clone(),
            disk: ctx.disk.clone(),
            clock: ctx.clock.clone(),
            observer,
            mutant,
            resolve,
            config,
            ring: Ring::new(nodes),
            incarnation: ctx.incarnation,
            entries: BTreeMap::new(),
            deleted_since: BTreeMap::new(),
            hints: BTreeMap::new(),
            next_hint: 0,
            hlc: Hlc::default(),
            next_op: 0,
            writes: BTreeMap::new(),
            reads: BTreeMap::new(),
            requests: BTreeSet::new(),
            wrote_since_sync: false,
            replay_at: now + HINT_REPLAY,
            // Staggered, so the nodes' exchanges do not all cross at once.
            sync_at: now + SYNC_EVERY + Duration::from_millis(u64::from(ctx.id) * 17),
            outbox: Vec::new(),
        };
        node.recover(now);
        node
    }

    fn is(&self, m: Mutant) -> bool {
        self.mutant == Some(m)
    }

    fn recover(&mut self, now: Instant) {
        for r in recover::<DataRecord>(&self.disk, DATA_LOG) {
            if r.entry == Entry::default() {
                self.entries.remove(&r.key);
            } else {
                self.entries.insert(r.key, r.entry);
            }
        }
        for (k, e) in &self.entries {
            if e.is_deleted() {
                self.deleted_since.insert(*k, now);
            }
            for s in &e.siblings {
                self.hlc = self.hlc.max(s.ts);
            }
        }
        for r in recover::<HintRecord>(&self.disk, HINT_LOG) {
            match r {
                HintRecord::Stored {
                    hint,
                    home,
                    key,
                    context,
                    sibling,
                } => {
                    self.hints.insert(
                        hint,
                        Hint {
                            home,
                            key,
                            context,
                            sibling,
                        },
                    );
                }
                HintRecord::Done { hint } => {
                    self.hints.remove(&hint);
                }
            }
        }
        self.observer.push(Event::Recovered {
            node: self.id,
            hints: self.hints.keys().copied().collect(),
        });
        self.publish();
    }

    fn publish(&self) {
        let entries = self.entries.clone();
        let hints = self
            .hints
            .iter()
            .map(|(h, x)| (*h, (x.home, x.key)))
            .collect();
        let busy = self.writes.len() + self.reads.len();
        self.observer.publish(self.id, entries, hints, busy);
    }

    fn node_of(&self, addr: SocketAddr) -> Option<u8> {
        self.peers.iter().position(|p| *p == addr).map(|i| i as u8)
    }

    fn send(&mut self, to: u8, msg: Message) {
        if let Some(addr) = self.peers.get(usize::from(to)) {
            self.outbox.push((*addr, msg));
        }
    }

    fn merge_bug(&self) -> MergeBug {
        match self.mutant {
            Some(Mutant::MergeNotIdempotent) => MergeBug::Concatenate,
            Some(Mutant::GreaterInAnyEntry) => MergeBug::GreaterInAnyEntry,
            _ => MergeBug::None,
        }
    }

    /// Stores `key`'s entry after `change`, durably, if it changed.
    fn update(&mut self, key: u8, now: Instant, change: impl FnOnce(&mut Entry)) -> bool {
        let entry = self.entries.entry(key).or_default();
        let before = entry.clone();
        change(entry);
        if *entry == before {
            if *entry == Entry::default() {
                self.entries.remove(&key);
            }
            return false;
        }
        let entry = entry.clone();
        for s in &entry.siblings {
            self.hlc = self.hlc.max(s.ts);
        }
        if entry.is_deleted() {
            self.deleted_since.entry(key).or_insert(now);
        } else {
            self.deleted_since.remove(&key);
        }
        self.disk
            .append(DATA_LOG, &encode_record(&DataRecord { key, entry }));
        self.disk.sync(DATA_LOG);
        self.wrote_since_sync = true;
        true
    }

    /// Applies a write; returns the timestamp the version holds here, or zero if it is not
    /// here (a later write overwrote it, or won over it).
    fn apply_write(&mut self, key: u8, context: &Vv, sibling: &Sibling, now: Instant) -> Hlc {
        let resolve = self.resolve;
        self.update(key, now, |e| e.write(context, sibling.clone(), resolve));
        self.entries
            .get(&key)
            .and_then(|e| e.ts_of(sibling.dot))
            .unwrap_or_default()
    }

    fn merge(&mut self, key: u8, other: &Entry, now: Instant) {
        let (resolve, bug) = (self.resolve, self.merge_bug());
        self.update(key, now, |e| e.merge(other, resolve, bug));
    }

    fn new_op(&mut self) -> u64 {
        self.next_op += 1;
        (u64::from(self.incarnation) << 32) | u64::from(self.next_op)
    }

    fn wall_ms(&self) -> u64 {
        self.clock
            .wall()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }

    /// The timestamp of a new write proposed as `sibling.ts` by a session that has seen
    /// `seen`.
    fn timestamp(&mut self, proposed: Hlc, seen: Hlc) -> Hlc {
        if self.is(Mutant::LwwWallClock) {
            // Planted bug A1: the coordinator's wall clock alone, at every attempt.
            return Hlc {
                wall: self.wall_ms(),
                logical: 0,
            };
        }
        match self.resolve {
            // The client's stamp, already past everything its session saw: kept, so that every
            // attempt of the write carries the same one. The clock moves past it.
            Resolve::Lww => {
                self.hlc = self.hlc.max(proposed);
                proposed
            }
            // Sibling mode orders nothing by time: a logical clock will do.
            Resolve::Siblings => {
                self.hlc = Hlc::tick(self.hlc, seen, 0);
                self.hlc
            }
        }
    }

    /// The hybrid clock now, for a client to stamp after (LWW mode; zero otherwise, as sibling
    /// mode never reads the wall clock).
    fn clock_now(&mut self) -> Hlc {
        if self.resolve != Resolve::Lww {
            return Hlc::default();
        }
        self.hlc = Hlc::tick(self.hlc, Hlc::default(), self.wall_ms());
        self.hlc
    }

    /// Handles one message.
    pub fn on_message(&mut self, msg: Message, from: SocketAddr, now: Instant) {
        let peer = self.node_of(from);
        match (msg, peer) {
            (Message::Get { req, key, session }, _) if key < KEYS => {
                self.start_read(from, req, key, session, now)
            }
            (
                Message::Put {
                    req,
                    key,
                    context,
                    sibling,
                    seen,
                },
                _,
            ) if key < KEYS => self.start_write(from, req, key, context, sibling, seen, now),
            (
                Message::Store {
                    op,
                    key,
                    context,
                    sibling,
                },
                Some(_),
            ) if key < KEYS => {
                let held = self.apply_write(key, &context, &sibling, now);
                self.outbox.push((from, Message::Stored { op, held }));
            }
            (
                Message::Hint {
                    op,
                    home,
                    key,
                    context,
                    sibling,
                },
                Some(_),
            ) if key < KEYS => self.hold_hint(from, op, home, key, context, sibling, now),
            (Message::Stored { op, held }, Some(p)) => self.on_stored(op, p, held),
            (Message::Fetch { op, key }, Some(_)) => {
                let entry = self.local_view(key);
                self.outbox.push((from, Message::Fetched { op, entry }));
            }
            (Message::Fetched { op, entry }, Some(p)) => {
                if let Some(r) = self.reads.get_mut(&op) {
                    if r.asked.contains(&p) {
                        r.replies.insert(p, entry);
                        self.try_finish_read(op, now);
                    }
                }
            }
            (Message::Repair { key, entry }, Some(_)) if key < KEYS => self.merge(key, &entry, now),
            (
                Message::Handoff {
                    hint,
                    key,
                    context,
                    sibling,
                },
                Some(_),
            ) if key < KEYS => {
                let _ = self.apply_write(key, &context, &sibling, now);
                crate::crash_point!("before-handoff-ack");
                self.outbox.push((from, Message::HandoffAck { hint }));
            }
            (Message::HandoffAck { hint }, Some(_)) if self.hints.remove(&hint).is_some() => {
                // The home holds it: the hint is done whether or not its record survives.
                self.observer.push(Event::HintDone {
                    node: self.id,
                    hint,
                });
                if !self.is(Mutant::VolatileHints) {
                    self.disk
                        .append(HINT_LOG, &encode_record(&HintRecord::Done { hint }));
                    self.disk.sync(HINT_LOG);
                }
            }
            (Message::SyncRoot { root }, Some(p)) => {
                let leaves = self.leaves_with(p);
                if merkle::root(&leaves) != root {
                    self.send(p, Message::SyncLeaves { leaves });
                }
            }
            (Message::SyncLeaves { leaves }, Some(p)) => {
                let keys = self.shared_keys(p);
                let mine = self.leaves_with(p);
                let differing = merkle::differing(&keys, &mine, &leaves);
                if !differing.is_empty() {
                    let entries = self.entries_of(&differing);
                    self.send(
                        p,
                        Message::SyncEntries {
                            entries,
                            reply: true,
                        },
                    );
                }
            }
            (Message::SyncEntries { entries, reply }, Some(p)) => {
                let keys = self.shared_keys(p);
                let mut asked = Vec::new();
                for (k, e) in entries.into_iter().filter(|(k, _)| keys.contains(k)) {
                    self.merge(k, &e, now);
                    asked.push(k);
                }
                if reply && !asked.is_empty() {
                    let entries = self.entries_of(&asked);
                    self.send(
                        p,
                        Message::SyncEntries {
                            entries,
                            reply: false,
                        },
                    );
                }
            }
            // A client message from a node, a node message from elsewhere, an unknown key.
            _ => {}
        }
        self.publish();
    }

    fn entries_of(&self, keys: &[u8]) -> Vec<(u8, Entry)> {
        keys.iter()
            .map(|k| (*k, self.entries.get(k).cloned().unwrap_or_default()))
            .collect()
    }

    fn shared_keys(&self, peer: u8) -> Vec<u8> {
        (0..KEYS)
            .filter(|k| {
                let homes = self.ring.homes(*k, self.config.n);
                homes.contains(&self.id) && homes.contains(&peer)
            })
            .collect()
    }

    fn leaves_with(&self, peer: u8) -> Vec<u64> {
        let keys = self.shared_keys(peer);
        let keys_only = self.is(Mutant::DigestKeysOnly);
        merkle::leaves(&keys, &self.entries, |k, e| {
            if keys_only {
                // Planted bug A5: whether the key is there, not what it holds.
                u64::from(k) << 1 | u64::from(*e != Entry::default())
            } else {
                e.digest()
            }
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn hold_hint(
        &mut self,
        from: SocketAddr,
        op: u64,
        home: u8,
        key: u8,
        context: Vv,
        sibling: Sibling,
        now: Instant,
    ) {
        if home == self.id {
            let held = self.apply_write(key, &context, &sibling, now);
            self.outbox.push((from, Message::Stored { op, held }));
            return;
        }
        let existing = self
            .hints
            .values()
            .find(|h| h.home == home && h.key == key && h.sibling.dot == sibling.dot)
            .map(|h| h.sibling.ts);
        let held = existing.unwrap_or(sibling.ts);
        if existing.is_none() {
            self.next_hint += 1;
            let hint = (u64::from(self.incarnation) << 32) | u64::from(self.next_hint);
            if !self.is(Mutant::VolatileHints) {
                let record = HintRecord::Stored {
                    hint,
                    home,
                    key,
                    context: context.clone(),
                    sibling: sibling.clone(),
                };
                self.disk.append(HINT_LOG, &encode_record(&record));
                self.disk.sync(HINT_LOG);
            }
            crate::crash_point!("after-hint-stored");
            self.hints.insert(
                hint,
                Hint {
                    home,
                    key,
                    context,
                    sibling,
                },
            );
            self.observer.push(Event::HintAcked {
                node: self.id,
                hint,
            });
        }
        self.outbox.push((from, Message::Stored { op, held }));
    }

    /// What this node holds of `key`: its replica, joined with the hints it keeps for the
    /// key's homes (a fallback answers a sloppy read with what it was handed).
    fn local_view(&self, key: u8) -> Entry {
        let mut view = self.entries.get(&key).cloned().unwrap_or_default();
        for h in self.hints.values().filter(|h| h.key == key) {
            let mut hinted = Entry::default();
            hinted.write(&h.context, h.sibling.clone(), self.resolve);
            view.merge(&hinted, self.resolve, MergeBug::None);
        }
        view
    }

    fn start_read(&mut self, client: SocketAddr, req: ReqId, key: u8, session: Vv, now: Instant) {
        if !self.requests.insert((client, req)) {
            return;
        }
        let op = self.new_op();
        let homes = self.ring.homes(key, self.config.n);
        let mut replies = BTreeMap::new();
        if homes.contains(&self.id) {
            replies.insert(self.id, self.local_view(key));
        }
        let me = self.id;
        for h in homes.iter().filter(|h| **h != me) {
            self.send(*h, Message::Fetch { op, key });
        }
        self.reads.insert(
            op,
            PendingRead {
                client,
                req,
                key,
                session,
                asked: homes.iter().copied().collect(),
                homes,
                replies,
                started: now,
                resend_at: now + RESEND,
            },
        );
        self.try_finish_read(op, now);
    }

    fn try_finish_read(&mut self, op: u64, now: Instant) {
        let Some(r) = self.reads.get(&op) else {
            return;
        };
        if r.replies.len() < usize::from(self.config.r).min(r.homes.len()) {
            return;
        }
        let mut merged = Entry::default();
        for e in r.replies.values() {
            merged.merge(e, self.resolve, MergeBug::None);
        }
        let covered = merged.clock.descends(&r.session) || self.is(Mutant::TrustQuorum);
        if !covered && now.duration_since(r.started) < SESSION_WAIT {
            // Wait for more replies, a handoff or a repair; then answer with what is here
            // and say it does not cover the session.
            return;
        }
        let Some(r) = self.reads.remove(&op) else {
            return;
        };
        let answer = if self.is(Mutant::RepairLocalWins) {
            // Planted bug A6: the coordinator's own copy (or the first reply) wins.
            r.replies
                .get(&self.id)
                .or_else(|| r.replies.values().next())
                .cloned()
                .unwrap_or_default()
        } else {
            merged
        };
        // Repair the homes only: a fallback holds hints, not the key.
        for (node, e) in r.replies.iter().filter(|(n, _)| r.homes.contains(n)) {
            if *e != answer {
                if *node == self.id {
                    self.merge(r.key, &answer, now);
                } else {
                    self.send(
                        *node,
                        Message::Repair {
                            key: r.key,
                            entry: answer.clone(),
                        },
                    );
                }
            }
        }
        self.requests.remove(&(r.client, r.req));
        let clock = self.clock_now();
        self.outbox.push((
            r.client,
            Message::GetReply {
                req: r.req,
                entry: answer,
                covered,
                error: String::new(),
                clock,
            },
        ));
    }

    #[allow(clippy::too_many_arguments)]
    fn start_write(
        &mut self,
        client: SocketAddr,
        req: ReqId,
        key: u8,
        context: Vv,
        mut sibling: Sibling,
        seen: Hlc,
        now: Instant,
    ) {
        if !self.requests.insert((client, req)) {
            return;
        }
        sibling.ts = self.timestamp(sibling.ts, seen);
        let op = self.new_op();
        let homes = self.ring.homes(key, self.config.n);
        let mut acks = BTreeSet::new();
        let mut held = Hlc::default();
        if homes.contains(&self.id) {
            held = self.apply_write(key, &context, &sibling, now);
            acks.insert(self.id);
            crate::crash_point!("after-local-write-before-fanout");
        }
        let me = self.id;
        for h in homes.iter().filter(|h| **h != me) {
            self.send(
                *h,
                Message::Store {
                    op,
                    key,
                    context: context.clone(),
                    sibling: sibling.clone(),
                },
            );
        }
        self.writes.insert(
            op,
            PendingWrite {
                client,
                req,
                key,
                context,
                sibling,
                homes,
                acks,
                hinted: BTreeMap::new(),
                held,
                started: now,
                resend_at: now + RESEND,
                round: 0,
            },
        );
        self.try_finish_write(op);
    }

    fn on_stored(&mut self, op: u64, from: u8, held: Hlc) {
        if let Some(w) = self.writes.get_mut(&op) {
            w.acks.insert(from);
            w.held = w.held.max(held);
            self.try_finish_write(op);
        }
    }

    fn try_finish_write(&mut self, op: u64) {
        let Some(w) = self.writes.get(&op) else {
            return;
        };
        if w.acks.len() < usize::from(self.config.w).min(self.peers.len()) {
            return;
        }
        let Some(w) = self.writes.remove(&op) else {
            return;
        };
        self.requests.remove(&(w.client, w.req));
        let clock = self.clock_now();
        self.outbox.push((
            w.client,
            Message::PutReply {
                req: w.req,
                ts: w.sibling.ts.max(w.held),
                held: w.held,
                clock,
            },
        ));
    }

    /// Holds a hint here (the coordinator is its own fallback).
    fn hint_locally(&mut self, op: u64, home: u8, now: Instant) {
        let Some(w) = self.writes.get(&op) else {
            return;
        };
        let (key, context, sibling) = (w.key, w.context.clone(), w.sibling.clone());
        let me = self.peers[usize::from(self.id)];
        self.hold_hint(me, op, home, key, context, sibling, now);
        // The answer to ourselves is in the outbox; count it now.
        let mut held = None;
        self.outbox.retain(|(to, m)| match m {
            Message::Stored { op: o, held: h } if *to == me && *o == op => {
                held = Some(*h);
                false
            }
            _ => true,
        });
        if let Some(held) = held {
            self.on_stored(op, self.id, held);
        }
    }

    /// Handles the timers: resends and handoffs of pending requests, hint replay,
    /// anti-entropy and tombstone collection.
    pub fn on_timer(&mut self, now: Instant) {
        self.write_timers(now);
        self.read_timers(now);
        if self.replay_at <= now {
            self.replay_at = now + HINT_REPLAY;
            let hints: Vec<(u64, Message, u8)> = self
                .hints
                .iter()
                .map(|(id, h)| {
                    (
                        *id,
                        Message::Handoff {
                            hint: *id,
                            key: h.key,
                            context: h.context.clone(),
                            sibling: h.sibling.clone(),
                        },
                        h.home,
                    )
                })
                .collect();
            for (_, m, home) in hints {
                self.send(home, m);
            }
        }
        if self.sync_at <= now {
            self.sync_at = now + SYNC_EVERY;
            self.observer.view(self.id, |v| v.sync_rounds += 1);
            if !self.is(Mutant::NoPeriodicSync) || self.wrote_since_sync {
                self.wrote_since_sync = false;
                for p in 0..self.peers.len() as u8 {
                    if p != self.id && !self.shared_keys(p).is_empty() {
                        let root = merkle::root(&self.leaves_with(p));
                        self.send(p, Message::SyncRoot { root });
                    }
                }
            }
        }
        self.collect_tombstones(now);
        self.publish();
    }

    fn collect_tombstones(&mut self, now: Instant) {
        if self.resolve == Resolve::Lww {
            // A collected tombstone would take its timestamp along, and an older write
            // arriving later would win: LWW mode keeps its tombstones.
            self.deleted_since.clear();
            return;
        }
        let early = self.is(Mutant::EarlyTombstoneGc);
        let horizon = self.gc_horizon();
        let due: Vec<u8> = self
            .deleted_since
            .iter()
            .filter(|(_, since)| now.duration_since(**since) >= horizon)
            .map(|(k, _)| *k)
            .collect();
        for k in due {
            self.deleted_since.remove(&k);
            if early {
                // Planted bug A3: the key is forgotten, clock and all.
                self.update(k, now, |e| *e = Entry::default());
            } else {
                self.update(k, now, |e| e.siblings.clear());
            }
        }
    }

    fn gc_horizon(&self) -> Duration {
        if self.is(Mutant::EarlyTombstoneGc) {
            EARLY_GC_HORIZON
        } else {
            GC_HORIZON
        }
    }

    fn write_timers(&mut self, now: Instant) {
        for op in due(&self.writes, now, |w| w.resend_at) {
            let Some(w) = self.writes.get_mut(&op) else {
                continue;
            };
            if now.duration_since(w.started) >= GIVE_UP {
                let w = self.writes.remove(&op);
                if let Some(w) = w {
                    self.requests.remove(&(w.client, w.req));
                }
                continue;
            }
            w.resend_at = now + RESEND;
            w.round += 1;
            let store = Message::Store {
                op,
                key: w.key,
                context: w.context.clone(),
                sibling: w.sibling.clone(),
            };
            let covered: BTreeSet<u8> = w.hinted.values().copied().collect();
            let missing: Vec<u8> = w
                .homes
                .iter()
                .copied()
                .filter(|h| !w.acks.contains(h) && !covered.contains(h))
                .collect();
            let handoff = now.duration_since(w.started) >= HANDOFF_AFTER
                && w.acks.len() < usize::from(self.config.w);
            let fallbacks: Vec<u8> = self
                .ring
                .preference(w.key)
                .into_iter()
                .skip(usize::from(self.config.n))
                .filter(|f| !w.acks.contains(f))
                .collect();
            let round = w.round;
            let (key, context, sibling) = (w.key, w.context.clone(), w.sibling.clone());
            let mut hints = Vec::new();
            for (i, home) in missing.iter().enumerate() {
                self.send(*home, store.clone());
                if handoff && !fallbacks.is_empty() {
                    let f = fallbacks[(i + round) % fallbacks.len()];
                    hints.push((f, *home));
                }
            }
            for (f, home) in hints {
                if let Some(w) = self.writes.get_mut(&op) {
                    w.hinted.entry(f).or_insert(home);
                }
                if f == self.id {
                    self.hint_locally(op, home, now);
                } else {
                    self.send(
                        f,
                        Message::Hint {
                            op,
                            home,
                            key,
                            context: context.clone(),
                            sibling: sibling.clone(),
                        },
                    );
                }
            }
        }
    }

    fn read_timers(&mut self, now: Instant) {
        for op in due(&self.reads, now, |r| r.resend_at) {
            let Some(r) = self.reads.get_mut(&op) else {
                continue;
            };
            if now.duration_since(r.started) >= GIVE_UP {
                if let Some(r) = self.reads.remove(&op) {
                    self.requests.remove(&(r.client, r.req));
                    // With R replies the read was answered at SESSION_WAIT.
                    let why = format!(
                        "only {} of R={} replicas answered",
                        r.replies.len(),
                        self.config.r
                    );
                    let clock = self.clock_now();
                    self.outbox.push((
                        r.client,
                        Message::GetReply {
                            req: r.req,
                            entry: Entry::default(),
                            covered: false,
                            error: why,
                            clock,
                        },
                    ));
                }
                continue;
            }
            r.resend_at = now + RESEND;
            let key = r.key;
            if now.duration_since(r.started) >= HANDOFF_AFTER {
                // Sloppy read: every fallback counts too, as for a write; they answer with
                // the hints they hold.
                let fallbacks = self.ring.preference(key);
                let skip = usize::from(self.config.n);
                r.asked.extend(fallbacks.into_iter().skip(skip));
            }
            let ask: Vec<u8> = r.asked.iter().copied().filter(|h| *h != self.id).collect();
            if r.asked.contains(&self.id) {
                let mine = self.local_view(key);
                if let Some(r) = self.reads.get_mut(&op) {
                    r.replies.insert(self.id, mine);
                }
            }
            // Ask every other one again: a reply may have been lost, or be stale by now.
            for h in ask {
                self.send(h, Message::Fetch { op, key });
            }
            self.try_finish_read(op, now);
        }
    }

    /// The next time a timer is due.
    pub fn next_deadline(&self) -> Instant {
        let mut next = self.replay_at.min(self.sync_at);
        for w in self.writes.values() {
            next = next.min(w.resend_at);
        }
        for r in self.reads.values() {
            next = next.min(r.resend_at);
        }
        for since in self.deleted_since.values() {
            next = next.min(*since + self.gc_horizon());
        }
        next
    }
}

/// The operations of `pending` whose resend time has come.
fn due<T>(pending: &BTreeMap<u64, T>, now: Instant, at: impl Fn(&T) -> Instant) -> Vec<u64> {
    pending
        .iter()
        .filter(|(_, t)| at(t) <= now)
        .map(|(op, _)| *op)
        .collect()
}

/// Marks the node down in the registry when its future is dropped (crash).
struct UpGuard(Observer, u8);

impl Drop for UpGuard {
    fn drop(&mut self) {
        self.0.down(self.1);
    }
}

/// Runs one incarnation of a node until it is crashed (the future is dropped).
pub async fn run(
    ctx: NodeContext,
    observer: Observer,
    mutant: Option<Mutant>,
    resolve: Resolve,
    config: Config,
) -> io::Result<()> {
    let transport = Transport::bind(&ctx.net, ctx.addr()).await?;
    let _up = UpGuard(observer.clone(), ctx.id);
    let clock = ctx.clock.clone();
    let mut node = Node::new(&ctx, observer, mutant, resolve, config, clock.now());
    let mut buf = vec![0u8; RECEIVE_BUFFER];
    loop {
        let deadline = node.next_deadline();
        tokio::select! {
            biased;
            received = transport.recv_msg::<Message>(&mut buf) => match received {
                Ok((Received::Message(m), from)) => node.on_message(m, from, clock.now()),
                Ok((Received::Rejected(_), _)) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(1)).await,
            },
            () = clock.sleep_until(deadline) => node.on_timer(clock.now()),
        }
        for (to, msg) in node.outbox.drain(..) {
            // Datagrams are best effort; every message is resent or answered again.
            let _ = transport.send_msg(to, &msg).await;
        }
    }
}
