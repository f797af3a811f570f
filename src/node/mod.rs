//! What a node gets from squall: its durable [`Disk`], its message [`Transport`] over the
//! simulated (or a real) network, which carries typed messages in checksummed [`frame`]s,
//! and the [`NodeContext`] it starts with. The simulator
//! ([`crate::sim`]) builds these; systems ([`crate::systems`]) use them; neither imports the
//! other's internals through here.

pub mod disk;
pub mod forge;
pub mod frame;
pub mod net;

pub use disk::Disk;
pub use forge::{Forged, Forger};
pub use frame::FrameError;
pub use net::{Net, Received, Transport, MAX_FRAME};

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
