//! Typed request/response calls over the [`Transport`]: what a node that asks its peers and
//! answers them needs (Raft's AppendEntries and votes, 2PC's prepare and decide, a saga's
//! steps, Dynamo's replica reads and writes), written once.
//!
//! A datagram transport loses, duplicates, delays and reorders frames (that is what squall
//! tests with), so a call cannot just send and read the next frame. [`Rpc`] gives every
//! request an id, sends it as one frame, and waits for the response carrying that id until a
//! deadline; one receive loop ([`Rpc::serve`]) hands each response to the call waiting for
//! it and each request to the node's handler, which answers through a [`Reply`]. What the
//! network does wrong is dropped there: a response whose call has given up (late) or has
//! already been answered (duplicated) finds no waiter; a frame that is not an intact
//! envelope (garbage, corruption) is skipped by [`Transport::next_msg`]. A call that gets no
//! answer fails with [`CallError::TimedOut`]; retrying is the caller's business, since only
//! the protocol knows whether resending is safe.
//!
//! Ids are unique per node *incarnation*: they start at `incarnation << 40`, so an answer to
//! a call of an earlier incarnation (still in flight after a restart, or delayed for seconds)
//! never matches a call of this one.
//!
//! Hosts are single-threaded, so the endpoint is an `Rc` handle: clone it into every task
//! that calls, concurrently. The receive loop must run for calls to complete — a node awaits
//! [`Rpc::serve`] as its main loop; a process that only calls (a client) uses
//! [`Rpc::caller`]. The handler is a plain closure, so the node decides how a request is
//! served: in a task of its own (through its runtime's spawn, if it has one), or queued to a
//! single state-machine task that answers later; a handler that calls peers before it answers
//! (a 2PC coordinator) does so from such a task, never from the closure itself.

use super::net::{Transport, MAX_FRAME};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::io;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;
use tokio::sync::oneshot;

/// What one frame holds: a request with the id its caller chose, or the answer to one.
#[derive(Serialize, Deserialize)]
enum Envelope<Q, A> {
    Request { id: u64, body: Q },
    Response { id: u64, body: A },
}

/// Why a call got no answer.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// No response arrived before the deadline (lost, cut off, or the peer is slow or down).
    #[error("no response before the deadline")]
    TimedOut,
    /// The request could not be sent (the socket failed, or the frame is too large).
    #[error("send failed: {0}")]
    Send(io::Error),
}

/// A node's request/response endpoint, requests of type `Q` answered with an `A`; cloning
/// gives another handle to it.
pub struct Rpc<Q, A> {
    inner: Rc<Inner<A>>,
    request: PhantomData<fn(Q)>,
}

struct Inner<A> {
    transport: Transport,
    last_id: Cell<u64>,
    /// The calls waiting for an answer, by request id (ordered, never iterated by hash).
    waiting: RefCell<BTreeMap<u64, oneshot::Sender<A>>>,
}

impl<Q, A> Clone for Rpc<Q, A> {
    fn clone(&self) -> Self {
        Rpc {
            inner: self.inner.clone(),
            request: PhantomData,
        }
    }
}

/// How to answer one request; answering consumes it, so a request is answered at most once.
/// Dropping it unanswered leaves the caller to time out.
pub struct Reply<A> {
    inner: Rc<Inner<A>>,
    to: SocketAddr,
    id: u64,
}

impl<A: Serialize> Reply<A> {
    /// Who asked.
    pub fn from(&self) -> SocketAddr {
        self.to
    }

    /// Sends the answer. An error is the transport's; a lost answer is a lost datagram, which
    /// the caller sees as a timeout.
    pub async fn send(self, answer: &A) -> io::Result<()> {
        let envelope = Envelope::<(), &A>::Response {
            id: self.id,
            body: answer,
        };
        self.inner.transport.send_msg(self.to, &envelope).await
    }
}

/// Removes a call's waiter however the call ends, also when its future is dropped (squall
/// cancels a client operation at its deadline), so the map holds only live calls.
struct Waiting<'a, A>(&'a RefCell<BTreeMap<u64, oneshot::Sender<A>>>, u64);

impl<A> Drop for Waiting<'_, A> {
    fn drop(&mut self) {
        self.0.borrow_mut().remove(&self.1);
    }
}

