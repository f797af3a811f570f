//! Forged messages: well-formed, correctly framed messages of a system's own message type with
//! arbitrary contents, delivered to a node as if a peer had sent them (the `forge nX` step).
//!
//! Garbage bytes fail the frame checksum 255 times in 256 ([`super::frame`]), so they only ever
//! exercise a node's rejection path. A forged message passes every framing check and reaches
//! the protocol: an AppendEntries naming an index past the log, a vote with an absurd term, a
//! batch longer than any honest leader sends. A crash-fault-tolerant protocol need not stay
//! *correct* under such input, but it must stay *robust*: no panic, no unbounded allocation,
//! and a cluster that serves clients again once the forger stops (see the runner).
//!
//! A system opts in by naming its message type once ([`Forger::of`]); squall generates a value
//! with `arbitrary` and frames it as [`Transport::send_msg`](super::Transport::send_msg) does.
//! Derived `Arbitrary` draws every integer uniformly, so forged terms and indices are almost
//! always astronomically large: good for the rejection paths, useless for the deep ones. The
//! field helpers [`plausible_u64`] and [`node_id`] (`#[arbitrary(with = ...)]`) draw small
//! values, boundary values and node ids of the cluster most of the time instead, as a
//! fuzzing dictionary would.
//!
//! On the wire a forged frame travels from the harness's own address inside a small envelope
//! that names the peer it impersonates ([`envelope`]); the receiving [`Transport`] opens it
//! and reports the peer as the sender. So a forgery is subject to the network like any other
//! datagram (latency, loss, a crashed receiver), wakes the node like one, and costs the normal
//! receive path one address comparison.
//!
//! [`Transport`]: super::Transport

use super::frame;
use super::net::MAX_FRAME;
use crate::scenario::NodeId;
use arbitrary::{Arbitrary, Unstructured};
use serde::Serialize;
use std::cell::Cell;
use std::fmt::Debug;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// One forged message: its frame, and a description for the trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forged {
    /// The frame, exactly as the transport would carry the message.
    pub frame: Vec<u8>,
    /// What the message says (its `Debug` form, cut to [`DESCRIPTION_LEN`] characters).
    pub description: String,
}

/// Longest description of a forged message kept for the trace.
pub const DESCRIPTION_LEN: usize = 240;

/// How a system makes forged messages: see the module docs. Cheap to copy.
#[derive(Clone, Copy)]
pub struct Forger {
    make: fn(&mut Unstructured<'_>) -> Option<Forged>,
}

impl Debug for Forger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Forger")
    }
}

impl Forger {
    /// Forges messages of type `M`, framed as squall's typed transport frames them: for a
    /// system that sends `M` with [`Transport::send_msg`](super::Transport::send_msg).
    pub fn of<M>() -> Forger
    where
        M: for<'a> Arbitrary<'a> + Serialize + Debug,
    {
        Forger { make: forge::<M> }
    }

