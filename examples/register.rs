//! The smallest complete system under squall: a primary-backup register. `n0` holds the
//! value (synced to disk before it answers) and copies every write to the backups; clients
//! read from `n0`. The planted bug `stale-reads` reads from any node.
//!
//! `cargo run --release --example register -- chaos register --time 10s`
use serde::{Deserialize, Serialize};
use squall::check::Violation;
use squall::history::Value;
use squall::mutants::MutantInfo;
use squall::node::{NodeContext, Transport};
use squall::systems::{Client, ClientContext, OpResult, StepContext, System};
use squall::workload::register::{RegOp, Register as Workload};
use std::{cell::RefCell, future::Future, io, net::SocketAddr, rc::Rc, time::Duration};

#[derive(Serialize, Deserialize)]
enum Msg {
    Request(u64, RegOp),
    Copy(u8),
    Reply(u64, Option<u8>),
}

/// Each node's value, published for the per-step check.
type Values = Rc<RefCell<Vec<Option<u8>>>>;

async fn node(ctx: NodeContext, values: Values) -> io::Result<()> {
    let (me, t) = (
        usize::from(ctx.id),
        Transport::bind(&ctx.net, ctx.addr()).await?,
    );
    let mut value = ctx.disk.read("value").first().copied();
    values.borrow_mut()[me] = value;
    let mut buf = vec![0; 2048];
    loop {
        match t.next_msg(&mut buf).await? {
            (Msg::Request(id, RegOp::Write(v)), from) if me == 0 => {
                (value, values.borrow_mut()[me]) = (Some(v), Some(v));
                ctx.disk.replace("value", &[v]);
                ctx.disk.sync("value");
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

/// A client: one request at a time, retried every 100 ms until answered.
pub struct RegClient(Transport, Vec<SocketAddr>, u64, bool);

impl Client<Workload> for RegClient {
    async fn invoke(&mut self, op: &RegOp) -> OpResult {
        self.2 += 1;
        let (id, stale) = (self.2, self.3 && *op == RegOp::Read);
        let to = self.1[if stale { id as usize % self.1.len() } else { 0 }];
        let mut buf = vec![0; 2048];
        loop {
            if self.0.send_msg(to, &Msg::Request(id, *op)).await.is_err() {
                return OpResult::Unknown("send failed".into());
            }
            let answer = tokio::time::timeout(Duration::from_millis(100), async {
                loop {
                    match self.0.next_msg(&mut buf).await {
                        Ok((Msg::Reply(rid, v), _)) if rid == id => return Some(v),
                        Ok(_) => continue,
                        Err(_) => return None,
                    }
                }
            });
            if let Ok(Some(v)) = answer.await {
                return OpResult::Ok(v.map_or(Value::Nil, |v| Value::Int(v.into())));
            }
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
    fn start_node(
        &self,
        ctx: NodeContext,
        v: Values,
    ) -> impl Future<Output = io::Result<()>> + 'static {
        node(ctx, v)
    }
    fn connect_client(
        &self,
        ctx: ClientContext,
    ) -> impl Future<Output = io::Result<RegClient>> + 'static {
        let stale = self.stale_reads;
        async move {
            let t = Transport::bind(&ctx.net, ctx.addr).await?;
            Ok(RegClient(t, ctx.nodes, 0, stale))
        }
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
    fn with_mutant(&self, name: &str) -> Result<Self, String> {
        (name == "stale-reads")
            .then_some(Register { stale_reads: true })
            .ok_or(format!("no bug `{name}`"))
    }
}

squall::main!(Register::default());
