//! One node of the saga store: the orchestrator on node 0, and the participant services
//! placed on it. A sans-IO core ([`Node`]: messages and timer ticks in, messages out through
//! its outbox) and the run loop that drives it over a [`Transport`].

use super::messages::{Message, RECEIVE_BUFFER};
use super::mutants::Mutant;
use super::observer::Observer;
use super::orchestrator::Orchestrator;
use super::participant::Participant;
use crate::node::net::{Received, Transport};
use crate::systems::NodeContext;
use crate::workload::orders::Service;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::time::Instant;

/// The orchestrator's node.
pub const ORCHESTRATOR: u8 = 0;

/// The node hosting `service` in a cluster of `nodes`: services go round the nodes after the
/// orchestrator's (stock n1, payment n2, shipping n3; with three nodes shipping shares n1),
/// so every step crosses the network.
pub fn service_node(service: Service, nodes: u8) -> u8 {
    1 + service.step() % nodes.saturating_sub(1).max(1)
}

/// One node.
pub struct Node {
    orchestrator: Option<Orchestrator>,
    services: Vec<Participant>,
    /// Messages to send once the current event is handled.
    pub outbox: Vec<(SocketAddr, Message)>,
}

impl Node {
    /// Recovers a node from its disk (the orchestrator resumes its unfinished sagas).
    pub fn new(
        ctx: &NodeContext,
        observer: Observer,
        mutant: Option<Mutant>,
        now: Instant,
    ) -> Node {
        let nodes = ctx.peers.len() as u8;
        observer.update(|r| {
            if let Some(up) = r.up.get_mut(usize::from(ctx.id)) {
                *up = true;
            }
        });
        let services = Service::ALL
            .into_iter()
            .filter(|s| service_node(*s, nodes) == ctx.id)
            .map(|s| Participant::new(s, ctx.disk.clone(), observer.clone(), mutant))
            .collect();
        let mut outbox = Vec::new();
        let orchestrator = (ctx.id == ORCHESTRATOR).then(|| {
            Orchestrator::new(
                ctx.peers.clone(),
                ctx.disk.clone(),
                observer,
                mutant,
                now,
                &mut outbox,
            )
        });
        Node {
            orchestrator,
            services,
            outbox,
        }
    }

    fn service(&mut self, step: u8) -> Option<&mut Participant> {
        let service = Service::of_step(step)?;
        self.services.iter_mut().find(|p| p.service() == service)
    }

    /// The next time the node has something to do without a message.
    pub fn next_deadline(&self, now: Instant) -> Instant {
        self.orchestrator
            .as_ref()
            .and_then(Orchestrator::next_deadline)
            .unwrap_or(now + Duration::from_secs(3600))
    }

    /// Handles one received frame.
    pub fn on_received(&mut self, received: Received<Message>, from: SocketAddr, now: Instant) {
        // Garbage and corrupted frames are dropped by the transport's checksum.
        let Received::Message(msg) = received else {
            return;
        };
        let mut out = std::mem::take(&mut self.outbox);
        match msg {
            Message::Begin { saga, order } => {
                if let Some(o) = &mut self.orchestrator {
                    o.on_begin(saga, order, from, now, &mut out);
                }
            }
            Message::Quiet { attempt } => {
                if let Some(o) = &self.orchestrator {
                    o.on_quiet(attempt, from, &mut out);
                }
            }
            Message::ForwardReply {
                saga,
                step,
                applied,
            } => {
                if let Some(o) = &mut self.orchestrator {
                    o.on_forward_reply(saga, step, applied, now, &mut out);
                }
            }
            Message::CompensateReply { saga, step } => {
                if let Some(o) = &mut self.orchestrator {
                    o.on_compensate_reply(saga, step, now, &mut out);
                }
            }
            Message::Forward { saga, step, delta } => {
                if let Some(applied) = self.service(step).and_then(|p| p.on_forward(saga, delta)) {
                    out.push((
                        from,
                        Message::ForwardReply {
                            saga,
                            step,
                            applied,
                        },
                    ));
                }
            }
            Message::Compensate { saga, step, delta } => {
                if self
                    .service(step)
                    .is_some_and(|p| p.on_compensate(saga, delta))
                {
                    out.push((from, Message::CompensateReply { saga, step }));
                }
            }
            Message::Read {
                step,
                keys,
                attempt,
            } => {
                if let Some(p) = self.service(step) {
                    let (values, standing) = p.read(&keys);
                    out.push((
                        from,
                        Message::ReadReply {
                            step,
                            attempt,
                            values,
                            standing,
                        },
                    ));
                }
            }
            Message::Outcome { .. } | Message::QuietReply { .. } | Message::ReadReply { .. } => {}
        }
        self.outbox = out;
    }

    /// Handles the orchestrator's retries and timeouts.
    pub fn on_timer(&mut self, now: Instant) {
        if let Some(o) = &mut self.orchestrator {
            o.on_timer(now, &mut self.outbox);
        }
    }
}

/// Marks the node down in the registry when its future is dropped (crash).
struct UpGuard(Observer, u8);

impl Drop for UpGuard {
    fn drop(&mut self) {
        self.0.down(self.1);
    }
}

/// Runs one incarnation of a node until it is crashed (the future is dropped).
pub async fn run(ctx: NodeContext, observer: Observer, mutant: Option<Mutant>) -> io::Result<()> {
    let transport = Transport::bind(&ctx.net, ctx.addr()).await?;
    let _up = UpGuard(observer.clone(), ctx.id);
    let mut node = Node::new(&ctx, observer, mutant, Instant::now());
    let mut buf = vec![0u8; RECEIVE_BUFFER];
    loop {
        for (to, msg) in node.outbox.drain(..) {
            // Datagrams are best effort; every message is resent or answered again.
            let _ = transport.send_msg(to, &msg).await;
        }
        let deadline = node.next_deadline(Instant::now());
        tokio::select! {
            biased;
            received = transport.recv_msg(&mut buf) => match received {
                Ok((received, from)) => node.on_received(received, from, Instant::now()),
                Err(_) => tokio::time::sleep(Duration::from_millis(1)).await,
            },
            () = tokio::time::sleep_until(deadline) => node.on_timer(Instant::now()),
        }
    }
}
