//! The smallest complete system under squall: a primary-backup register. `n0` holds the
//! value (synced to disk before it answers) and copies every write to the backups; clients
//! read from `n0`. The planted bug `stale-reads` reads from any node.
//!
//! `cargo run --release --example register -- chaos register --time 10s`
use serde::{Deserialize, Serialize};
use squall::prelude::*;
use squall::workload::register::{RegOp, Register as Workload};
use std::{cell::RefCell, collections::BTreeMap, io, net::SocketAddr, rc::Rc, time::Duration};

#[derive(Serialize, Deserialize)]
enum Msg {
    Request(u64, RegOp),
    Copy(u8),
    Reply(u64, Option<u8>),
}

/// Each node's value, published for the per-step check.
type Values = Rc<RefCell<Vec<Option<u8>>>>;

/// A client: one request at a time, retried every 100 ms until answered.
pub struct RegClient(Transport, Vec<SocketAddr>, u64, bool);

impl Client<Workload> for RegClient {
    async fn invoke(&mut self, op: &RegOp) -> OpResult {
        self.2 += 1;
        let (id, stale) = (self.2, self.3 && *op == RegOp::Read);
        let to = self.1[if stale { id as usize % self.1.len() } else { 0 }];
        let (t, msg) = (&self.0, Msg::Request(id, *op));
        let reply = t.request(to, &msg, Duration::from_millis(100), |m, _| match m {
            Msg::Reply(rid, v) if rid == id => Some(v),
            _ => None,
        });
        match reply.await {
            Ok(v) => OpResult::Ok(v.map_or(Value::Nil, |v| Value::Int(v.into()))),
            Err(e) => OpResult::Unknown(e.to_string()),
        }
    }
}

/// The register system; `stale_reads` is the planted bug.
#[derive(Clone, Copy, Default)]
pub struct Register {
    /// The planted bug.
    pub stale_reads: bool,
}

impl System for Register {
    type Workload = Workload;
    type Observer = Values;
    type Checker = ();
    type Client = RegClient;

    fn name(&self) -> &'static str {
        "register"
    }
    fn observer(&self, nodes: u8) -> Values {
        Rc::new(RefCell::new(vec![None; usize::from(nodes)]))
    }
    fn checker(&self, _nodes: u8) {}
    /// A node: `n0` applies writes and copies them to the backups; every node answers reads.
    async fn start_node(&self, ctx: NodeContext, values: Values) -> io::Result<()> {
        let t = Transport::bind(&ctx.net, ctx.addr()).await?;
        let me = usize::from(ctx.id);
        // The value, and each client's last applied request (a retry or duplicate of it, or
        // of an older one, must not apply again), synced together.
        let (mut value, mut applied): (Option<u8>, BTreeMap<SocketAddr, u64>) =
            postcard::from_bytes(&ctx.disk.read("value")).unwrap_or_default();
        values.borrow_mut()[me] = value;
        let mut buf = vec![0; 2048];
        loop {
            match t.next_msg(&mut buf).await? {
                (Msg::Request(id, RegOp::Write(v)), from) if me == 0 => {
                    if applied.get(&from) < Some(&id) {
                        (value, values.borrow_mut()[me]) = (Some(v), Some(v));
                        applied.insert(from, id);
                        let state = postcard::to_stdvec(&(value, &applied)).unwrap_or_default();
                        ctx.disk.replace("value", &state);
                        ctx.disk.sync("value");
                    }
                    for peer in &ctx.peers[1..] {
                        t.send_msg(*peer, &Msg::Copy(v)).await?;
                    }
                    t.send_msg(from, &Msg::Reply(id, value)).await?;
                }
                (Msg::Request(id, RegOp::Read), from) => {
                    t.send_msg(from, &Msg::Reply(id, value)).await?
                }
                (Msg::Copy(v), _) => (value, values.borrow_mut()[me]) = (Some(v), Some(v)),
                _ => {}
            }
        }
    }
    async fn connect_client(&self, ctx: ClientContext) -> io::Result<RegClient> {
        let t = Transport::bind(&ctx.net, ctx.addr).await?;
        Ok(RegClient(t, ctx.nodes, 0, self.stale_reads))
    }
    fn check_step(&self, _: &mut (), v: &Values, _: &mut StepContext) -> Result<(), Violation> {
        match v.borrow().iter().skip(1).position(Option::is_some) {
            Some(i) if v.borrow()[0].is_none() => Err(Violation::new(
                "backups follow the primary",
                format!("n{} holds a value n0 never held", i + 1),
            )),
            _ => Ok(()),
        }
    }
    fn mutants(&self) -> Vec<MutantInfo> {
        vec![MutantInfo::new(
            "stale-reads",
            "reads served by any node",
            "linearizability",
        )]
    }
    fn with_mutant(&self, _: &str) -> Self {
        Register { stale_reads: true }
    }
}

squall::main!(Register::default());
