//! squall's message transport: datagrams over turmoil UDP (or real UDP), one frame per message.
//!
//! turmoil cannot duplicate or drop individual messages (TURMOIL.md §9), so the faults it
//! lacks live here, in the sender: each frame may be lost, sent twice or held back for a
//! while (sent later by a task of the sending host), decided by the harness's seeded RNG.
//! Partitions themselves are turmoil's; the transport only counts the frames a cut link
//! swallows, so that a run can show its faults took effect.
//!
//! The same [`Transport`] runs on real sockets ([`Net::Real`]), where it applies no faults.

use crate::report::Effects;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::cell::RefCell;
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
    /// Endpoints by IP; `cut[from * n + to]` says turmoil drops frames from→to.
    hosts: Vec<IpAddr>,
    cut: Vec<bool>,
    rng: Xoshiro256PlusPlus,
    /// What the faults did.
    pub effects: Effects,
}

impl NetFaults {
    /// Fault state for these endpoints (nodes, then clients), with a seeded RNG.
    pub fn new(hosts: Vec<IpAddr>, seed: u64) -> Self {
        let n = hosts.len();
        NetFaults {
            loss_percent: 0,
            duplicate_percent: 0,
            delay_percent: 0,
            hosts,
            cut: vec![false; n * n],
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
            effects: Effects::default(),
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

    /// Decides the fate of one frame: how many copies to put on the wire (0, 1 or 2), and
    /// for how long to hold them back.
    fn fate(&mut self, from: IpAddr, to: IpAddr) -> (usize, Option<Duration>) {
        if self.count_if_cut(from, to) {
            return (1, None);
        }
        if self.loss_percent > 0 && self.rng.random_range(0..100u8) < self.loss_percent {
            self.effects.dropped_by_loss += 1;
            return (0, None);
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
        (copies, delay)
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

/// A bound datagram endpoint.
pub struct Transport {
    socket: Socket,
    faults: Option<Rc<RefCell<NetFaults>>>,
    local: SocketAddr,
}

impl Transport {
    /// Binds `addr` on `net`: the endpoint's own address as peers know it. (turmoil only binds
    /// the unspecified address, so in the simulator this binds `0.0.0.0:port`.)
    pub async fn bind(net: &Net, addr: SocketAddr) -> io::Result<Self> {
        match net {
            Net::Sim(faults) => {
                let any = SocketAddr::new(IpAddr::from([0, 0, 0, 0]), addr.port());
                let socket = turmoil::net::UdpSocket::bind(any).await?;
                Ok(Transport {
                    socket: Socket::Sim(Rc::new(socket)),
                    faults: Some(faults.clone()),
                    local: addr,
                })
            }
            Net::Real => {
                let socket = tokio::net::UdpSocket::bind(addr).await?;
                let local = socket.local_addr()?;
                Ok(Transport {
                    socket: Socket::Real(socket),
                    faults: None,
                    local,
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
        if frame.len() > MAX_FRAME {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "frame of {} bytes exceeds the {MAX_FRAME}-byte limit",
                    frame.len()
                ),
            ));
        }
        let (copies, delay) = match &self.faults {
            Some(faults) => faults.borrow_mut().fate(self.local.ip(), to.ip()),
            None => (1, None),
        };
        if let (Some(delay), Socket::Sim(socket), Some(faults)) =
            (delay, &self.socket, &self.faults)
        {
            // The frame goes out later from a task of this host, so a crash of the sender
            // loses it, and a link cut by then drops it.
            let (socket, faults, frame, from) = (
                socket.clone(),
                faults.clone(),
                frame.to_vec(),
                self.local.ip(),
            );
            tokio::task::spawn_local(async move {
                tokio::time::sleep(delay).await;
                faults.borrow_mut().count_if_cut(from, to.ip());
                for _ in 0..copies {
                    // A send error here has no caller to go to; the frame is lost, as it
                    // would be on a real network.
                    let _ = socket.send_to(&frame, to).await;
                }
            });
            return Ok(());
        }
        for _ in 0..copies {
            match &self.socket {
                Socket::Sim(s) => s.send_to(frame, to).await?,
                Socket::Real(s) => s.send_to(frame, to).await?,
            };
        }
        Ok(())
    }

    /// Receives one frame into `buf`, returning its length and sender.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        match &self.socket {
            Socket::Sim(s) => s.recv_from(buf).await,
            Socket::Real(s) => s.recv_from(buf).await,
        }
    }
}
