//! The smallest useful system under squall: a single-copy register served by node `n0`.
//!
//! Node 0 holds the register and syncs each write to its disk before answering; every other
//! node is a passive backup that node 0 copies each write to. With `stale_reads` on, clients
//! read from any node — a planted bug that the linearizability check must catch.
//!
//! It is written the way an outside user would write one: only squall's public API.

use squall::check::Violation;
use squall::history::Value;
use squall::node::Transport;
use squall::systems::Property;
use squall::systems::{
    Client, ClientContext, Liveness, NodeContext, OpResult, StepContext, System,
};
pub use squall::workload::register::RegOp;
use squall::workload::register::Register as RegisterWorkload;
use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

/// The register's per-step property.
pub const BACKUP_FOLLOWS_PRIMARY: Property = Property::safety(
    "backup follows primary",
    "a backup holds a value only while the primary holds one",
);

/// What nodes publish: each node's current value.
pub type Observed = Rc<RefCell<Vec<Option<u8>>>>;

/// The register system.
#[derive(Clone, Copy, Default)]
pub struct Register {
    /// Planted bug: serve reads from any node's local copy.
    pub stale_reads: bool,
    /// Planted bug: trust the frame length, so garbage panics the node.
    pub panic_on_garbage: bool,
    /// Planted bug: never report recovery.
    pub never_live: bool,
}

fn decode(frame: &[u8]) -> Option<(u8, u8, u64)> {
    // kind, value, request id
    if frame.len() != 10 {
        return None;
    }
    let id = u64::from_le_bytes(frame[2..10].try_into().ok()?);
    Some((frame[0], frame[1], id))
}

fn encode(kind: u8, value: u8, id: u64) -> Vec<u8> {
    let mut f = vec![kind, value];
    f.extend_from_slice(&id.to_le_bytes());
    f
}

/// The bytes `RegOp`'s derived `Arbitrary` decodes `op` from: for `Scenario::to_bytes_with`.
#[allow(dead_code)] // Only the tests that encode scenarios as fuzzer input use it.
pub fn op_bytes(op: &RegOp) -> Option<Vec<u8>> {
    Some(match op {
        RegOp::Read => vec![0, 0, 0, 0],
        RegOp::Write(v) => vec![0xff, 0xff, 0xff, 0xff, *v],
    })
}

const READ: u8 = 1;
const WRITE: u8 = 2;
const COPY: u8 = 3;
const REPLY: u8 = 4;
const EMPTY: u8 = 5;

async fn node(ctx: NodeContext, observed: Observed, panic_on_garbage: bool) -> io::Result<()> {
    let me = usize::from(ctx.id);
    let transport = Transport::bind(&ctx.net, ctx.addr()).await?;
    let stored = ctx.disk.read("value");
    let mut value = stored.first().copied();
    observed.borrow_mut()[me] = value;
    let mut buf = vec![0u8; 2048];
    loop {
        let (len, from) = transport.recv(&mut buf).await?;
        let decoded = decode(&buf[..len]);
        assert!(
            !panic_on_garbage || decoded.is_some(),
            "undecodable frame of {len} bytes"
        );
        // Garbage is dropped, never trusted.
        let Some((kind, v, id)) = decoded else {
            continue;
        };
        match kind {
            WRITE if me == 0 => {
                value = Some(v);
                ctx.disk.replace("value", &[v]);
                ctx.disk.sync("value");
                observed.borrow_mut()[me] = value;
                for peer in &ctx.peers[1..] {
                    transport.send(*peer, &encode(COPY, v, 0)).await?;
                }
                transport.send(from, &encode(REPLY, v, id)).await?;
            }
            COPY => {
                value = Some(v);
                observed.borrow_mut()[me] = value;
            }
            READ => match value {
                Some(v) => transport.send(from, &encode(REPLY, v, id)).await?,
                None => transport.send(from, &encode(EMPTY, 0, id)).await?,
            },
            _ => {}
        }
    }
}

/// A client: one request at a time, retried every 100 ms until answered.
pub struct RegClient {
    transport: Transport,
    nodes: Vec<SocketAddr>,
    next_id: u64,
    stale_reads: bool,
}

impl Client<RegisterWorkload> for RegClient {
    async fn invoke(&mut self, op: &RegOp) -> OpResult {
        {
            self.next_id += 1;
            let id = self.next_id;
            let (frame, target) = match op {
                RegOp::Read if self.stale_reads => (
                    encode(READ, 0, id),
                    self.nodes[id as usize % self.nodes.len()],
                ),
                RegOp::Read => (encode(READ, 0, id), self.nodes[0]),
                RegOp::Write(v) => (encode(WRITE, *v, id), self.nodes[0]),
            };
            let mut buf = vec![0u8; 2048];
            loop {
                if self.transport.send(target, &frame).await.is_err() {
                    return OpResult::Unknown("send failed".into());
                }
                let answer = tokio::time::timeout(Duration::from_millis(100), async {
                    loop {
                        let Ok((len, _)) = self.transport.recv(&mut buf).await else {
                            return None;
                        };
                        match decode(&buf[..len]) {
                            Some((REPLY, v, rid)) if rid == id => {
                                return Some(Value::Int(v.into()))
                            }
                            Some((EMPTY, _, rid)) if rid == id => return Some(Value::Nil),
                            _ => continue,
                        }
                    }
                })
                .await;
                match (answer, op) {
                    (Ok(Some(_)), RegOp::Write(v)) => return OpResult::Ok(Value::Int((*v).into())),
                    (Ok(Some(v)), RegOp::Read) => return OpResult::Ok(v),
                    _ => continue,
                }
            }
        }
    }
}

impl System for Register {
    type Workload = RegisterWorkload;
    type Observer = Observed;
    type Checker = ();
    type Client = RegClient;

    fn name(&self) -> &'static str {
        "register"
    }

    fn observer(&self, nodes: u8) -> Observed {
        Rc::new(RefCell::new(vec![None; usize::from(nodes)]))
    }

    fn checker(&self, _nodes: u8) {}

    async fn start_node(&self, ctx: NodeContext, observer: Observed) -> io::Result<()> {
        node(ctx, observer, self.panic_on_garbage).await
    }

    async fn connect_client(&self, ctx: ClientContext) -> io::Result<RegClient> {
        let transport = Transport::bind(&ctx.net, ctx.addr).await?;
        Ok(RegClient {
            transport,
            nodes: ctx.nodes,
            next_id: 0,
            stale_reads: self.stale_reads,
        })
    }

    fn properties(&self) -> Vec<Property> {
        vec![BACKUP_FOLLOWS_PRIMARY]
    }

    fn check_step(
        &self,
        _: &mut (),
        observer: &Observed,
        _ctx: &mut StepContext<'_>,
    ) -> Result<(), Violation> {
        // Backups only ever hold a value the primary held at some point; with one writer
        // that means: a backup's value is never set while the primary's is unset.
        let values = observer.borrow();
        if values[0].is_none() {
            if let Some((i, v)) = values
                .iter()
                .enumerate()
                .skip(1)
                .find_map(|(i, v)| v.map(|v| (i, v)))
            {
                return Err(
                    BACKUP_FOLLOWS_PRIMARY.violated(format!("n{i} holds {v} but n0 holds nothing"))
                );
            }
        }
        Ok(())
    }

    fn liveness(&self, _: &(), _observer: &Observed) -> Liveness {
        if self.never_live {
            return Liveness::Waiting("the planted bug never recovers".into());
        }
        Liveness::Live
    }
}
