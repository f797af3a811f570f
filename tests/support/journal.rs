//! A small system that takes forged messages: a register on node 0, copied to the other nodes,
//! which also keep a journal on disk that peers ask them to reserve room in.
//!
//! It speaks one typed message (`JMsg`, deriving `Arbitrary`) and opts in to forgeries by
//! naming it. Its one property — a backup holds only values the primary held — is what a
//! forged `Set` breaks. Its planted bug, `unbounded_reserve`, trusts the length a `Reserve`
//! announces (an honest peer asks for one record at a time), so one forged message makes the
//! node zero-fill megabytes of journal: what the bounded-memory check must catch. Each node
//! records what it received and from whom, for the tests to inspect.
//!
//! Written with squall's public API only, as an outside user would.

use arbitrary::Arbitrary;
use serde::{Deserialize, Serialize};
use squall::check::Violation;
use squall::history::Value;
use squall::node::forge::node_id;
use squall::node::Forger;
use squall::node::{Received, Transport};
use squall::systems::Property;
use squall::systems::{Client, ClientContext, NodeContext, OpResult, StepContext, System};
pub use squall::workload::register::RegOp;
use squall::workload::register::Register as RegisterWorkload;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The journal's property.
pub const BACKUPS_FOLLOW: Property = Property::safety(
    "backups follow the primary",
    "a backup holds only values the primary has held",
);

/// Bytes per journal record.
pub const RECORD: usize = 512;
/// Most records a correct node reserves at once.
pub const MAX_RESERVE: u16 = 8;

/// Everything the journal's nodes and clients say.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Arbitrary)]
pub enum JMsg {
    /// Primary to backup: take this value.
    Set {
        /// Sender.
        #[arbitrary(with = node_id)]
        from: u8,
        /// The value.
        value: u8,
    },
    /// Primary to backup: make room for `records` journal records.
    Reserve {
        /// Sender.
        #[arbitrary(with = node_id)]
        from: u8,
        /// Records to reserve.
        records: u16,
    },
    /// Client to primary.
    Write {
        /// Request id.
        id: u64,
        /// The value.
        value: u8,
    },
    /// Client to primary.
    Read {
        /// Request id.
        id: u64,
    },
    /// Primary to client.
    Reply {
        /// Request id.
        id: u64,
        /// The value now.
        value: Option<u8>,
    },
}

/// What nodes publish: each node's value, and every value the primary held.
#[derive(Default)]
pub struct State {
    /// By node.
    pub values: Vec<Option<u8>>,
    /// Values node 0 has held.
    pub primary_held: BTreeSet<u8>,
}

/// The observer.
pub type Observed = Rc<RefCell<State>>;

/// One message a node received: (node, sender, message).
pub type Receipt = (u8, SocketAddr, JMsg);

/// The journal system.
#[derive(Clone, Default)]
pub struct Journal {
    /// Planted bug: reserve however many records a peer asks for.
    pub unbounded_reserve: bool,
    /// Claim byzantine tolerance (keep the property on under forgeries).
    pub claims_byzantine: bool,
    /// Every message any node received, in order.
    pub received: Arc<Mutex<Vec<Receipt>>>,
}

async fn node(ctx: NodeContext, observed: Observed, system: Journal) -> io::Result<()> {
    let me = ctx.id;
    let transport = Transport::bind(&ctx.net, ctx.addr()).await?;
    let mut buf = vec![0u8; 4096];
    loop {
        let (received, from) = transport.recv_msg::<JMsg>(&mut buf).await?;
        let Received::Message(msg) = received else {
            continue;
        };
        system
            .received
            .lock()
            .expect("not poisoned")
            .push((me, from, msg.clone()));
        match msg {
            JMsg::Write { id, value } if me == 0 => {
                {
                    let mut state = observed.borrow_mut();
                    state.values[0] = Some(value);
                    state.primary_held.insert(value);
                }
                for peer in &ctx.peers[1..] {
                    transport
                        .send_msg(
                            *peer,
                            &JMsg::Reserve {
                                from: 0,
                                records: 1,
                            },
                        )
                        .await?;
                    transport
                        .send_msg(*peer, &JMsg::Set { from: 0, value })
                        .await?;
                }
                let reply = JMsg::Reply {
                    id,
                    value: Some(value),
                };
                transport.send_msg(from, &reply).await?;
            }
            JMsg::Read { id } if me == 0 => {
                let value = observed.borrow().values[0];
                transport.send_msg(from, &JMsg::Reply { id, value }).await?;
            }
            JMsg::Set { from: 0, value } if me != 0 => {
                observed.borrow_mut().values[usize::from(me)] = Some(value);
            }
            JMsg::Reserve { from: 0, records }
                if me != 0 && (system.unbounded_reserve || records <= MAX_RESERVE) =>
            {
                ctx.disk
                    .append("journal", &vec![0; usize::from(records) * RECORD]);
            }
            _ => {}
        }
    }
}

/// A client: one request at a time to node 0, retried until answered.
pub struct JournalClient {
    transport: Transport,
    primary: SocketAddr,
    next_id: u64,
}

impl Client<RegisterWorkload> for JournalClient {
    async fn invoke(&mut self, op: &RegOp) -> OpResult {
        self.next_id += 1;
        let id = self.next_id;
        let request = match op {
            RegOp::Read => JMsg::Read { id },
            RegOp::Write(value) => JMsg::Write { id, value: *value },
        };
        let answer = |reply: JMsg, _| match reply {
            JMsg::Reply { id: rid, value } if rid == id => Some(value),
            _ => None,
        };
        match self
            .transport
            .request(self.primary, &request, Duration::from_millis(100), answer)
            .await
        {
            Ok(Some(v)) => OpResult::Ok(Value::Int(v.into())),
            Ok(None) => OpResult::Ok(Value::Nil),
            Err(e) => OpResult::Unknown(e.to_string()),
        }
    }
}

impl System for Journal {
    type Workload = RegisterWorkload;
    type Observer = Observed;
    type Checker = ();
    type Client = JournalClient;

    fn name(&self) -> &'static str {
        "journal"
    }

    fn observer(&self, nodes: u8) -> Observed {
        Rc::new(RefCell::new(State {
            values: vec![None; usize::from(nodes)],
            ..State::default()
        }))
    }

    fn checker(&self, _nodes: u8) {}

    async fn start_node(&self, ctx: NodeContext, observer: Observed) -> io::Result<()> {
        node(ctx, observer, self.clone()).await
    }

    async fn connect_client(&self, ctx: ClientContext) -> io::Result<JournalClient> {
        let transport = Transport::bind(&ctx.net, ctx.addr).await?;
        Ok(JournalClient {
            transport,
            primary: ctx.nodes[0],
            next_id: 0,
        })
    }

    fn properties(&self) -> Vec<Property> {
        vec![BACKUPS_FOLLOW]
    }

    fn check_step(
        &self,
        _: &mut (),
        observer: &Observed,
        _ctx: &mut StepContext<'_>,
    ) -> Result<(), Violation> {
        let state = observer.borrow();
        for (i, v) in state.values.iter().enumerate().skip(1) {
            if let Some(v) = v {
                if !state.primary_held.contains(v) {
                    return Err(
                        BACKUPS_FOLLOW.violated(format!("n{i} holds {v}, which n0 never held"))
                    );
                }
            }
        }
        Ok(())
    }

    fn forger(&self) -> Option<Forger> {
        Some(Forger::of::<JMsg>())
    }

    fn byzantine_tolerant(&self) -> bool {
        self.claims_byzantine
    }
}
