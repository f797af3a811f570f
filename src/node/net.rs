//! squall's message transport: datagrams over turmoil UDP (or real UDP), one frame per message.
//!
//! turmoil cannot duplicate or drop individual messages (TURMOIL.md §9), so the faults it
//! lacks live here, in the sender: each frame may be lost, sent twice or held back for a
//! while (sent later by a task of the sending host), decided by the harness's seeded RNG.
//! Partitions themselves are turmoil's; the transport only counts the frames a cut link
//! swallows, so that a run can show its faults took effect.
//!
//! The same [`Transport`] runs on real sockets ([`Net::Real`]), where it applies no faults.
//!
//! Systems exchange typed messages: [`Transport::send_msg`] serializes any `serde` type into
//! one checksummed frame ([`super::frame`]) and [`Transport::recv_msg`] decodes it back,
//! handing a frame that fails its checksum or does not decode to the node as
//! [`Received::Rejected`], never as a message, so that no system writes framing and every
//! system survives garbage ([`Transport::next_msg`] skips such frames for a system that
//! need not count them). The raw [`Transport::send`] and [`Transport::recv`] carry frames
//! a system frames itself.
//!
//! Forged messages ([`super::forge`]) arrive from the harness's address in an envelope naming
//! the peer they impersonate; [`Transport::recv`] opens it and reports that peer as the sender.

use super::forge;
use super::frame::{self, FrameError};
use super::points::Points;
use crate::report::{Effects, Recorder};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::cell::{Cell, RefCell};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

/// Largest frame the transport carries (a UDP datagram's payload limit).
pub const MAX_FRAME: usize = 65_507;

/// Which network a transport binds on.
#[derive(Clone)]
pub enum Net {
    /// turmoil's simulated UDP, with squall's message faults.
    Sim(Rc<RefCell<NetFaults>>),
    /// The operating system's UDP (outside the simulator).
    Real,
}

/// The message-fault state the harness sets and every sim transport consults when sending.
pub struct NetFaults {
    /// Probability in percent that a frame is lost.
    pub loss_percent: u8,
    /// Probability in percent that a frame is sent twice.
    pub duplicate_percent: u8,
    /// Probability in percent that a frame is held back by the sender for a random time.
    pub delay_percent: u8,
    /// Probability in percent that a frame put on the wire has one bit flipped.
    pub corrupt_percent: u8,
    /// What corruption did and whether any corrupted frame was accepted
    /// ([`super::corrupt`]).
    pub corruption: super::corrupt::Corruption,
    /// Endpoints by IP; `cut[from * n + to]` says turmoil drops frames from→to.
    hosts: Vec<IpAddr>,
    cut: Vec<bool>,
    rng: Xoshiro256PlusPlus,
    /// What the faults did.
    pub effects: Effects,
    /// The address the harness sends garbage and forged messages from: a datagram from it is
    /// opened as a forgery if it is one ([`super::forge::open`]). Read by transports when they
    /// bind.
    pub harness: Option<SocketAddr>,
    /// Records every frame for the HTML report, when the run asks for one; `None` (chaos,
    /// fuzzing) costs each send and receive one check. Read by transports when they bind.
    pub recorder: Option<Rc<RefCell<Recorder>>>,
    /// Clients that live beside nodes, if the scenario pins them.
    pinned: Option<PinnedClients>,
}

/// Where pinned clients live ([`crate::scenario::Scenario::clients_pinned`]): their host,
/// the port of client 0 (client `k` uses the `k`-th port after it), and each client's node.
struct PinnedClients {
    ip: IpAddr,
    first_port: u16,
    homes: Vec<usize>,
}

/// What becomes of one frame ([`NetFaults::fate`]).
struct Fate {
    /// Copies put on the wire: 0 (lost), 1 or 2 (duplicated).
    copies: usize,
    /// How long the sender holds them back.
    delay: Option<Duration>,
    /// Whether a bit is flipped in it.
    corrupt: bool,
    /// Whether its link is cut (turmoil drops it).
    cut: bool,
}

impl NetFaults {
    /// Fault state for these endpoints (nodes, then clients), with a seeded RNG.
    pub fn new(hosts: Vec<IpAddr>, seed: u64) -> Self {
        let n = hosts.len();
        NetFaults {
            loss_percent: 0,
            duplicate_percent: 0,
            delay_percent: 0,
            corrupt_percent: 0,
            corruption: Default::default(),
            hosts,
            cut: vec![false; n * n],
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
            effects: Effects::default(),
            harness: None,
            recorder: None,
            pinned: None,
        }
    }

