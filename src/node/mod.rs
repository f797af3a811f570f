//! What a node gets from squall: its durable [`Disk`], its message [`Transport`] over the
//! simulated (or a real) network, which carries typed messages in checksummed [`frame`]s,
//! typed request/response calls over it ([`Rpc`]), its crash points and BUGGIFY
//! ([`points`]), its [`Clock`] (which scenarios can skew and drift), and the [`NodeContext`]
//! it starts with. The simulator ([`crate::sim`])
//! builds these; systems ([`crate::systems`]) use them; neither imports the other's
//! internals through here.

pub mod clock;
pub mod corrupt;
pub(crate) mod disk;
pub mod forge;
pub mod frame;
pub(crate) mod net;
pub mod points;
pub mod records;
pub mod rpc;

pub use clock::Clock;
pub use disk::Disk;
pub use forge::{Forged, Forger};
pub use frame::FrameError;
pub use net::{Net, Received, Transport, MAX_FRAME};
pub use points::{PointInfo, Points};
pub use rpc::{CallError, Reply, Rpc};

use crate::scenario::NodeId;
use std::net::SocketAddr;

/// Everything a node gets when it (re)starts.
pub struct NodeContext {
    /// This node's index.
    pub id: NodeId,
    /// Every node's address, indexed by node id (this node's included).
    pub peers: Vec<SocketAddr>,
    /// The node's durable disk; survives crashes, loses unsynced writes on power loss.
    pub disk: Disk,
    /// Seed for this incarnation's RNG (differs per restart, fixed per scenario).
    pub seed: u64,
    /// Where to bind the transport.
    pub net: Net,
    /// How many times this node has started before.
    pub incarnation: u32,
    /// The node's crash points and buggify ([`points`]); inert on real sockets. The
    /// [`crash_point!`](crate::crash_point) and [`buggify!`](crate::buggify) macros find it
    /// by themselves in the node's main future; a task the node spawns uses this handle.
    pub points: Points,
    /// The node's clock ([`clock`]): its local view of time, monotonic and wall. Protocol
    /// code reads time and waits for its timers here, never through `std::time`, so that
    /// scenarios can skew and drift it. The real clock on real sockets.
    pub clock: Clock,
}

impl NodeContext {
    /// This node's own address.
    pub fn addr(&self) -> SocketAddr {
        self.peers[usize::from(self.id)]
    }
}

/// Everything a client process gets.
pub struct ClientContext {
    /// The client's index (`c0` is 0).
    pub id: u8,
    /// The client's own address.
    pub addr: SocketAddr,
    /// Every node's address, indexed by node id.
    pub nodes: Vec<SocketAddr>,
    /// Where to bind the transport.
    pub net: Net,
    /// Seed for the client's RNG.
    pub seed: u64,
}
