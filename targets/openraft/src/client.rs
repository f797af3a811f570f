//! The KV client process: finds the leader, retries, and tags every write with its
//! `(client, seq)` so that a retry is applied once.

use crate::network::{Endpoint, Request, Response};
use crate::types::{Command, Write};
use squall::prelude::*;
use squall::workload::kv::{Kv, KvOp};
use std::net::SocketAddr;
use std::time::Duration;

/// How long one attempt waits for an answer before trying another node. Longer than a
/// commit takes in a healthy cluster (two round trips and an fsync, ~150 ms at worst).
const ATTEMPT: Duration = Duration::from_millis(300);

/// A client process.
pub struct KvClient {
    id: u8,
    rpc: Endpoint,
    nodes: Vec<SocketAddr>,
    /// Sequence number of the last write.
    seq: u64,
    /// The node believed to lead.
    leader: usize,
}

impl KvClient {
    /// Binds the client's transport.
    pub async fn connect(ctx: ClientContext) -> std::io::Result<KvClient> {
        let transport = Transport::bind(&ctx.net, ctx.addr).await?;
        Ok(KvClient {
            id: ctx.id,
            rpc: Rpc::caller(transport),
            leader: usize::from(ctx.id) % ctx.nodes.len(),
            nodes: ctx.nodes,
            seq: 0,
        })
    }

    /// Sends the request until some node answers `Done` (the harness's deadline cancels us).
    async fn perform(&mut self, request: Request) -> String {
        loop {
            let to = self.nodes[self.leader];
            match self.rpc.call(to, &request, ATTEMPT).await {
                Ok(Response::Done(value)) => return value,
                Ok(Response::NotLeader(Some(leader))) if (leader as usize) < self.nodes.len() => {
                    self.leader = leader as usize;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                reply => {
                    self.leader = (self.leader + 1) % self.nodes.len();
                    // An election is under way, or the node could not serve: pause before
                    // trying elsewhere rather than spin. (No answer at all: try at once.)
                    if matches!(reply, Ok(Response::NotLeader(_) | Response::Error(_))) {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        }
    }
}

impl Client<Kv> for KvClient {
    async fn invoke(&mut self, op: &KvOp) -> OpResult {
        let (write, value) = match *op {
            KvOp::Get { key } => {
                return OpResult::Ok(Value::Str(self.perform(Request::Read(key)).await))
            }
            KvOp::Put { key, value } => (Write::Put { key, value }, value),
            KvOp::Append { key, value } => (Write::Append { key, value }, value),
        };
        self.seq += 1;
        let (client, seq) = (self.id, self.seq);
        self.perform(Request::Write(Command { client, seq, write }))
            .await;
        OpResult::Ok(Value::Str(format!("[{value}]")))
    }
}