    /// Pins client `k` (at `ip`, port `first_port + k`) beside node `homes[k]`: from now on a
    /// frame between the client and a node is dropped when the link between its node and
    /// that node is cut, as if the client ran on its node's machine.
    pub fn pin_clients(&mut self, ip: IpAddr, first_port: u16, homes: Vec<usize>) {
        self.pinned = Some(PinnedClients {
            ip,
            first_port,
            homes,
        });
    }

    /// Whether a frame between a pinned client and a node crosses a cut link.
    fn cut_for_pinned(&self, from: SocketAddr, to: SocketAddr) -> bool {
        let Some(p) = &self.pinned else {
            return false;
        };
        let home = |a: SocketAddr| {
            if a.ip() != p.ip {
                return None;
            }
            let k = a.port().checked_sub(p.first_port)?;
            p.homes.get(usize::from(k)).copied()
        };
        let node = |a: SocketAddr| (a.ip() != p.ip).then(|| self.index(a.ip())).flatten();
        match (home(from), node(to), node(from), home(to)) {
            (Some(h), Some(t), _, _) => h != t && self.is_cut(h, t),
            (_, _, Some(f), Some(h)) => f != h && self.is_cut(f, h),
            _ => false,
        }
    }

    fn index(&self, ip: IpAddr) -> Option<usize> {
        self.hosts.iter().position(|h| *h == ip)
    }

    /// Records that frames from `from` to `to` are (or are no longer) dropped.
    pub fn set_cut(&mut self, from: usize, to: usize, cut: bool) {
        let n = self.hosts.len();
        self.cut[from * n + to] = cut;
    }

    /// Whether frames from `from` to `to` are dropped by a partition.
    pub fn is_cut(&self, from: usize, to: usize) -> bool {
        self.cut[from * self.hosts.len() + to]
    }

    /// Marks every link healthy.
    pub fn heal_all(&mut self) {
        self.cut.iter_mut().for_each(|c| *c = false);
    }

    /// Counts a frame turmoil will drop because its link is cut.
    fn count_if_cut(&mut self, from: IpAddr, to: IpAddr) -> bool {
        let cut =
            matches!((self.index(from), self.index(to)), (Some(f), Some(t)) if self.is_cut(f, t));
        if cut {
            // turmoil drops it; we only count it.
            self.effects.dropped_by_partition += 1;
        }
        cut
    }

    /// Decides the fate of one frame: how many copies to put on the wire (0, 1 or 2), for
    /// how long to hold them back, and whether to flip a bit in it.
    fn fate(&mut self, from: SocketAddr, to: SocketAddr) -> Fate {
        let fate = |copies, delay, corrupt, cut| Fate {
            copies,
            delay,
            corrupt,
            cut,
        };
        if self.cut_for_pinned(from, to) {
            // turmoil does not know the client sits beside a node: the drop is ours.
            self.effects.dropped_by_partition += 1;
            return fate(0, None, false, true);
        }
        let (from, to) = (from.ip(), to.ip());
        if self.count_if_cut(from, to) {
            return fate(1, None, false, true);
        }
        if self.loss_percent > 0 && self.rng.random_range(0..100u8) < self.loss_percent {
            self.effects.dropped_by_loss += 1;
            return fate(0, None, false, false);
        }
        let copies = if self.duplicate_percent > 0
            && self.rng.random_range(0..100u8) < self.duplicate_percent
        {
            self.effects.duplicated += 1;
            2
        } else {
            1
        };
        let delay = (self.delay_percent > 0
            && self.rng.random_range(0..100u8) < self.delay_percent)
            .then(|| {
                self.effects.delayed += 1;
                Duration::from_millis(self.rng.random_range(DELAY_MS))
            });
        // Drawn last, and only when on: runs without corruption draw what they always drew.
        let corrupt =
            self.corrupt_percent > 0 && self.rng.random_range(0..100u8) < self.corrupt_percent;
        fate(copies, delay, corrupt, false)
    }

    /// `frame` with one random bit flipped, remembered so that its acceptance can be caught.
    fn corrupt(&mut self, frame: &[u8]) -> Vec<u8> {
        let mut bad = frame.to_vec();
        if !bad.is_empty() {
            let bit = self.rng.random_range(0..bad.len() * 8);
            bad[bit / 8] ^= 1 << (bit % 8);
            self.effects.corrupted += 1;
            self.corruption.sent(&bad);
        }
        bad
    }
}

/// How long a delayed frame is held back: up to several election timeouts, so that a reply
/// can arrive after its recipient has lost and regained leadership (FoundationDB's and VOPR's
/// packet delays; turmoil's own latency is per link, not per message).
pub const DELAY_MS: std::ops::RangeInclusive<u64> = 10..=2_000;

