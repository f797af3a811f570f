//! The client process: one session. It sticks to one coordinator and fails over to the next
//! node when an attempt times out. It carries its session context per key — the clocks of
//! what it read and of its acknowledged writes — and asks every read to cover it
//! (read-your-writes and monotonic reads). A write carries the same context (so it overwrites
//! what the session saw) joined with the session's own earlier writes to the key; its dot
//! is (session, the session's count of writes to the key), chosen here, so a retry through
//! another coordinator is the same version, never a copy.
//!
//! In sibling mode the session also keeps its own copy of what it read and wrote per key.
//! When the coordinator says no reachable replica covers the session (a partition left
//! the client beside nodes that never saw its past), the client joins that copy into the
//! answer: the session stays available *and* keeps its guarantees, as HAT's sticky
//! availability has it (Bailis et al., VLDB 2014: the client is the replica it sticks to).
//! The copy is used only on the coordinator's word; a coordinator that claims coverage it
//! lacks breaks read-your-writes (planted bug `trust-quorum`).

use super::messages::{Message, ReqId, RECEIVE_BUFFER};
use super::mutants::Mutant;
use super::observer::{LwwWrite, Observer};
use super::version::{Dot, Entry, Hlc, MergeBug, Resolve, Sibling, Vv};
use crate::history::Value;
use crate::node::net::{Received, Transport};
use crate::systems::{Client, ClientContext, OpResult};
use crate::workload::kv::token;
use crate::workload::siblings::{read_value, Siblings, SiblingsOp};
use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::time::Instant;

/// How long one attempt waits for its coordinator before failing over to the next node.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(300);

/// A client session of the dynamo store.
pub struct DynamoClient {
    id: u8,
    transport: Transport,
    nodes: Vec<SocketAddr>,
    observer: Observer,
    mutant: Option<Mutant>,
    resolve: Resolve,
    seq: u32,
    coordinator: usize,
    /// Per key: what the session has seen and written (the write context).
    seen: BTreeMap<u8, Vv>,
    /// Per key: what reads must cover (the same, unless a planted bug loses it).
    session: BTreeMap<u8, Vv>,
    /// Per key (sibling mode): the session's own copy of what it read and wrote, which
    /// covers `seen`.
    copy: BTreeMap<u8, Entry>,
    /// Per key: the session's writes so far (its dots' counters).
    counters: BTreeMap<u8, u32>,
    /// Per key: the greatest timestamp the session has seen.
    max_ts: BTreeMap<u8, Hlc>,
    /// The session's hybrid clock (LWW mode): past every coordinator clock reading and every
    /// timestamp it has seen; it stamps the session's writes.
    hlc: Hlc,
    buf: Vec<u8>,
}

/// Records the end of an operation the harness cancelled at its deadline.
struct Cancelled<'a>(&'a Observer, u8, bool);

impl Drop for Cancelled<'_> {
    fn drop(&mut self) {
        self.0.op_ended(self.1, self.2);
    }
}

impl DynamoClient {
    /// Binds the client's transport.
    pub async fn connect(
        ctx: ClientContext,
        observer: Observer,
        mutant: Option<Mutant>,
        resolve: Resolve,
    ) -> io::Result<DynamoClient> {
        let coordinator = usize::from(ctx.id) % ctx.nodes.len().max(1);
        Ok(DynamoClient {
            id: ctx.id,
            transport: Transport::bind(&ctx.net, ctx.addr).await?,
            nodes: ctx.nodes,
            observer,
            mutant,
            resolve,
            seq: 0,
            coordinator,
            seen: BTreeMap::new(),
            session: BTreeMap::new(),
            copy: BTreeMap::new(),
            counters: BTreeMap::new(),
            max_ts: BTreeMap::new(),
            hlc: Hlc::default(),
            buf: vec![0; RECEIVE_BUFFER],
        })
    }

    fn fail_over(&mut self) {
        self.coordinator = (self.coordinator + 1) % self.nodes.len().max(1);
        if self.mutant == Some(Mutant::SessionLostOnFailover) {
            // Planted bug A10: the new coordinator never hears of the session.
            self.session.clear();
        }
    }

    /// Sends `msg` to the coordinator and waits for the answer `want` accepts, failing over
    /// at each attempt timeout; the harness bounds the whole wait. `msg` is rebuilt for each
    /// attempt (the session it carries may change).
    async fn call<T>(
        &mut self,
        msg: impl Fn(&Self) -> Message,
        mut want: impl FnMut(Message) -> Option<T>,
    ) -> T {
        loop {
            let to = self.nodes[self.coordinator];
            let _ = self.transport.send_msg(to, &msg(self)).await;
            let deadline = Instant::now() + ATTEMPT_TIMEOUT;
            loop {
                let received = tokio::time::timeout_at(
                    deadline,
                    self.transport.recv_msg::<Message>(&mut self.buf),
                )
                .await;
                match received {
                    Err(_) => break,
                    Ok(Ok((Received::Message(m), _))) => {
                        if let Some(t) = want(m) {
                            return t;
                        }
                    }
                    Ok(_) => {}
                }
            }
            self.fail_over();
        }
    }

