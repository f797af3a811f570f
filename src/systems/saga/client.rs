//! The client process: an order goes to the orchestrator (resent with the same saga id until
//! it answers, so a retry is the same saga); a read goes to the service that owns the key; a
//! read-all reads each service in turn; an audit reads every service between two answers of
//! the orchestrator about the sagas in flight, and lists those it may have read half done.

use super::messages::{Message, RECEIVE_BUFFER};
use super::node::{service_node, ORCHESTRATOR};
use crate::history::Value;
use crate::node::net::{Received, Transport};
use crate::systems::{Client, ClientContext, OpResult};
use crate::workload::orders::TxId;
use crate::workload::orders::{Key, Order, OrderOp, Orders, ReadResult, Service};
use std::collections::BTreeSet;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::time::Instant;

/// How long one attempt waits for an answer before resending.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(250);
/// Pause before an audit asks again whether the orchestrator is quiet.
pub const AUDIT_BACKOFF: Duration = Duration::from_millis(50);
/// Rounds an audit tries for a quiet orchestrator before it accepts unsettled sagas.
pub const AUDIT_ROUNDS: u32 = 8;

/// A client of the saga store.
pub struct SagaClient {
    id: u8,
    transport: Transport,
    nodes: Vec<SocketAddr>,
    seq: u32,
    attempt: u32,
    buf: Vec<u8>,
}

impl SagaClient {
    /// Binds the client's transport.
    pub async fn connect(ctx: ClientContext) -> io::Result<SagaClient> {
        Ok(SagaClient {
            id: ctx.id,
            transport: Transport::bind(&ctx.net, ctx.addr).await?,
            nodes: ctx.nodes,
            seq: 0,
            attempt: 0,
            buf: vec![0; RECEIVE_BUFFER],
        })
    }

    /// Sends `msg` to `to` until a message `want` accepts arrives; one attempt per
    /// [`ATTEMPT_TIMEOUT`], each with a fresh attempt number.
    async fn ask<T>(
        &mut self,
        to: SocketAddr,
        msg: impl Fn(u32) -> Message,
        mut want: impl FnMut(Message, u32) -> Option<T>,
    ) -> T {
        loop {
            self.attempt += 1;
            let attempt = self.attempt;
            let _ = self.transport.send_msg(to, &msg(attempt)).await;
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
                        if let Some(t) = want(m, attempt) {
                            return t;
                        }
                    }
                    Ok(_) => {}
                }
            }
        }
    }

    async fn order(&mut self, saga: TxId, order: Order) -> OpResult {
        let orchestrator = self.nodes[usize::from(ORCHESTRATOR)];
        let completed = self
            .ask(
                orchestrator,
                |_| Message::Begin { saga, order },
                |m, _| match m {
                    Message::Outcome { saga: s, completed } if s == saga => Some(completed),
                    _ => None,
                },
            )
            .await;
        if completed {
            OpResult::Ok(Value::Nil)
        } else {
            OpResult::Fail("compensated".into())
        }
    }

    /// Reads `keys` (all when empty) at `service` into `into`.
    async fn read_service(&mut self, service: Service, keys: Vec<Key>, into: &mut ReadResult) {
        let node = service_node(service, self.nodes.len() as u8);
        let to = self.nodes[usize::from(node)];
        let step = service.step();
        let (values, standing) = self
            .ask(
                to,
                |attempt| Message::Read {
                    step,
                    keys: keys.clone(),
                    attempt,
                },
                |m, attempt| match m {
                    Message::ReadReply {
                        step: s,
                        attempt: a,
                        values,
                        standing,
                    } if s == step && a == attempt => Some((values, standing)),
                    _ => None,
                },
            )
            .await;
        into.values.extend(values);
        into.seen.entry(service).or_default().extend(standing);
    }

    async fn read_all(&mut self) -> ReadResult {
        let mut r = ReadResult::default();
        for service in Service::ALL {
            self.read_service(service, Vec::new(), &mut r).await;
        }
        r
    }

    /// The orchestrator's sagas in flight and sagas ever begun.
    async fn quiet(&mut self) -> (BTreeSet<TxId>, BTreeSet<TxId>) {
        let orchestrator = self.nodes[usize::from(ORCHESTRATOR)];
        self.ask(
            orchestrator,
            |attempt| Message::Quiet { attempt },
            |m, attempt| match m {
                Message::QuietReply {
                    attempt: a,
                    active,
                    begun,
                } if a == attempt => {
                    Some((active.into_iter().collect(), begun.into_iter().collect()))
                }
                _ => None,
            },
        )
        .await
    }

    /// Reads every service between two answers of the orchestrator. A saga in flight at
    /// either answer, or begun between them, may have been read half done: it is listed as
    /// unsettled. Up to [`AUDIT_ROUNDS`] rounds wait for a quiet orchestrator, so that
    /// nothing is unsettled, before one is accepted as it is.
    async fn audit(&mut self) -> ReadResult {
        let mut round = 0;
        loop {
            round += 1;
            let last = round >= AUDIT_ROUNDS;
            let (active, begun) = self.quiet().await;
            if active.is_empty() || last {
                let mut r = self.read_all().await;
                let (active_after, begun_after) = self.quiet().await;
                r.unsettled = active
                    .into_iter()
                    .chain(active_after)
                    .chain(begun_after.difference(&begun).copied())
                    .collect();
                if r.unsettled.is_empty() || last {
                    return r;
                }
            }
            tokio::time::sleep(AUDIT_BACKOFF).await;
        }
    }
}

impl Client<Orders> for SagaClient {
    async fn invoke(&mut self, op: &OrderOp) -> OpResult {
        // The k-th operation is saga `id.k` (see the orders workload's docs).
        self.seq += 1;
        let saga = TxId {
            client: self.id,
            seq: self.seq,
        };
        if self.nodes.is_empty() {
            return OpResult::Fail("no nodes to ask".into());
        }
        let read = match *op {
            OrderOp::Order(order) => return self.order(saga, order).await,
            OrderOp::Read(key) => {
                let mut r = ReadResult::default();
                self.read_service(key.service(), vec![key], &mut r).await;
                r
            }
            OrderOp::ReadAll => self.read_all().await,
            OrderOp::Audit => self.audit().await,
        };
        OpResult::Ok(Value::Str(read.to_string()))
    }
}