impl<Q, A> Rpc<Q, A>
where
    Q: Serialize + DeserializeOwned + 'static,
    A: Serialize + DeserializeOwned + 'static,
{
    /// An endpoint on a bound transport, for incarnation `incarnation` of its node
    /// ([`NodeContext::incarnation`](super::NodeContext::incarnation)). Nothing is received
    /// until [`Rpc::serve`] runs.
    pub fn new(transport: Transport, incarnation: u32) -> Self {
        Rpc {
            inner: Rc::new(Inner {
                transport,
                last_id: Cell::new(u64::from(incarnation) << 40),
                waiting: RefCell::default(),
            }),
            request: PhantomData,
        }
    }

    /// An endpoint for a process that only calls (a client): its receive loop runs in a task
    /// of the current host (`spawn_local`, so call it from within a host), dropping any
    /// request sent to it. If the socket fails, the loop ends and calls time out.
    pub fn caller(transport: Transport) -> Self {
        let rpc = Rpc::new(transport, 0);
        let receiver = rpc.clone();
        tokio::task::spawn_local(async move { receiver.serve(|_, _| {}).await });
        rpc
    }

    /// Sends `request` to `to` and waits up to `deadline` for its answer. Other tasks may
    /// call at the same time; each gets its own answer.
    pub async fn call(
        &self,
        to: SocketAddr,
        request: &Q,
        deadline: Duration,
    ) -> Result<A, CallError> {
        let id = self.inner.last_id.get() + 1;
        self.inner.last_id.set(id);
        let (tx, rx) = oneshot::channel();
        self.inner.waiting.borrow_mut().insert(id, tx);
        let _waiting = Waiting(&self.inner.waiting, id);
        let envelope = Envelope::<&Q, ()>::Request { id, body: request };
        (self.inner.transport.send_msg(to, &envelope).await).map_err(CallError::Send)?;
        match tokio::time::timeout(deadline, rx).await {
            Ok(Ok(answer)) => Ok(answer),
            _ => Err(CallError::TimedOut),
        }
    }

    /// The receive loop; runs until the socket fails. Each response goes to the call waiting
    /// for it, if one still does; each request goes to `handle` with the [`Reply`] that
    /// answers it. `handle` must not block: to serve a request that takes time, it spawns a
    /// task or queues the request. Run one loop per endpoint (two would split its frames).
    pub async fn serve(&self, mut handle: impl FnMut(Q, Reply<A>)) -> io::Result<()> {
        let mut buf = vec![0; MAX_FRAME];
        loop {
            match self.inner.transport.next_msg(&mut buf).await? {
                (Envelope::Response { id, body }, _) => {
                    let waiter = self.inner.waiting.borrow_mut().remove(&id);
                    if let Some(tx) = waiter {
                        // The call may have given up since; then the answer is dropped.
                        let _ = tx.send(body);
                    }
                }
                (Envelope::Request { id, body }, to) => {
                    let inner = self.inner.clone();
                    handle(body, Reply { inner, to, id });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::net::{Net, NetFaults};

    /// A simulation whose hosts share one fault state (`duplicate_percent` applies to every
    /// frame); fixed latency keeps frames in order.
    fn sim(duplicate_percent: u8) -> (turmoil::Sim<'static>, Net) {
        let sim = turmoil::Builder::new()
            .min_message_latency(Duration::from_millis(1))
            .max_message_latency(Duration::from_millis(1))
            .build();
        let mut faults = NetFaults::new(Vec::new(), 1);
        faults.duplicate_percent = duplicate_percent;
        (sim, Net::Sim(Rc::new(RefCell::new(faults))))
    }

    fn addr(host: &str) -> SocketAddr {
        SocketAddr::new(turmoil::lookup(host), 7000)
    }

    async fn bind(net: &Net, host: &str) -> io::Result<Transport> {
        Transport::bind(net, addr(host)).await
    }

    /// A server that answers `n` with `n * 10`, after `n` ms.
    fn serve_times_ten(sim: &mut turmoil::Sim<'static>, net: &Net, host: &str) {
        let (net, name) = (net.clone(), host.to_string());
        sim.host(host, move || {
            let (net, name) = (net.clone(), name.clone());
            async move {
                let rpc = Rpc::<u64, u64>::new(bind(&net, &name).await?, 0);
                rpc.serve(|n, reply| {
                    tokio::task::spawn_local(async move {
                        tokio::time::sleep(Duration::from_millis(n)).await;
                        reply.send(&(n * 10)).await
                    });
                })
                .await?;
                Ok(())
            }
        });
    }

    #[test]
    fn concurrent_calls_each_get_their_own_answer_from_a_node_that_also_calls() -> turmoil::Result {
        let (mut sim, net) = sim(0);
        serve_times_ten(&mut sim, &net, "backend");
        // A node that serves by calling its peer first, as a 2PC coordinator does.
        let front_net = net.clone();
        sim.host("front", move || {
            let net = front_net.clone();
            async move {
                let rpc = Rpc::<u64, u64>::new(bind(&net, "front").await?, 0);
                let peer = rpc.clone();
                rpc.serve(move |n, reply| {
                    let peer = peer.clone();
                    tokio::task::spawn_local(async move {
                        let deadline = Duration::from_secs(1);
                        let answer = peer.call(addr("backend"), &n, deadline).await;
                        reply.send(&(answer.expect("backend answers") + 1)).await
                    });
                })
                .await?;
                Ok(())
            }
        });
        sim.client("client", async move {
            let rpc = Rpc::<u64, u64>::caller(bind(&net, "client").await?);
            let deadline = Duration::from_secs(1);
            // The slow call is sent first and answered last; each call gets its own answer.
            let slow = tokio::task::spawn_local({
                let rpc = rpc.clone();
                async move { rpc.call(addr("front"), &30, deadline).await }
            });
            tokio::task::yield_now().await;
            let fast = rpc.call(addr("front"), &2, deadline).await?;
            assert_eq!(fast, 21);
            assert_eq!(slow.await??, 301);
            assert!(rpc.inner.waiting.borrow().is_empty());
            Ok(())
        });
        sim.run()
    }

    #[test]
    fn late_and_duplicated_answers_are_dropped() -> turmoil::Result {
        // Every frame is sent twice: each request is served twice, each answer arrives twice.
        let (mut sim, net) = sim(100);
        serve_times_ten(&mut sim, &net, "server");
        sim.client("client", async move {
            let rpc = Rpc::<u64, u64>::caller(bind(&net, "client").await?);
            let to = addr("server");
            // Answered after 50 ms: too late for a 20 ms deadline.
            let late = rpc.call(to, &50, Duration::from_millis(20)).await;
            assert!(matches!(late, Err(CallError::TimedOut)), "{late:?}");
            // The late answers (500, four copies) arrive while this call waits: not its own.
            assert_eq!(rpc.call(to, &40, Duration::from_secs(1)).await?, 400);
            // The other copies of 400 arrived too: dropped, not taken for this call's answer.
            assert_eq!(rpc.call(to, &1, Duration::from_secs(1)).await?, 10);
            tokio::time::sleep(Duration::from_millis(100)).await;
            assert!(rpc.inner.waiting.borrow().is_empty());
            Ok(())
        });
        sim.run()
    }

    #[test]
    fn a_call_to_a_cut_off_peer_times_out_at_its_deadline() -> turmoil::Result {
        let (mut sim, net) = sim(0);
        serve_times_ten(&mut sim, &net, "server");
        sim.client("client", async move {
            let rpc = Rpc::<u64, u64>::caller(bind(&net, "client").await?);
            turmoil::partition("client", "server");
            let start = tokio::time::Instant::now();
            let cut = rpc
                .call(addr("server"), &1, Duration::from_millis(200))
                .await;
            assert!(matches!(cut, Err(CallError::TimedOut)), "{cut:?}");
            let waited = start.elapsed();
            assert!(waited >= Duration::from_millis(200), "{waited:?}");
            assert!(waited < Duration::from_millis(210), "{waited:?}");
            turmoil::repair("client", "server");
            assert_eq!(
                rpc.call(addr("server"), &1, Duration::from_secs(1)).await?,
                10
            );
            Ok(())
        });
        sim.run()
    }

    #[test]
    fn garbage_frames_are_ignored_by_server_and_caller() -> turmoil::Result {
        let (mut sim, net) = sim(0);
        serve_times_ten(&mut sim, &net, "server");
        let noise_net = net.clone();
        sim.client("noise", async move {
            let noise = bind(&noise_net, "noise").await?;
            for to in [addr("server"), addr("client")] {
                noise.send(to, b"garbage").await?;
                noise.send(to, &[1, 0x5a, 0xc3, 7, 7, 7, 7, 7]).await?;
                // An intact frame, but not an envelope of these types.
                noise.send_msg(to, &"hello".to_string()).await?;
            }
            Ok(())
        });
        sim.client("client", async move {
            let rpc = Rpc::<u64, u64>::caller(bind(&net, "client").await?);
            // Let the garbage arrive first.
            tokio::time::sleep(Duration::from_millis(10)).await;
            assert_eq!(
                rpc.call(addr("server"), &3, Duration::from_secs(1)).await?,
                30
            );
            Ok(())
        });
        sim.run()
    }
}
