//! The client process: sends each operation with (client id, sequence number) to its guess of
//! the leader, follows NotLeader hints, rotates through the nodes when a node is silent, and
//! retries the same sequence number until some node answers (thesis §6.3). Because the
//! cluster deduplicates by sequence number, a retried write takes effect at most once, so the
//! client never needs to report a write as failed: an unanswered one stays indeterminate.

use super::messages::RECEIVE_BUFFER;
use super::messages::{ClientRequest, Message, Outcome};
use super::mutants::Mutant;
use crate::history::Value;
use crate::node::net::{Received, Transport};
use crate::systems::{Client, ClientContext, OpResult};
use crate::workload::kv::{Kv, KvOp};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::time::Instant;

/// How long one attempt waits for an answer before trying another node: about two round
/// trips at the worst latency plus a leader's sync and replication round.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(150);
/// Pause before retrying when no node knows a leader (an election is under way).
pub const NO_LEADER_BACKOFF: Duration = Duration::from_millis(30);

/// A client of the Raft KV store.
pub struct RaftClient {
    transport: Transport,
    nodes: Vec<SocketAddr>,
    /// Unique per client process (the session key).
    client_id: u64,
    seq: u64,
    leader: usize,
    buf: Vec<u8>,
}

impl RaftClient {
    /// Binds the client's transport.
    pub async fn connect(ctx: ClientContext, _mutant: Option<Mutant>) -> io::Result<RaftClient> {
        let transport = Transport::bind(&ctx.net, ctx.addr).await?;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(ctx.seed ^ u64::from(ctx.id));
        // The id's low byte is the client's index; the rest is random so that a client
        // created again in the same cluster never reuses an old session.
        let client_id = (rng.random::<u64>() << 8) | u64::from(ctx.id);
        let leader = rng.random_range(0..ctx.nodes.len().max(1));
        Ok(RaftClient {
            transport,
            nodes: ctx.nodes,
            client_id,
            seq: 0,
            leader,
            buf: vec![0; RECEIVE_BUFFER],
        })
    }

    fn rotate(&mut self) {
        self.leader = (self.leader + 1) % self.nodes.len();
    }

    async fn perform(&mut self, op: KvOp) -> OpResult {
        if self.nodes.is_empty() {
            return OpResult::Fail("no nodes to ask".into());
        }
        self.seq += 1;
        let seq = self.seq;
        let request = Message::from(ClientRequest {
            client: self.client_id,
            seq,
            op,
        });
        loop {
            let to = self.nodes[self.leader];
            // A failed send is a lost message; the attempt timeout handles it.
            let _ = self.transport.send_msg(to, &request).await;
            let deadline = Instant::now() + ATTEMPT_TIMEOUT;
            let outcome = loop {
                let received = tokio::time::timeout_at(
                    deadline,
                    self.transport.recv_msg::<Message>(&mut self.buf),
                )
                .await;
                match received {
                    Err(_) => break None,
                    Ok(Err(_)) => continue,
                    Ok(Ok((Received::Message(Message::ClientReply(reply)), _)))
                        if reply.seq == seq =>
                    {
                        break Some(reply.outcome)
                    }
                    // Stale answers to earlier attempts, or garbage.
                    Ok(Ok(_)) => continue,
                }
            };
            match outcome {
                Some(Outcome::Done(result)) => {
                    return OpResult::Ok(match op {
                        KvOp::Get { .. } => Value::Str(result),
                        KvOp::Put { .. } | KvOp::Append { .. } => Value::Nil,
                    });
                }
                Some(Outcome::NotLeader(Some(hint)))
                    if usize::from(hint) < self.nodes.len() && usize::from(hint) != self.leader =>
                {
                    self.leader = usize::from(hint);
                }
                Some(Outcome::NotLeader(_)) => {
                    self.rotate();
                    tokio::time::sleep(NO_LEADER_BACKOFF).await;
                }
                None => self.rotate(),
            }
        }
    }
}

impl Client<Kv> for RaftClient {
    async fn invoke(&mut self, op: &KvOp) -> OpResult {
        self.perform(*op).await
    }
}