enum Socket {
    // Shared with the tasks that send delayed frames.
    Sim(Rc<turmoil::net::UdpSocket>),
    Real(tokio::net::UdpSocket),
}

/// What [`Transport::recv_msg`] received: a message, or a frame that is not one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Received<M> {
    /// An intact frame that decoded into a message of the expected type.
    Message(M),
    /// A frame that was truncated, failed its checksum or did not decode (garbage, corruption,
    /// or a message of another type): the node drops it, and may count it.
    Rejected(FrameError),
}

/// A bound datagram endpoint.
pub struct Transport {
    socket: Socket,
    faults: Option<Rc<RefCell<NetFaults>>>,
    local: SocketAddr,
    /// Where forged messages come from ([`NetFaults::harness`]); `None` on real sockets.
    harness: Option<SocketAddr>,
    /// The buffer [`Transport::send_msg`] encodes into, kept between sends so that sending
    /// does not allocate. Taken out while in use, so concurrent sends (from several tasks of
    /// one host) each get a buffer rather than a borrow conflict.
    scratch: Cell<Vec<u8>>,
    /// The crash points of the node that bound it (inert for clients): a send marks
    /// `net-send`, and a node that crashed at an armed point sends nothing.
    points: Points,
    /// The run's recorder, if it records ([`NetFaults::recorder`]).
    recorder: Option<Rc<RefCell<Recorder>>>,
}

/// Simulated time inside a host (zero outside a simulation).
fn sim_now() -> Duration {
    turmoil::sim_elapsed().unwrap_or_default()
}

