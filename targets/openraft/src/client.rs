//! The KV client process: finds the leader, retries, and tags every write with its
//! `(client, seq)` so that a retry is applied once.

use crate::node::node_addr;
use crate::types::{Command, Write};
use crate::wire::{decode, encode, Frame, Request, Response};
use crate::KvOp;
use squall::history::Value;
use squall::node::net::{Transport, MAX_FRAME};
use squall::systems::{Client, OpResult};
use squall::workload::kv::Kv;
use std::net::SocketAddr;
use std::time::Duration;

/// How long one attempt waits for an answer before trying another node. Longer than a
/// commit takes in a healthy cluster (two round trips and an fsync, ~150 ms at worst).
const ATTEMPT: Duration = Duration::from_millis(300);

/// A client process.
pub struct KvClient {
    id: u8,
    transport: Transport,
    nodes: Vec<SocketAddr>,
    /// Sequence number of the last write.
    seq: u64,
    next_request: u64,
    /// The node believed to lead.
    leader: usize,
    buf: Vec<u8>,
}

impl KvClient {
    /// A client on a bound transport.
    pub fn new(id: u8, transport: Transport, nodes: Vec<SocketAddr>) -> Self {
        let leader = usize::from(id) % nodes.len().max(1);
        KvClient {
            id,
            transport,
            nodes,
            seq: 0,
            next_request: 0,
            leader,
            buf: vec![0u8; MAX_FRAME],
        }
    }

    fn next_node(&mut self) {
        self.leader = (self.leader + 1) % self.nodes.len().max(1);
    }

    /// One attempt at one node: the answer, or `None` if none came in time.
    async fn attempt(&mut self, request: Request) -> Option<Response> {
        self.next_request += 1;
        let id = self.next_request;
        let to = self.nodes.get(self.leader).copied()?;
        let frame = encode(&Frame::Request { id, body: request });
        self.transport.send(to, &frame).await.ok()?;
        let wait = async {
            loop {
                let (len, _) = self.transport.recv(&mut self.buf).await.ok()?;
                match decode(&self.buf[..len]) {
                    Some(Frame::Response { id: rid, body }) if rid == id => return Some(body),
                    // Late answers to earlier attempts, duplicates, garbage.
                    _ => continue,
                }
            }
        };
        tokio::time::timeout(ATTEMPT, wait).await.ok().flatten()
    }

    /// Sends the request until some node answers `Done` (the harness's deadline cancels us).
    async fn perform(&mut self, make: impl Fn() -> Request) -> String {
        loop {
            match self.attempt(make()).await {
                Some(Response::Done(value)) => return value,
                Some(Response::NotLeader(Some(leader))) => {
                    match node_addr(&self.nodes, leader) {
                        Some(_) => self.leader = leader as usize,
                        None => self.next_node(),
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Some(Response::NotLeader(None)) | Some(Response::Error(_)) => {
                    // An election is under way, or the node could not serve: try elsewhere
                    // after a pause rather than spin.
                    self.next_node();
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Some(Response::Append(_) | Response::Vote(_)) | None => self.next_node(),
            }
        }
    }
}

impl KvClient {
    /// Binds the client's transport.
    pub async fn connect(ctx: squall::systems::ClientContext) -> std::io::Result<KvClient> {
        let transport = Transport::bind(&ctx.net, ctx.addr).await?;
        Ok(KvClient::new(ctx.id, transport, ctx.nodes))
    }
}

impl Client<Kv> for KvClient {
    async fn invoke(&mut self, op: &KvOp) -> OpResult {
        {
            match *op {
                KvOp::Get { key } => {
                    let value = self.perform(|| Request::Read(key)).await;
                    OpResult::Ok(Value::Str(value))
                }
                KvOp::Put { key, value } | KvOp::Append { key, value } => {
                    self.seq += 1;
                    let write = match op {
                        KvOp::Put { .. } => Write::Put { key, value },
                        _ => Write::Append { key, value },
                    };
                    let cmd = Command {
                        client: self.id,
                        seq: self.seq,
                        write,
                    };
                    self.perform(|| Request::Write(cmd.clone())).await;
                    OpResult::Ok(Value::Str(format!("[{value}]")))
                }
            }
        }
    }
}