    /// Forges with the system's own function: for a system that frames its messages itself.
    /// `make` returns `None` when the bytes make no message.
    pub fn custom(make: fn(&mut Unstructured<'_>) -> Option<Forged>) -> Forger {
        Forger { make }
    }

    /// One forged message from `u`, with `context` visible to the field helpers; `None` if
    /// the bytes make no message or its frame would not fit a datagram.
    pub fn forge(&self, u: &mut Unstructured<'_>, context: ForgeContext) -> Option<Forged> {
        let previous = CONTEXT.with(|c| c.replace(Some(context)));
        let forged = (self.make)(u);
        CONTEXT.with(|c| c.set(previous));
        forged.filter(|f| f.frame.len() <= MAX_FORGED_FRAME)
    }
}

/// Largest forged frame: a datagram less the envelope.
pub const MAX_FORGED_FRAME: usize = MAX_FRAME - ENVELOPE_V6;

/// Generates an `M` from `u` and frames it ([`Forger::of`]).
pub fn forge<M>(u: &mut Unstructured<'_>) -> Option<Forged>
where
    M: for<'a> Arbitrary<'a> + Serialize + Debug,
{
    let msg = M::arbitrary(u).ok()?;
    let frame = frame::encode(&msg).ok()?;
    let mut description = format!("{msg:?}");
    if description.len() > DESCRIPTION_LEN {
        let cut = (0..=DESCRIPTION_LEN)
            .rev()
            .find(|i| description.is_char_boundary(*i))
            .unwrap_or(0);
        description.truncate(cut);
        description.push('…');
    }
    Some(Forged { frame, description })
}

/// What the field helpers may know while a message is forged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ForgeContext {
    /// Cluster size.
    pub nodes: u8,
    /// The node that will receive the message.
    pub target: NodeId,
    /// The peer the message pretends to come from.
    pub sender: NodeId,
}

thread_local! {
    static CONTEXT: Cell<Option<ForgeContext>> = const { Cell::new(None) };
}

fn byte(u: &mut Unstructured<'_>) -> arbitrary::Result<u8> {
    u8::arbitrary(u)
}

/// Boundary values a forged integer takes now and then.
const EXTREMES: [u64; 8] = [
    u64::MAX,
    u64::MAX - 1,
    1 << 63,
    (1 << 63) - 1,
    u32::MAX as u64,
    (u32::MAX as u64) + 1,
    u16::MAX as u64,
    256,
];

/// A forged integer field (a term, an index, a count) that is usually plausible: one byte
/// decides — half the time 0 to 7, then 0 to 63, a 16-bit value, a boundary value (`u64::MAX`,
/// `2^63`, `u32::MAX`, ...), or any `u64`. For `#[arbitrary(with = plausible_u64)]`.
pub fn plausible_u64(u: &mut Unstructured<'_>) -> arbitrary::Result<u64> {
    let b = byte(u)?;
    Ok(match b {
        0..128 => u64::from(b % 8),
        128..192 => u64::from(b - 128),
        192..224 => u64::from(u16::arbitrary(u)?),
        224..240 => EXTREMES[usize::from(b % 8)],
        _ => u64::arbitrary(u)?,
    })
}

/// A forged node id: usually the impersonated peer's, often another node of the cluster,
/// sometimes any `u8` (while forging; outside [`Forger::forge`] a small number). For
/// `#[arbitrary(with = node_id)]`.
pub fn node_id(u: &mut Unstructured<'_>) -> arbitrary::Result<u8> {
    let b = byte(u)?;
    let context = CONTEXT.with(Cell::get);
    Ok(match (b, context) {
        (0..128, Some(c)) => c.sender,
        (128..224, Some(c)) => b % c.nodes.max(1),
        (0..224, None) => b % 8,
        _ => u8::arbitrary(u)?,
    })
}

/// Bytes the envelope adds to an IPv4 peer's frame.
pub const ENVELOPE_V4: usize = MAGIC.len() + 1 + 4 + 2;
/// Bytes the envelope adds to an IPv6 peer's frame.
pub const ENVELOPE_V6: usize = MAGIC.len() + 1 + 16 + 2;

const MAGIC: [u8; 4] = *b"sqFG";

/// Wraps a forged frame for the wire: `[magic "sqFG"][4 | 6][peer IP][peer port LE][frame]`.
pub fn envelope(peer: SocketAddr, frame: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ENVELOPE_V6 + frame.len());
    out.extend_from_slice(&MAGIC);
    match peer.ip() {
        IpAddr::V4(ip) => {
            out.push(4);
            out.extend_from_slice(&ip.octets());
        }
        IpAddr::V6(ip) => {
            out.push(6);
            out.extend_from_slice(&ip.octets());
        }
    }
    out.extend_from_slice(&peer.port().to_le_bytes());
    out.extend_from_slice(frame);
    out
}

