//! squall's message transport: datagrams over turmoil UDP (or real UDP), one frame per message.
//!
//! turmoil cannot duplicate or drop individual messages (TURMOIL.md §9), so the faults it
//! lacks live here, in the sender: each frame may be lost or sent twice, decided by the
//! harness's seeded RNG. Partitions themselves are turmoil's; the transport only counts the
//! frames a cut link swallows, so that a run can show its faults took effect.
//!
//! The same [`Transport`] runs on real sockets ([`Net::Real`]), where it applies no faults.

use super::effects::Effects;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::cell::RefCell;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;

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
    /// Endpoints by IP; `cut[from * n + to]` says turmoil drops frames from→to.
    hosts: Vec<IpAddr>,
    cut: Vec<bool>,
    rng: SmallRng,
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
            hosts,
            cut: vec![false; n * n],
            rng: SmallRng::seed_from_u64(seed),
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

    /// Decides the fate of one frame: how many copies to put on the wire (0, 1 or 2).
    fn copies(&mut self, from: IpAddr, to: IpAddr) -> usize {
        if let (Some(f), Some(t)) = (self.index(from), self.index(to)) {
            if self.is_cut(f, t) {
                // turmoil drops it; we only count it.
                self.effects.dropped_by_partition += 1;
                return 1;
            }
        }
        if self.loss_percent > 0 && self.rng.random_range(0..100u8) < self.loss_percent {
            self.effects.dropped_by_loss += 1;
            return 0;
        }
        if self.duplicate_percent > 0 && self.rng.random_range(0..100u8) < self.duplicate_percent {
            self.effects.duplicated += 1;
            return 2;
        }
        1
    }
}

enum Socket {
    Sim(turmoil::net::UdpSocket),
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
                    socket: Socket::Sim(socket),
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
        let copies = match &self.faults {
            Some(faults) => faults.borrow_mut().copies(self.local.ip(), to.ip()),
            None => 1,
        };
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
