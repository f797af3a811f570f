//! openraft's storage on squall's [`Disk`]: the log and the vote persisted, the state machine
//! in memory and rebuilt from the log on restart.
//!
//! Files on the node's disk:
//! - `log`: one record per entry, `u32` little-endian length then the postcard entry;
//! - `vote`, `committed`, `purged`: the latest value, postcard, replaced and synced.
//!
//! Appends are written at once (readable at once, as openraft requires) but synced by a
//! flusher task [`FSYNC`] later; only then is openraft's flush callback called. A power loss
//! in between loses the entries, exactly those openraft was never told were durable. The
//! vote and the committed id are synced before `save_vote`/`save_committed` return, after
//! the log writes issued before them (all write IO is serialized, as the storage contract
//! asks).
//!
//! The state machine is not persisted: `committed` is, and on restart openraft re-applies the
//! log up to it. Snapshots are never built (`try_create_snapshot_builder` declines), so the
//! log is never purged and no snapshot is ever sent.

use crate::compat::Snapshot;
use crate::observe::{Observer, Rec};
use crate::types::{
    describe, Applied, Entry, LogId, Runtime, SnapshotData, StoredMembership, TypeConfig, Vote,
    Write,
};
use futures_util::{Stream, StreamExt};
use openraft::storage::{EntryResponder, IOFlushed, LogState, RaftLogStorage, RaftStateMachine};
use openraft::type_config::alias::SnapshotMetaOf;
use openraft::{AsyncRuntime, EntryPayload, RaftLogReader, RaftSnapshotBuilder};
use squall::node::{Disk, Points};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::io;
use std::ops::{Bound, RangeBounds};
use std::rc::Rc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How long after an append its fsync completes: longer than a 10 ms tick, so a power loss
/// at a step boundary can catch appended entries not yet durable.
pub const FSYNC: Duration = Duration::from_millis(15);

const LOG: &str = "log";
const VOTE: &str = "vote";
const COMMITTED: &str = "committed";
const PURGED: &str = "purged";