    fn next_req(&mut self) -> ReqId {
        self.seq += 1;
        (self.id, self.seq)
    }

    async fn get(&mut self, key: u8) -> OpResult {
        self.observer.invoke_read(self.id, key);
        let observer = self.observer.clone();
        let guard = Cancelled(&observer, self.id, false);
        let req = self.next_req();
        let entry: Entry = loop {
            let answer = self
                .call(
                    |c| Message::Get {
                        req,
                        key,
                        session: c.session.get(&key).cloned().unwrap_or_default(),
                    },
                    |m| match m {
                        Message::GetReply {
                            req: r,
                            entry,
                            covered,
                            error,
                            clock,
                        } if r == req => Some((entry, covered, error, clock)),
                        _ => None,
                    },
                )
                .await;
            self.hlc = self.hlc.max(answer.3);
            match answer {
                (entry, true, error, _) if error.is_empty() => break entry,
                (mut entry, false, error, _)
                    if error.is_empty() && self.resolve == Resolve::Siblings =>
                {
                    // No reachable replica has caught up with the session: its own copy
                    // has what the answer lacks.
                    if let Some(copy) = self.copy.get(&key) {
                        entry.merge(copy, self.resolve, MergeBug::None);
                    }
                    break entry;
                }
                // This coordinator could not serve the session; another may.
                _ => self.fail_over(),
            }
        };
        std::mem::forget(guard);
        self.seen.entry(key).or_default().join(&entry.clock);
        self.session.entry(key).or_default().join(&entry.clock);
        if self.resolve == Resolve::Siblings {
            let copy = self.copy.entry(key).or_default();
            copy.merge(&entry, self.resolve, MergeBug::None);
        }
        let ts = self.max_ts.entry(key).or_default();
        for s in &entry.siblings {
            *ts = (*ts).max(s.ts);
        }
        self.hlc = self.hlc.max(*ts);
        self.observer.read_ok(self.id, key, &entry);
        let values: Vec<u32> = entry.live().filter_map(|s| s.value).collect();
        OpResult::Ok(read_value(&values))
    }

    async fn put(&mut self, key: u8, value: Option<u32>) -> OpResult {
        let counter = self.counters.entry(key).or_insert(0);
        *counter += 1;
        let dot = Dot {
            actor: self.id,
            counter: *counter,
        };
        let req = self.next_req();
        let id = match value {
            Some(v) => format!("{v}/c{}.{}", self.id, req.1),
            None => format!("del/c{}.{}", self.id, req.1),
        };
        // What the session saw, and every earlier write of its own to the key (even one of
        // unknown outcome: it comes before this one).
        let mut context = self.seen.get(&key).cloned().unwrap_or_default();
        if dot.counter > 1 {
            context.add(Dot {
                actor: self.id,
                counter: dot.counter - 1,
            });
        }
        self.observer
            .invoke_write(self.id, key, dot, &id, value.is_none(), &context);
        let observer = self.observer.clone();
        let guard = Cancelled(&observer, self.id, true);
        let seen = self.max_ts.get(&key).copied().unwrap_or_default();
        let ts = match self.resolve {
            Resolve::Lww => Hlc::tick(self.hlc, seen, 0),
            Resolve::Siblings => Hlc::default(),
        };
        self.hlc = self.hlc.max(ts);
        let sibling = Sibling {
            dot,
            id: id.clone(),
            value,
            ts,
        };
        let (ts, held, clock) = self
            .call(
                |_| Message::Put {
                    req,
                    key,
                    context: context.clone(),
                    sibling: sibling.clone(),
                    seen,
                },
                |m| match m {
                    Message::PutReply {
                        req: r,
                        ts,
                        held,
                        clock,
                    } if r == req => Some((ts, held, clock)),
                    _ => None,
                },
            )
            .await;
        std::mem::forget(guard);
        self.hlc = self.hlc.max(clock).max(ts);
        self.seen.entry(key).or_default().add(dot);
        self.session.entry(key).or_default().add(dot);
        if self.resolve == Resolve::Siblings {
            let written = Sibling { ts, ..sibling };
            let copy = self.copy.entry(key).or_default();
            copy.write(&context, written, self.resolve);
        }
        let max = self.max_ts.entry(key).or_default();
        *max = (*max).max(ts);
        let lww = (self.resolve == Resolve::Lww).then_some(LwwWrite {
            session: self.id,
            key,
            id,
            seen,
            ts,
            held,
        });
        self.observer.write_ok(self.id, lww);
        OpResult::Ok(match value {
            Some(v) => Value::Str(token(v)),
            None => Value::Nil,
        })
    }
}

impl Client<Siblings> for DynamoClient {
    async fn invoke(&mut self, op: &SiblingsOp) -> OpResult {
        match *op {
            SiblingsOp::Get { key } => self.get(key).await,
            SiblingsOp::Put { key, value } => self.put(key, Some(value)).await,
            SiblingsOp::Delete { key } => self.put(key, None).await,
        }
    }
}