impl Transport {
    /// Binds `addr` on `net`: the endpoint's own address as peers know it. (turmoil only binds
    /// the unspecified address, so in the simulator this binds `0.0.0.0:port`.)
    pub async fn bind(net: &Net, addr: SocketAddr) -> io::Result<Self> {
        match net {
            Net::Sim(faults) => {
                let any = SocketAddr::new(IpAddr::from([0, 0, 0, 0]), addr.port());
                let socket = turmoil::net::UdpSocket::bind(any).await?;
                let (harness, recorder) = {
                    let faults = faults.borrow();
                    (faults.harness, faults.recorder.clone())
                };
                Ok(Transport {
                    socket: Socket::Sim(Rc::new(socket)),
                    faults: Some(faults.clone()),
                    local: addr,
                    harness,
                    scratch: Cell::default(),
                    points: super::points::current(),
                    recorder,
                })
            }
            Net::Real => {
                let socket = tokio::net::UdpSocket::bind(addr).await?;
                let local = socket.local_addr()?;
                Ok(Transport {
                    socket: Socket::Real(socket),
                    faults: None,
                    local,
                    harness: None,
                    scratch: Cell::default(),
                    points: Points::default(),
                    recorder: None,
                })
            }
        }
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Sends one frame to `to`. Loss and duplication happen here in the simulator.
    pub async fn send(&self, to: SocketAddr, frame: &[u8]) -> io::Result<()> {
        self.send_recorded(to, frame).await.map(drop)
    }

    /// [`Transport::send`], returning the frame's index in the run's recording, if it
    /// records (so that [`Transport::send_msg`] can describe the message).
    async fn send_recorded(&self, to: SocketAddr, frame: &[u8]) -> io::Result<Option<usize>> {
        if self.points.is_crashed() {
            return Ok(None);
        }
        let recorded = self.send_frame(to, frame).await?;
        self.points.pass("net-send");
        Ok(recorded)
    }

    async fn send_frame(&self, to: SocketAddr, frame: &[u8]) -> io::Result<Option<usize>> {
        if frame.len() > MAX_FRAME {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "frame of {} bytes exceeds the {MAX_FRAME}-byte limit",
                    frame.len()
                ),
            ));
        }
        let Fate {
            copies,
            delay,
            corrupt,
            cut,
        } = match &self.faults {
            Some(faults) => faults.borrow_mut().fate(self.local, to),
            None => Fate {
                copies: 1,
                delay: None,
                corrupt: false,
                cut: false,
            },
        };
        let corrupted;
        let frame = match (&self.faults, corrupt) {
            (Some(faults), true) => {
                corrupted = faults.borrow_mut().corrupt(frame);
                &corrupted[..]
            }
            _ => frame,
        };
        let recorded = self.recorder.as_ref().and_then(|r| {
            r.borrow_mut().sent(
                sim_now(),
                self.local,
                to,
                frame,
                copies,
                cut,
                delay,
                corrupt,
            )
        });
        if let (Some(delay), Socket::Sim(socket), Some(faults)) =
            (delay, &self.socket, &self.faults)
        {
            // The frame goes out later from a task of this host, so a crash of the sender
            // loses it, and a link cut by then drops it.
            let (socket, faults, frame, from, recorder) = (
                socket.clone(),
                faults.clone(),
                frame.to_vec(),
                self.local,
                self.recorder.clone(),
            );
            tokio::task::spawn_local(async move {
                tokio::time::sleep(delay).await;
                {
                    let mut f = faults.borrow_mut();
                    // A pinned client's frame is ours to drop; any other, turmoil's.
                    let pinned = f.cut_for_pinned(from, to);
                    let cut = if pinned {
                        f.effects.dropped_by_partition += 1;
                        true
                    } else {
                        f.count_if_cut(from.ip(), to.ip())
                    };
                    if let (true, Some(r), Some(index)) = (cut, &recorder, recorded) {
                        r.borrow_mut().dropped(index, "partition");
                    }
                    if pinned {
                        return;
                    }
                }
                for _ in 0..copies {
                    // A send error here has no caller to go to; the frame is lost, as it
                    // would be on a real network.
                    let _ = socket.send_to(&frame, to).await;
                }
            });
            return Ok(recorded);
        }
        for _ in 0..copies {
            match &self.socket {
                Socket::Sim(s) => s.send_to(frame, to).await?,
                Socket::Real(s) => s.send_to(frame, to).await?,
            };
        }
        Ok(recorded)
    }

    /// Receives one frame into `buf`, returning its length and sender. A datagram longer
    /// than `buf` is truncated to it. A forged frame comes with the peer it impersonates as
    /// its sender.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        match &self.socket {
            Socket::Sim(s) => {
                let (len, from) = s.recv_from(buf).await?;
                if let Some(r) = &self.recorder {
                    r.borrow_mut().received(
                        sim_now(),
                        from,
                        self.local,
                        &buf[..len.min(buf.len())],
                    );
                }
                if Some(from) == self.harness {
                    return Ok(self.open_forged(buf, len, from));
                }
                Ok((len, from))
            }
            Socket::Real(s) => s.recv_from(buf).await,
        }
    }

    /// A datagram from the harness: a forged frame in its envelope (counted as delivered), or
    /// garbage, passed on as it came.
    fn open_forged(&self, buf: &mut [u8], len: usize, from: SocketAddr) -> (usize, SocketAddr) {
        match forge::open(buf, len) {
            Some(opened) => {
                if let Some(faults) = &self.faults {
                    faults.borrow_mut().effects.forged += 1;
                }
                opened
            }
            None => (len, from),
        }
    }

    /// Sends `msg` to `to` as one checksummed frame ([`super::frame`]); the message faults
    /// apply as for [`Transport::send`]. Fails if the encoded frame exceeds [`MAX_FRAME`],
    /// if `msg`'s `Serialize` impl fails, or if the socket does.
    pub async fn send_msg<M: Serialize + ?Sized>(&self, to: SocketAddr, msg: &M) -> io::Result<()> {
        let mut buf = self.scratch.take();
        let sent = match frame::encode_into(msg, &mut buf) {
            Ok(()) => self.send_recorded(to, &buf).await,
            Err(e) => Err(io::Error::new(io::ErrorKind::InvalidInput, e)),
        };
        self.scratch.set(buf);
        // Only while recording: what the message says, for the report.
        if let (Some(r), Ok(Some(index))) = (&self.recorder, &sent) {
            r.borrow_mut()
                .describe(*index, crate::report::summarize(msg));
        }
        sent.map(drop)
    }

    /// Receives one frame into `buf` and decodes it as an `M`, returning it with its sender.
    /// A frame that is not an intact `M` is [`Received::Rejected`], never an error, so that
    /// garbage cannot stop a receive loop; `buf` must hold the largest frame the system
    /// sends (a longer one is truncated and so rejected). Errors are the socket's.
    pub async fn recv_msg<M: DeserializeOwned>(
        &self,
        buf: &mut [u8],
    ) -> io::Result<(Received<M>, SocketAddr)> {
        let (len, from) = self.recv(buf).await?;
        let received = match frame::decode(&buf[..len]) {
            Ok(msg) => Received::Message(msg),
            Err(e) => Received::Rejected(e),
        };
        if let Some(faults) = &self.faults {
            let mut faults = faults.borrow_mut();
            match &received {
                Received::Rejected(_) => faults.effects.rejected += 1,
                Received::Message(_) => faults.corruption.received(&buf[..len], from),
            }
        }
        Ok((received, from))
    }

    /// Receives the next frame that is an intact `M`, dropping rejected frames on the way:
    /// [`Transport::recv_msg`] for a system that need not count what it rejects. Errors are
    /// the socket's.
    pub async fn next_msg<M: DeserializeOwned>(
        &self,
        buf: &mut [u8],
    ) -> io::Result<(M, SocketAddr)> {
        loop {
            if let (Received::Message(msg), from) = self.recv_msg(buf).await? {
                return Ok((msg, from));
            }
        }
    }

    /// A client's request loop: sends `msg` to `to`, and again every `retry`, until a reply
    /// arrives that `answer` accepts, and returns what `answer` made of it. Other frames (stale
    /// replies, garbage) are dropped. Errors are the socket's; the caller bounds the whole
    /// wait (squall cancels a client operation at its deadline).
    pub async fn request<M, R, T>(
        &self,
        to: SocketAddr,
        msg: &M,
        retry: Duration,
        mut answer: impl FnMut(R, SocketAddr) -> Option<T>,
    ) -> io::Result<T>
    where
        M: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        let mut buf = vec![0; MAX_FRAME];
        loop {
            self.send_msg(to, msg).await?;
            let reply = tokio::time::timeout(retry, async {
                loop {
                    let (reply, from) = self.next_msg(&mut buf).await?;
                    if let Some(done) = answer(reply, from) {
                        return io::Result::Ok(done);
                    }
                }
            });
            if let Ok(done) = reply.await {
                return done;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Ping {
        seq: u32,
        text: String,
    }

    fn ping(seq: u32) -> Ping {
        Ping {
            seq,
            text: format!("ping {seq}"),
        }
    }

    #[test]
    fn typed_messages_arrive_and_garbage_is_rejected_not_delivered() -> turmoil::Result {
        let mut sim = turmoil::Builder::new()
            // One fixed latency keeps the three datagrams in order.
            .min_message_latency(Duration::from_millis(1))
            .max_message_latency(Duration::from_millis(1))
            .build();
        let net = Net::Sim(Rc::new(RefCell::new(NetFaults::new(Vec::new(), 1))));
        let receiver_net = net.clone();
        sim.client("receiver", async move {
            let addr = SocketAddr::new(turmoil::lookup("receiver"), 7000);
            let transport = Transport::bind(&receiver_net, addr).await?;
            let mut buf = vec![0u8; 1024];
            let mut got = Vec::new();
            for _ in 0..4 {
                got.push(transport.recv_msg::<Ping>(&mut buf).await?.0);
            }
            assert_eq!(got[0], Received::Message(ping(1)));
            assert_eq!(got[1], Received::Rejected(FrameError::Checksum));
            assert!(matches!(got[2], Received::Rejected(FrameError::Payload(_))));
            assert_eq!(got[3], Received::Message(ping(2)));
            // Garbage again, then a message: `next_msg` skips the one and returns the other.
            let (msg, _) = transport.next_msg::<Ping>(&mut buf).await?;
            assert_eq!(msg, ping(3));
            Ok(())
        });
        sim.client("sender", async move {
            let to = SocketAddr::new(turmoil::lookup("receiver"), 7000);
            let addr = SocketAddr::new(turmoil::lookup("sender"), 7000);
            let transport = Transport::bind(&net, addr).await?;
            tokio::time::sleep(Duration::from_millis(10)).await;
            transport.send_msg(to, &ping(1)).await?;
            // Random bytes, as the garbage fault sends; then an intact frame of another type.
            transport.send(to, &[1, 0x5a, 0xc3, 7, 7, 7, 7, 7]).await?;
            transport.send_msg(to, &(1u8, 2u8)).await?;
            transport.send_msg(to, &ping(2)).await?;
            transport.send(to, b"garbage").await?;
            transport.send_msg(to, &ping(3)).await?;
            Ok(())
        });
        sim.run()
    }

    #[test]
    fn an_oversized_message_is_refused_before_it_is_sent() -> turmoil::Result {
        let mut sim = turmoil::Builder::new().build();
        let net = Net::Sim(Rc::new(RefCell::new(NetFaults::new(Vec::new(), 1))));
        sim.client("sender", async move {
            let addr = SocketAddr::new(turmoil::lookup("sender"), 7000);
            let transport = Transport::bind(&net, addr).await?;
            let big = vec![7u8; MAX_FRAME];
            let err = transport.send_msg(addr, &big).await.expect_err("too large");
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
            Ok(())
        });
        sim.run()
    }
}