fn bad_data(what: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

/// Reads a small postcard file; an absent file is `None`.
fn read_value<T: serde::de::DeserializeOwned>(disk: &Disk, name: &str) -> io::Result<Option<T>> {
    let bytes = disk.read(name);
    if bytes.is_empty() {
        return Ok(None);
    }
    postcard::from_bytes(&bytes)
        .map(Some)
        .map_err(|e| bad_data(format!("{name}: {e}")))
}

fn write_value<T: serde::Serialize>(disk: &Disk, name: &str, value: &T) -> io::Result<()> {
    let bytes = postcard::to_stdvec(value).map_err(|e| bad_data(format!("{name}: {e}")))?;
    disk.replace(name, &bytes);
    disk.sync(name);
    Ok(())
}

fn rec(entry: &Entry) -> Rec {
    Rec {
        term: entry.log_id.leader_id.term,
        what: describe(entry).into(),
    }
}

/// Changes to the log not yet synced, replayed onto the observer's durable view at sync.
enum Unsynced {
    Truncate(usize),
    Push(Rec),
}

struct LogInner {
    id: usize,
    disk: Disk,
    observer: Observer,
    /// The node's crash points: openraft calls the store from tasks it spawns, where
    /// `crash_point!` (which finds the points of the node's main future) is inert.
    points: Points,
    /// Entries in memory; `entries[i]` has index `first + i`.
    entries: Vec<Entry>,
    /// Byte offset in `log` where each entry's record starts.
    offsets: Vec<usize>,
    first: u64,
    vote: Option<Vote>,
    committed: Option<LogId>,
    purged: Option<LogId>,
    unsynced: Vec<Unsynced>,
}

impl LogInner {
    fn last_log_id(&self) -> Option<LogId> {
        self.entries.last().map(|e| e.log_id).or(self.purged)
    }

    /// fsync the log and publish what became durable.
    fn sync_log(&mut self) {
        if self.unsynced.is_empty() && !self.disk.is_dirty(LOG) {
            return;
        }
        self.disk.sync(LOG);
        let changes = std::mem::take(&mut self.unsynced);
        self.observer.with(self.id, |view| {
            for change in changes {
                match change {
                    Unsynced::Truncate(len) => view.truncate_durable(len),
                    Unsynced::Push(rec) => view.push_durable(rec),
                }
            }
        });
    }

    fn position(&self, index: u64) -> usize {
        usize::try_from(index.saturating_sub(self.first)).unwrap_or(usize::MAX)
    }
}

/// The log store (and, cloned, its reader).
#[derive(Clone)]
pub struct LogStore {
    inner: Rc<RefCell<LogInner>>,
    flush: mpsc::UnboundedSender<IOFlushed<TypeConfig>>,
}

impl LogStore {
    /// Opens node `id`'s log from its disk and starts the flusher task. Returns the store and
    /// whether the disk was pristine (no log, no vote).
    pub fn open(
        id: usize,
        disk: Disk,
        observer: Observer,
        points: Points,
    ) -> io::Result<(Self, bool)> {
        let vote: Option<Vote> = read_value(&disk, VOTE)?;
        // `committed` holds an `Option<LogId>` (openraft may save `None`).
        let committed: Option<LogId> = read_value::<Option<LogId>>(&disk, COMMITTED)?.flatten();
        let purged: Option<LogId> = read_value(&disk, PURGED)?;
        // After a process crash the log may hold writes the OS never synced; openraft takes
        // whatever the store returns at startup as durable, so make it so before anything.
        disk.sync(LOG);
        let bytes = disk.read(LOG);
        let (mut entries, mut offsets) = (Vec::new(), Vec::new());
        let mut at = 0;
        while at < bytes.len() {
            let record = bytes
                .get(at..at + 4)
                .and_then(|len| len.try_into().ok())
                .map(|len| u32::from_le_bytes(len) as usize)
                .and_then(|len| bytes.get(at + 4..at + 4 + len));
            let entry = record.and_then(|r| postcard::from_bytes::<Entry>(r).ok());
            let (Some(record), Some(entry)) = (record, entry) else {
                // A torn tail (a power loss in the middle of an append): drop it.
                disk.truncate(LOG, at);
                disk.sync(LOG);
                break;
            };
            offsets.push(at);
            at += 4 + record.len();
            entries.push(entry);
        }
        let first = entries
            .first()
            .map_or_else(|| purged.map_or(0, |p| p.index + 1), |e| e.log_id.index);
        let pristine = entries.is_empty() && vote.is_none() && purged.is_none();
        observer.with(id, |view| {
            // Positions are log indexes; purged entries (never, here) would show as gaps.
            let mut log = vec![
                Rec {
                    term: 0,
                    what: "purged".into()
                };
                usize::try_from(first).unwrap_or(0)
            ];
            log.extend(entries.iter().map(rec));
            view.reset_durable(log);
        });
        let inner = Rc::new(RefCell::new(LogInner {
            id,
            disk,
            observer,
            points,
            entries,
            offsets,
            first,
            vote,
            committed,
            purged,
            unsynced: Vec::new(),
        }));
        let (flush, rx) = mpsc::unbounded_channel();
        Runtime::spawn(flusher(inner.clone(), rx));
        Ok((LogStore { inner, flush }, pristine))
    }
}

/// Syncs appended entries [`FSYNC`] after they were written, then tells openraft, in order.
async fn flusher(
    inner: Rc<RefCell<LogInner>>,
    mut rx: mpsc::UnboundedReceiver<IOFlushed<TypeConfig>>,
) {
    while let Some(first) = rx.recv().await {
        tokio::time::sleep(FSYNC).await;
        let mut done = vec![first];
        while let Ok(more) = rx.try_recv() {
            done.push(more);
        }
        let mut log = inner.borrow_mut();
        log.sync_log();
        // Durable, but openraft does not know yet: nothing was acknowledged on it.
        log.points.pass("log-flushed");
        drop(log);
        for callback in done {
            callback.io_completed(Ok(()));
        }
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, io::Error> {
        let inner = self.inner.borrow();
        let start = match range.start_bound() {
            Bound::Included(&s) => s,
            Bound::Excluded(&s) => s + 1,
            Bound::Unbounded => 0,
        };
        let from = inner.position(start.max(inner.first));
        Ok(inner
            .entries
            .iter()
            .skip(from)
            .take_while(|e| range.contains(&e.log_id.index))
            .cloned()
            .collect())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, io::Error> {
        Ok(self.inner.borrow().vote)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, io::Error> {
        let inner = self.inner.borrow();
        Ok(LogState {
            last_purged_log_id: inner.purged,
            last_log_id: inner.last_log_id(),
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), io::Error> {
        let mut inner = self.inner.borrow_mut();
        // Serialized IO: the log writes issued before this vote become durable first.
        inner.sync_log();
        write_value(&inner.disk, VOTE, vote)?;
        inner.vote = Some(*vote);
        // The vote is durable; openraft grants it only after this returns.
        inner.points.pass("vote-saved");
        Ok(())
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), io::Error> {
        let mut inner = self.inner.borrow_mut();
        // Serialized IO again: a committed id must never be durable ahead of the entries it
        // covers, or a power loss leaves a node that must re-apply entries it no longer has.
        inner.sync_log();
        write_value(&inner.disk, COMMITTED, &committed)?;
        inner.committed = committed;
        inner.points.pass("committed-saved");
        Ok(())
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, io::Error> {
        Ok(self.inner.borrow().committed)
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: IOFlushed<TypeConfig>,
    ) -> Result<(), io::Error>
    where
        I: IntoIterator<Item = Entry>,
    {
        {
            let mut inner = self.inner.borrow_mut();
            for entry in entries {
                let body = postcard::to_stdvec(&entry).map_err(bad_data)?;
                let len = u32::try_from(body.len()).map_err(bad_data)?;
                let expected = inner.first + inner.entries.len() as u64;
                if entry.log_id.index != expected {
                    return Err(bad_data(format!(
                        "append of index {} leaves a hole after index {}",
                        entry.log_id.index,
                        expected.saturating_sub(1)
                    )));
                }
                let at = inner.disk.len(LOG);
                inner.disk.append(LOG, &len.to_le_bytes());
                inner.disk.append(LOG, &body);
                inner.offsets.push(at);
                inner.unsynced.push(Unsynced::Push(rec(&entry)));
                inner.entries.push(entry);
            }
        }
        // The flusher only stops when the node's tasks are dropped, and then nobody waits.
        let _ = self.flush.send(callback);
        Ok(())
    }

    async fn truncate_after(&mut self, last_log_id: Option<LogId>) -> Result<(), io::Error> {
        let mut inner = self.inner.borrow_mut();
        let keep = match last_log_id {
            Some(id) => inner.position(id.index + 1),
            None => 0,
        };
        if keep < inner.entries.len() {
            let at = inner.offsets[keep];
            inner.disk.truncate(LOG, at);
            inner.entries.truncate(keep);
            inner.offsets.truncate(keep);
            let len = usize::try_from(inner.first).unwrap_or(0) + keep;
            inner.unsynced.push(Unsynced::Truncate(len));
        }
        Ok(())
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), io::Error> {
        // Never called while snapshots are off; implemented so the contract is complete.
        let mut inner = self.inner.borrow_mut();
        inner.sync_log();
        write_value(&inner.disk, PURGED, &log_id)?;
        let drop = inner.position(log_id.index + 1).min(inner.entries.len());
        inner.entries.drain(..drop);
        let cut = inner.offsets.get(drop).copied();
        let bytes = inner.disk.read(LOG);
        let rest = cut.map_or(&[][..], |c| &bytes[c..]);
        inner.disk.replace(LOG, rest);
        inner.disk.sync(LOG);
        let base = cut.unwrap_or(0);
        inner.offsets = inner.offsets.iter().skip(drop).map(|o| o - base).collect();
        inner.first = log_id.index + 1;
        inner.purged = Some(log_id);
        Ok(())
    }
}

/// The key-value state: what the state machine applied.
#[derive(Default)]
pub struct Kv {
    /// Key index → value (tokens `[v]` concatenated).
    pub data: BTreeMap<u8, String>,
    /// Per client: the last applied sequence number and its answer.
    sessions: BTreeMap<u8, (u64, String)>,
    last_applied: Option<LogId>,
    membership: StoredMembership,
}

impl Kv {
    /// The value of key `k{key}` ("" if absent).
    pub fn get(&self, key: u8) -> String {
        self.data.get(&key).cloned().unwrap_or_default()
    }
}

/// The state machine: a [`Kv`] shared with the node's read path.
pub struct StateMachine {
    id: usize,
    kv: Rc<RefCell<Kv>>,
    observer: Observer,
    points: Points,
}

impl StateMachine {
    /// An empty state machine for node `id`; openraft re-applies the log into it.
    pub fn new(id: usize, kv: Rc<RefCell<Kv>>, observer: Observer, points: Points) -> Self {
        StateMachine {
            id,
            kv,
            observer,
            points,
        }
    }
}

/// Never builds a snapshot (snapshots are off).
pub struct NoSnapshots;

impl RaftSnapshotBuilder<TypeConfig> for NoSnapshots {
    crate::compat::snapshot_data_type!();

    async fn build_snapshot(&mut self) -> Result<Snapshot, io::Error> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "this adapter does not build snapshots",
        ))
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    crate::compat::snapshot_data_type!();
    type SnapshotBuilder = NoSnapshots;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), io::Error> {
        let kv = self.kv.borrow();
        Ok((kv.last_applied, kv.membership.clone()))
    }

    async fn apply<Strm>(&mut self, mut entries: Strm) -> Result<(), io::Error>
    where
        Strm: Stream<Item = Result<EntryResponder<TypeConfig>, io::Error>> + Unpin,
    {
        while let Some(item) = entries.next().await {
            let (entry, responder) = item?;
            let answer = {
                let mut kv = self.kv.borrow_mut();
                kv.last_applied = Some(entry.log_id);
                match &entry.payload {
                    EntryPayload::Blank => String::new(),
                    EntryPayload::Membership(m) => {
                        kv.membership = StoredMembership::new(Some(entry.log_id), m.clone());
                        String::new()
                    }
                    EntryPayload::Normal(cmd) => match kv.sessions.get(&cmd.client) {
                        // A retried write that was already applied: answer as the first time.
                        Some((seq, answer)) if *seq >= cmd.seq => answer.clone(),
                        _ => {
                            let (key, token) = match cmd.write {
                                Write::Put { key, value } | Write::Append { key, value } => {
                                    (key, format!("[{value}]"))
                                }
                            };
                            let slot = kv.data.entry(key).or_default();
                            if matches!(cmd.write, Write::Put { .. }) {
                                slot.clear();
                            }
                            slot.push_str(&token);
                            let answer = slot.clone();
                            kv.sessions.insert(cmd.client, (cmd.seq, answer.clone()));
                            answer
                        }
                    },
                }
            };
            self.observer.with(self.id, |view| {
                view.applied.push((entry.log_id.index, rec(&entry)));
            });
            // Applied in memory, the client not yet answered.
            self.points.pass("entry-applied");
            if let Some(responder) = responder {
                responder.send(Applied { value: answer });
            }
        }
        Ok(())
    }

    async fn try_create_snapshot_builder(&mut self, _force: bool) -> Option<NoSnapshots> {
        None
    }

    async fn get_snapshot_builder(&mut self) -> NoSnapshots {
        NoSnapshots
    }

    crate::compat::begin_receiving_snapshot!();

    async fn install_snapshot(
        &mut self,
        _meta: &SnapshotMetaOf<TypeConfig>,
        _snapshot: SnapshotData,
    ) -> Result<(), io::Error> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "this adapter never sends snapshots",
        ))
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot>, io::Error> {
        Ok(None)
    }
}
