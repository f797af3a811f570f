//! Corruption that looks real: one flipped bit in a frame in flight or in a byte a node synced
//! to its disk, rather than random bytes (which fail the first header check 255 times in
//! 256), so that every checksum and length check on both paths runs.
//!
//! On the network, the transport flips the bit as it sends (`NetFaults` in `node::net`) and
//! remembers each corrupted frame's digest here. A typed receive
//! ([`Transport::recv_msg`](super::net::Transport::recv_msg)) that decodes a frame whose digest
//! is among them has accepted a corrupted frame as a message: [`Corruption::accepted`] says so,
//! and the runner reports it as a violation of "corrupt frames are rejected". With squall's
//! frame checksum (32 bits, [`super::frame`]) that takes a collision, about one corrupted
//! frame in 2^32, so for systems on `send_msg`/`recv_msg` the check guards the harness's own
//! promise. A system that frames its own bytes (raw [`Transport::send`](super::net::Transport::send)
//! and [`Transport::recv`](super::net::Transport::recv)) gets corrupted frames too, but squall
//! cannot tell whether it took one for a message: only its own properties and the client
//! history can show the damage.
//!
//! On disk, [`Disk::flip_bit`](super::disk::Disk::flip_bit) changes a byte both on the media
//! and in the page cache, where they agree: the node reads it at its next recovery.

use super::frame::fnv64;
use std::collections::BTreeSet;
use std::net::SocketAddr;

/// What in-flight corruption did in one run.
#[derive(Clone, Debug, Default)]
pub struct Corruption {
    /// Digests of the frames sent with a flipped bit.
    sent: BTreeSet<u64>,
    /// The first corrupted frame a typed receive accepted as a message, if any.
    accepted: Option<String>,
}

impl Corruption {
    /// Records a frame as it went on the wire after its bit flip.
    pub fn sent(&mut self, frame: &[u8]) {
        self.sent.insert(fnv64(frame));
    }

    /// A typed receive decoded `frame` from `from` as a message: if it was corrupted in
    /// flight, that is recorded (the first time). Costs nothing until a frame was corrupted.
    pub fn received(&mut self, frame: &[u8], from: SocketAddr) {
        if self.sent.is_empty() || self.accepted.is_some() {
            return;
        }
        if self.sent.contains(&fnv64(frame)) {
            self.accepted = Some(format!(
                "a frame of {} bytes from {from} had a bit flipped in flight, yet decoded as a \
                 message",
                frame.len()
            ));
        }
    }

    /// The first corrupted frame accepted as a message, described.
    pub fn accepted(&self) -> Option<&str> {
        self.accepted.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from() -> SocketAddr {
        SocketAddr::from(([10, 0, 0, 1], 7000))
    }

    #[test]
    fn only_a_frame_that_was_corrupted_counts_as_accepted() {
        let mut c = Corruption::default();
        c.received(b"intact", from());
        assert_eq!(c.accepted(), None, "nothing corrupted yet");
        c.sent(b"bad frame");
        c.received(b"intact", from());
        assert_eq!(
            c.accepted(),
            None,
            "an intact frame is not the corrupted one"
        );
        c.received(b"bad frame", from());
        assert!(c
            .accepted()
            .is_some_and(|why| why.contains("9 bytes from 10.0.0.1:7000")));
    }
}