/// Opens an envelope received into `buf[..len]`: moves the forged frame to the start of `buf`
/// and returns its length and the impersonated peer. `None` (and `buf` untouched) if the
/// datagram is not an envelope — the harness's garbage, which comes from the same address.
pub fn open(buf: &mut [u8], len: usize) -> Option<(usize, SocketAddr)> {
    let datagram = buf.get(..len)?;
    let rest = datagram.strip_prefix(&MAGIC)?;
    let (ip, header): (IpAddr, usize) = match rest.first()? {
        4 => {
            let octets: [u8; 4] = rest.get(1..5)?.try_into().ok()?;
            (Ipv4Addr::from(octets).into(), ENVELOPE_V4)
        }
        6 => {
            let octets: [u8; 16] = rest.get(1..17)?.try_into().ok()?;
            (Ipv6Addr::from(octets).into(), ENVELOPE_V6)
        }
        _ => return None,
    };
    let port = datagram.get(header - 2..header)?;
    let peer = SocketAddr::new(ip, u16::from_le_bytes([port[0], port[1]]));
    buf.copy_within(header..len, 0);
    Some((len - header, peer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize, Arbitrary)]
    enum Msg {
        Vote {
            #[arbitrary(with = node_id)]
            from: u8,
            #[arbitrary(with = plausible_u64)]
            term: u64,
        },
        Batch(Vec<u32>),
    }

    const CONTEXT: ForgeContext = ForgeContext {
        nodes: 3,
        target: 0,
        sender: 2,
    };

    #[test]
    fn a_forged_message_is_an_intact_frame_of_the_type() {
        let forger = Forger::of::<Msg>();
        for seed in 0..200u8 {
            let bytes: Vec<u8> = (0..64)
                .map(|i| seed.wrapping_mul(31).wrapping_add(i))
                .collect();
            let forged = forger
                .forge(&mut Unstructured::new(&bytes), CONTEXT)
                .expect("forges");
            let msg: Msg = frame::decode(&forged.frame).expect("an intact frame");
            assert_eq!(forged.description, format!("{msg:?}"));
        }
    }

    #[test]
    fn forged_fields_are_mostly_plausible() {
        let forger = Forger::of::<Msg>();
        let (mut votes, mut from_peer, mut small_terms) = (0, 0, 0);
        for seed in 0..2000u64 {
            let bytes = crate::scenario::generate::seed_bytes(seed);
            let forged = forger
                .forge(&mut Unstructured::new(&bytes[..64]), CONTEXT)
                .expect("forges");
            if let Ok(Msg::Vote { from, term }) = frame::decode(&forged.frame) {
                votes += 1;
                from_peer += usize::from(from < 3);
                small_terms += usize::from(term < 64);
            }
        }
        assert!(votes > 800, "{votes}");
        assert!(from_peer * 10 > votes * 8, "{from_peer} of {votes}");
        assert!(small_terms * 10 > votes * 6, "{small_terms} of {votes}");
        assert!(small_terms < votes, "some terms are absurd");
    }

    #[test]
    fn an_envelope_opens_to_the_frame_and_the_peer() {
        for peer in [
            SocketAddr::from(([10, 0, 0, 2], 7000)),
            SocketAddr::from(([0xfe80, 0, 0, 0, 0, 0, 0, 2], 7001)),
        ] {
            let mut buf = envelope(peer, b"frame!");
            buf.extend_from_slice(&[0; 16]);
            let len = buf.len() - 16;
            assert_eq!(open(&mut buf, len), Some((6, peer)));
            assert_eq!(&buf[..6], b"frame!");
        }
    }

    #[test]
    fn garbage_is_not_an_envelope() {
        for bytes in [
            &b""[..],
            b"sqF",
            b"sqFG",
            b"sqFG\x04\x01\x02",
            b"sqFG\x05abcdefgh",
            b"hello world",
        ] {
            let mut buf = bytes.to_vec();
            let len = buf.len();
            assert_eq!(open(&mut buf, len), None, "{bytes:?}");
            assert_eq!(buf, bytes);
        }
    }
}
