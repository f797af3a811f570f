//! openraft under squall: an outside user's adapter.
//!
//! [openraft](https://crates.io/crates/openraft), unmodified, runs as squall's system
//! `openraft`: each node is a turmoil host ([`node`]) with its log and vote on squall's
//! durable disk ([`store`]) and its RPCs on squall's datagram transport ([`network`]); a small
//! key-value application with exactly-once writes runs on top, driven by squall's clients
//! ([`client`]). After every simulation step the Raft safety properties are checked
//! ([`check`]) against what nodes publish ([`observe`]); while faults persist, a fully
//! connected majority must elect a leader and commit within a bound ([`progress`]); after
//! the heal, squall's liveness phase and the linearizability check of the client history
//! apply as to any system.
//!
//! Only squall's public API is used: this crate is the worked example of "testing your own
//! system" (see README.md).

pub mod check;
pub mod client;
pub mod network;
pub mod node;
pub mod observe;
pub mod progress;
pub mod store;
pub mod types;
pub mod wire;

use arbitrary::{Arbitrary, Unstructured};
use openraft::rt::WatchReceiver;
use openraft::ServerState;
use squall::check::Violation;
use squall::history::{Function, Value};
use squall::sim::net::Transport;
use squall::systems::{
    BoxFuture, ClientContext, HistoryModel, HistoryOp, Liveness, NodeContext, StepContext, System,
};
use std::fmt;
use std::io;
use std::str::FromStr;
use types::{Runtime, KEYS};

/// A client operation on the KV store: `get k1`, `put k1 5`, `append k1 5`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KvOp {
    /// Linearizable read of a key.
    Get(u8),
    /// Overwrite a key with `[v]`.
    Put(u8, u32),
    /// Append `[v]` to a key.
    Append(u8, u32),
}

impl<'a> Arbitrary<'a> for KvOp {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let key = u8::arbitrary(u)? % KEYS;
        let value = u32::from(u8::arbitrary(u)?);
        Ok(match u8::arbitrary(u)? % 3 {
            0 => KvOp::Get(key),
            1 => KvOp::Put(key, value),
            _ => KvOp::Append(key, value),
        })
    }
}

impl fmt::Display for KvOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KvOp::Get(k) => write!(f, "get k{k}"),
            KvOp::Put(k, v) => write!(f, "put k{k} {v}"),
            KvOp::Append(k, v) => write!(f, "append k{k} {v}"),
        }
    }
}

fn parse_key(s: &str) -> Result<u8, String> {
    s.strip_prefix('k')
        .and_then(|k| k.parse::<u8>().ok())
        .filter(|k| *k < KEYS)
        .ok_or_else(|| format!("`{s}` is not a key k0..k{}", KEYS - 1))
}

fn parse_value(s: &str) -> Result<u32, String> {
    s.parse()
        .map_err(|_| format!("`{s}` is not a value 0..={}", u32::MAX))
}

impl FromStr for KvOp {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let words: Vec<&str> = s.split_whitespace().collect();
        match words.as_slice() {
            ["get", k] => Ok(KvOp::Get(parse_key(k)?)),
            ["put", k, v] => Ok(KvOp::Put(parse_key(k)?, parse_value(v)?)),
            ["append", k, v] => Ok(KvOp::Append(parse_key(k)?, parse_value(v)?)),
            _ => Err(format!(
                "expected `get K`, `put K V` or `append K V`, found `{s}`"
            )),
        }
    }
}

/// The system: openraft with the KV application.
#[derive(Clone, Copy, Default)]
pub struct OpenRaft;

/// The per-step checks: safety and progress under faults.
pub struct Checks {
    safety: check::Checker,
    progress: progress::Progress,
}

impl System for OpenRaft {
    type Op = KvOp;
    type Observer = observe::Observer;
    type Checker = Checks;
    type Client = client::KvClient;

