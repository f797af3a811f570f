//! The frame every typed message travels in, written once here so no system writes framing.
//!
//! A frame is `[VERSION][postcard payload][checksum: u32 LE]`: one message, serialized with
//! serde into postcard's compact, deterministic encoding (fields in declaration order, no maps
//! unless the message has them — use `BTreeMap` there, never `HashMap`, so that equal
//! messages give equal bytes). The checksum (FNV-1a over version and payload, folded to 32
//! bits) means a garbage or bit-flipped datagram — squall's garbage fault delivers random
//! bytes to nodes — is rejected with overwhelming probability instead of decoding into a
//! plausible but bogus message (a forged AppendEntries could otherwise overwrite a follower's
//! log, a forged vote carry a huge term).
//!
//! Decoding never panics: a frame that is too short, has another version, fails its checksum
//! or holds a payload postcard cannot read as the expected type is a [`FrameError`].
//! [`Transport::recv_msg`](super::net::Transport::recv_msg) hands it to the node as
//! [`Received::Rejected`](super::net::Received::Rejected), never as a message.

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt;

/// Format version, the first byte of every frame.
pub const VERSION: u8 = 1;

/// Bytes a frame adds around its payload: the version byte and the checksum.
pub const OVERHEAD: usize = 1 + 4;

/// Why a received frame was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// Shorter than version and checksum (the length is given).
    TooShort(usize),
    /// An unknown format version.
    Version(u8),
    /// The checksum does not match the contents.
    Checksum,
    /// The frame is intact, but postcard could not read its payload as the expected message
    /// type (or bytes were left over); when encoding, the message's `Serialize` impl failed.
    Payload(String),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::TooShort(n) => write!(f, "frame of {n} bytes is too short"),
            FrameError::Version(v) => write!(f, "unknown frame version {v}"),
            FrameError::Checksum => f.write_str("frame checksum mismatch"),
            FrameError::Payload(e) => write!(f, "undecodable payload: {e}"),
        }
    }
}

impl std::error::Error for FrameError {}

/// FNV-1a, 64 bits: a stable digest (the same in every process, platform and version), used
/// for frame checksums and available to systems for their own digests and disk records.
pub fn fnv64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The 32-bit checksum frames carry: [`fnv64`] folded in half.
pub fn checksum(bytes: &[u8]) -> u32 {
    let h = fnv64(bytes);
    (h ^ (h >> 32)) as u32
}

/// Encodes `msg` as a frame into `out` (cleared first), reusing its allocation. Fails only if
/// the message's `Serialize` impl does (postcard cannot fail on plain data).
pub fn encode_into<M: Serialize + ?Sized>(msg: &M, out: &mut Vec<u8>) -> Result<(), FrameError> {
    out.clear();
    out.push(VERSION);
    let mut buf = postcard::to_extend(msg, std::mem::take(out))
        .map_err(|e| FrameError::Payload(e.to_string()))?;
    let sum = checksum(&buf);
    buf.extend_from_slice(&sum.to_le_bytes());
    *out = buf;
    Ok(())
}

/// Encodes `msg` as a new frame.
pub fn encode<M: Serialize + ?Sized>(msg: &M) -> Result<Vec<u8>, FrameError> {
    let mut out = Vec::new();
    encode_into(msg, &mut out)?;
    Ok(out)
}

/// Decodes a frame into a message of type `M`; never panics.
pub fn decode<M: DeserializeOwned>(frame: &[u8]) -> Result<M, FrameError> {
    if frame.len() < OVERHEAD {
        return Err(FrameError::TooShort(frame.len()));
    }
    if frame[0] != VERSION {
        return Err(FrameError::Version(frame[0]));
    }
    let (body, sum) = frame.split_at(frame.len() - 4);
    let sum = u32::from_le_bytes([sum[0], sum[1], sum[2], sum[3]]);
    if checksum(body) != sum {
        return Err(FrameError::Checksum);
    }
    match postcard::take_from_bytes::<M>(&body[1..]) {
        Ok((msg, [])) => Ok(msg),
        Ok((_, rest)) => Err(FrameError::Payload(format!(
            "{} trailing bytes",
            rest.len()
        ))),
        Err(e) => Err(FrameError::Payload(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    enum Msg {
        Ping { from: u8, term: u64 },
        Batch(Vec<(u64, String)>),
        Table(BTreeMap<u32, Option<i64>>),
    }

    fn sample() -> Vec<Msg> {
        vec![
            Msg::Ping { from: 2, term: 9 },
            Msg::Batch(vec![(1, "a".into()), (u64::MAX, String::new())]),
            Msg::Table([(3, Some(-4)), (1, None)].into_iter().collect()),
        ]
    }

    #[test]
    fn messages_round_trip() {
        for msg in sample() {
            let frame = encode(&msg).expect("encodes");
            assert_eq!(decode::<Msg>(&frame), Ok(msg));
        }
    }

    #[test]
    fn the_frame_layout_is_version_payload_checksum() {
        let frame = encode(&Msg::Ping { from: 2, term: 9 }).expect("encodes");
        // Variant 0, then the fields as postcard varints.
        assert_eq!(&frame[..4], &[VERSION, 0, 2, 9]);
        let sum = checksum(&frame[..4]).to_le_bytes();
        assert_eq!(&frame[4..], &sum);
    }

    #[test]
    fn encode_into_reuses_and_replaces_the_buffer() {
        let mut buf = vec![0xff; 100];
        encode_into(&Msg::Ping { from: 1, term: 1 }, &mut buf).expect("encodes");
        assert_eq!(
            buf,
            encode(&Msg::Ping { from: 1, term: 1 }).expect("encodes")
        );
    }

    #[test]
    fn every_truncation_and_bit_flip_is_rejected() {
        for msg in sample() {
            let frame = encode(&msg).expect("encodes");
            for len in 0..frame.len() {
                assert!(
                    decode::<Msg>(&frame[..len]).is_err(),
                    "prefix of {len} bytes accepted"
                );
            }
            for bit in 0..frame.len() * 8 {
                let mut bad = frame.clone();
                bad[bit / 8] ^= 1 << (bit % 8);
                assert!(decode::<Msg>(&bad).is_err(), "flipped bit {bit} accepted");
            }
        }
    }

    #[test]
    fn an_intact_frame_of_another_type_is_a_payload_error() {
        let frame = encode(&"not a Msg".to_string()).expect("encodes");
        assert!(matches!(decode::<Msg>(&frame), Err(FrameError::Payload(_))));
        let frame = encode(&(0u8, 1u8, 2u8, 3u8)).expect("encodes");
        assert_eq!(
            decode::<(u8, u8)>(&frame),
            Err(FrameError::Payload("2 trailing bytes".into()))
        );
    }

    #[test]
    fn random_bytes_never_panic_and_are_rejected() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let mut accepted = 0;
        for _ in 0..20_000 {
            let len = rng.random_range(0..200);
            let mut bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            if len > 0 && rng.random_bool(0.5) {
                bytes[0] = VERSION;
            }
            if decode::<Msg>(&bytes).is_ok() {
                accepted += 1;
            }
        }
        assert_eq!(accepted, 0);
    }
}
