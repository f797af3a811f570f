//! The client process: a transfer goes to the coordinator (resent with the same transaction
//! id until it answers, so a retry is the same transaction); a read goes to the account's
//! owner; a read-all read-locks every participant at once and retries while any is busy.

use super::messages::{Message, RECEIVE_BUFFER};
use super::node::{owner, COORDINATOR, READ_LEASE};
use crate::history::Value;
use crate::node::net::{Received, Transport};
use crate::systems::{Client, ClientContext, OpResult};
use crate::workload::bank::{Bank, BankOp, ReadResult, TxId};
use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::time::Instant;

/// One participant's part of a read-all: balances and the transfers they saw.
type Snapshot = (Vec<(u8, i64)>, Vec<TxId>);

/// How long one attempt waits for an answer before resending.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(200);
/// Pause before retrying a read-all that found a participant busy.
pub const BUSY_BACKOFF: Duration = Duration::from_millis(20);

/// A client of the 2PC store.
pub struct TwoPcClient {
    id: u8,
    transport: Transport,
    nodes: Vec<SocketAddr>,
    seq: u32,
    attempt: u32,
    buf: Vec<u8>,
}

impl TwoPcClient {
    /// Binds the client's transport.
    pub async fn connect(ctx: ClientContext) -> io::Result<TwoPcClient> {
        Ok(TwoPcClient {
            id: ctx.id,
            transport: Transport::bind(&ctx.net, ctx.addr).await?,
            nodes: ctx.nodes,
            seq: 0,
            attempt: 0,
            buf: vec![0; RECEIVE_BUFFER],
        })
    }

    /// The next message until `deadline` that `want` accepts.
    async fn until<T>(
        &mut self,
        deadline: Instant,
        mut want: impl FnMut(Message, SocketAddr) -> Option<T>,
    ) -> Option<T> {
        loop {
            let received = tokio::time::timeout_at(
                deadline,
                self.transport.recv_msg::<Message>(&mut self.buf),
            )
            .await;
            match received {
                Err(_) => return None,
                Ok(Ok((Received::Message(m), from))) => {
                    if let Some(t) = want(m, from) {
                        return Some(t);
                    }
                }
                Ok(_) => {}
            }
        }
    }

    async fn transfer(&mut self, tx: TxId, from: u8, to: u8, amount: u32) -> OpResult {
        let coordinator = self.nodes[usize::from(COORDINATOR)];
        let begin = Message::Begin {
            tx,
            from,
            to,
            amount,
        };
        loop {
            let _ = self.transport.send_msg(coordinator, &begin).await;
            let outcome = self
                .until(Instant::now() + ATTEMPT_TIMEOUT, |m, _| match m {
                    Message::Outcome { tx: t, committed } if t == tx => Some(committed),
                    _ => None,
                })
                .await;
            match outcome {
                Some(true) => return OpResult::Ok(Value::Nil),
                Some(false) => return OpResult::Fail("aborted".into()),
                None => {}
            }
        }
    }

    async fn read(&mut self, tx: TxId, account: u8) -> OpResult {
        let to = self.nodes[usize::from(owner(account, self.nodes.len() as u8))];
        let read = Message::Read {
            tx,
            accounts: vec![account],
            lock: false,
            attempt: 0,
        };
        loop {
            let _ = self.transport.send_msg(to, &read).await;
            let got = self
                .until(Instant::now() + ATTEMPT_TIMEOUT, |m, _| match m {
                    Message::ReadReply {
                        tx: t,
                        balances,
                        seen,
                        busy: false,
                        ..
                    } if t == tx => Some((balances, seen)),
                    _ => None,
                })
                .await;
            if let Some((balances, seen)) = got {
                let r = ReadResult {
                    balances: balances.into_iter().collect(),
                    seen: seen.into_iter().collect(),
                };
                return OpResult::Ok(Value::Str(r.to_string()));
            }
        }
    }

    /// One snapshot attempt: read-lock every node; all answers within half a lease (so every
    /// lock was held at once), none busy.
    async fn read_all_once(&mut self, tx: TxId) -> Option<ReadResult> {
        let started = Instant::now();
        self.attempt += 1;
        let attempt = self.attempt;
        let read = Message::Read {
            tx,
            accounts: Vec::new(),
            lock: true,
            attempt,
        };
        for addr in self.nodes.clone() {
            let _ = self.transport.send_msg(addr, &read).await;
        }
        let nodes = self.nodes.clone();
        let mut answers: BTreeMap<usize, Option<Snapshot>> = BTreeMap::new();
        let deadline = started + READ_LEASE / 2;
        let _ = self
            .until(deadline, |m, from| {
                if let Message::ReadReply {
                    tx: t,
                    balances,
                    seen,
                    busy,
                    attempt: a,
                } = m
                {
                    if let Some(i) = nodes.iter().position(|a| *a == from) {
                        if t == tx && a == attempt {
                            answers.insert(i, (!busy).then_some((balances, seen)));
                        }
                    }
                }
                (answers.len() == nodes.len()).then_some(())
            })
            .await;
        let ok = answers.len() == self.nodes.len()
            && answers.values().all(Option::is_some)
            && Instant::now() < deadline;
        for addr in self.nodes.clone() {
            let _ = self
                .transport
                .send_msg(addr, &Message::Unlock { tx, attempt })
                .await;
        }
        if !ok {
            return None;
        }
        let mut r = ReadResult::default();
        for (balances, seen) in answers.into_values().flatten() {
            r.balances.extend(balances);
            r.seen.extend(seen);
        }
        Some(r)
    }

    async fn read_all(&mut self, tx: TxId) -> OpResult {
        loop {
            if let Some(r) = self.read_all_once(tx).await {
                return OpResult::Ok(Value::Str(r.to_string()));
            }
            tokio::time::sleep(BUSY_BACKOFF).await;
        }
    }
}

impl Client<Bank> for TwoPcClient {
    async fn invoke(&mut self, op: &BankOp) -> OpResult {
        // The k-th operation is transaction `id.k` (see the bank workload's docs).
        self.seq += 1;
        let tx = TxId {
            client: self.id,
            seq: self.seq,
        };
        if self.nodes.is_empty() {
            return OpResult::Fail("no nodes to ask".into());
        }
        match *op {
            BankOp::Transfer { from, to, amount } => self.transfer(tx, from, to, amount).await,
            BankOp::Read { account } => self.read(tx, account).await,
            BankOp::ReadAll => self.read_all(tx).await,
        }
    }
}