    fn name(&self) -> &'static str {
        "openraft"
    }

    fn observer(&self, nodes: u8) -> observe::Observer {
        observe::Observer::new(nodes)
    }

    fn checker(&self, nodes: u8) -> Checks {
        Checks {
            safety: check::Checker::new(nodes),
            progress: progress::Progress::new(nodes),
        }
    }

    fn start_node(
        &self,
        ctx: NodeContext,
        observer: observe::Observer,
    ) -> BoxFuture<'static, io::Result<()>> {
        // Every random number openraft draws in this node comes from this seed.
        let seed = ctx.seed;
        Box::pin(Runtime::scope(seed, node::run(ctx, observer)))
    }

    fn connect_client(
        &self,
        ctx: ClientContext,
    ) -> BoxFuture<'static, io::Result<client::KvClient>> {
        Box::pin(async move {
            let transport = Transport::bind(&ctx.net, ctx.addr).await?;
            Ok(client::KvClient::new(ctx.id, transport, ctx.nodes))
        })
    }

    fn history_op(&self, op: &KvOp) -> HistoryOp {
        let (f, key, value) = match *op {
            KvOp::Get(k) => (Function::Read, k, Value::Nil),
            KvOp::Put(k, v) => (Function::Write, k, Value::Str(format!("[{v}]"))),
            KvOp::Append(k, v) => (Function::Append, k, Value::Str(format!("[{v}]"))),
        };
        HistoryOp {
            f,
            key: Some(format!("k{key}")),
            value,
        }
    }

    fn simpler_ops(&self, op: &KvOp) -> Vec<KvOp> {
        match *op {
            KvOp::Get(k) if k > 0 => vec![KvOp::Get(0)],
            KvOp::Get(_) => vec![],
            KvOp::Put(k, v) | KvOp::Append(k, v) => {
                let mut simpler = vec![KvOp::Get(k)];
                if matches!(op, KvOp::Append(..)) {
                    simpler.push(KvOp::Put(k, v));
                }
                if k > 0 {
                    simpler.push(match op {
                        KvOp::Put(..) => KvOp::Put(0, v),
                        _ => KvOp::Append(0, v),
                    });
                }
                simpler
            }
        }
    }

    fn uniquify(&self, op: &mut KvOp, n: u32) {
        match op {
            KvOp::Put(_, v) | KvOp::Append(_, v) => *v = n,
            KvOp::Get(_) => {}
        }
    }

    fn is_read_only(&self, op: &KvOp) -> bool {
        matches!(op, KvOp::Get(_))
    }

    fn check_step(
        &self,
        checks: &mut Checks,
        observer: &observe::Observer,
        ctx: &mut StepContext<'_>,
    ) -> Result<(), Violation> {
        checks.safety.step(observer, ctx)?;
        checks.progress.step(observer, ctx)
    }

    fn liveness(&self, _checks: &Checks, observer: &observe::Observer) -> Liveness {
        observer.with_all(|nodes| {
            let up: Vec<_> = nodes
                .iter()
                .enumerate()
                .filter(|(_, v)| v.up)
                .filter_map(|(i, v)| v.metrics.as_ref().map(|m| (i, m.borrow_watched().clone())))
                .collect();
            let top = up.iter().map(|(_, m)| m.current_term).max().unwrap_or(0);
            let leader = up.iter().find(|(_, m)| {
                m.state == ServerState::Leader
                    && m.current_term == top
                    && m.local_committed.is_some_and(|c| c.leader_id.term == top)
            });
            match leader {
                Some(_) => Liveness::Live,
                None => Liveness::Waiting(format!(
                    "no leader that committed in the highest term {top}: {}",
                    up.iter()
                        .map(|(i, m)| format!("n{i} {:?} term {}", m.state, m.current_term))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            }
        })
    }

    fn liveness_probe(&self, client: u8) -> Option<KvOp> {
        (client == 0).then_some(KvOp::Append(0, 1_000_000))
    }

    fn history_model(&self) -> Option<HistoryModel> {
        Some(HistoryModel::Kv)
    }

    fn phase(&self, _checks: &Checks, observer: &observe::Observer) -> &'static str {
        observer.with_all(|nodes| {
            let leaders = nodes
                .iter()
                .filter(|v| v.up)
                .filter_map(|v| v.metrics.as_ref())
                .filter(|m| m.borrow_watched().state == ServerState::Leader)
                .count();
            match leaders {
                0 => "election",
                1 => "replicating",
                _ => "leader overlap",
            }
        })
    }

    fn abstract_state(&self, checks: &Checks, observer: &observe::Observer) -> u64 {
        // Roles, term lag behind the highest leader term (capped), whether each node's
        // commit lags: the shape of the cluster, not its numbers.
        observer.with_all(|nodes| {
            nodes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, v| {
                let (role, lag, behind) = match (&v.metrics, v.up) {
                    (Some(m), true) => {
                        let m = m.borrow_watched();
                        let role = match m.state {
                            ServerState::Leader => 1,
                            ServerState::Candidate => 2,
                            ServerState::Follower => 3,
                            _ => 4,
                        };
                        let lag = checks.safety.max_term.saturating_sub(m.current_term).min(3);
                        let behind = m.local_committed.map(|c| c.index) < m.last_log_index;
                        (role, lag, u64::from(behind))
                    }
                    _ => (0, 0, 0),
                };
                (h ^ (role | lag << 3 | behind << 5)).wrapping_mul(0x0100_0000_01b3)
            })
        })
    }
}
