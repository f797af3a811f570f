//! A log entry on disk: `[len: u32 LE][checksum: u32 LE][postcard Entry]`, with squall's frame
//! checksum ([`crate::node::frame::checksum`]), so that recovery can tell a whole, intact
//! record from a torn or garbled tail.

use super::Entry;
use crate::node::frame::checksum;

/// Encodes one log entry as a disk record.
pub fn encode_record(entry: &Entry) -> Vec<u8> {
    let payload = postcard::to_allocvec(entry).unwrap_or_default();
    let mut out = Vec::with_capacity(payload.len() + 8);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&checksum(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    out
}

/// Decodes the disk record at the start of `bytes`: the entry and the record's length, or
/// `None` if the bytes there are not a whole, intact record (a torn or garbled tail). The
/// checksum is verified only if `verify` (the planted `unverified-records` bug does not).
pub fn decode_record(bytes: &[u8], verify: bool) -> Option<(Entry, usize)> {
    if bytes.len() < 8 {
        return None;
    }
    let len = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    let sum = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    let payload = bytes.get(8..8usize.checked_add(len)?)?;
    if verify && checksum(payload) != sum {
        return None;
    }
    let entry = postcard::from_bytes::<Entry>(payload).ok()?;
    Some((entry, 8 + len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::systems::raft::messages::Command;
    use crate::workload::kv::KvOp;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn records_round_trip_and_torn_records_are_rejected() {
        let entry = Entry {
            term: 2,
            command: Command::Kv {
                client: 1,
                seq: 9,
                op: KvOp::Put { key: 0, value: 3 },
            },
        };
        let rec = encode_record(&entry);
        assert_eq!(decode_record(&rec, true), Some((entry, rec.len())));
        for len in 0..rec.len() {
            assert_eq!(decode_record(&rec[..len], true), None);
        }
    }

    #[test]
    fn every_bit_flip_is_rejected_unless_the_checksum_is_skipped() {
        let entry = Entry {
            term: 3,
            command: Command::Kv {
                client: 2,
                seq: 5,
                op: KvOp::Put { key: 1, value: 7 },
            },
        };
        let rec = encode_record(&entry);
        let mut trusted_differently = 0;
        for bit in 0..rec.len() * 8 {
            let mut bad = rec.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(
                decode_record(&bad, true),
                None,
                "flipped bit {bit} accepted"
            );
            if decode_record(&bad, false).is_some_and(|(e, _)| e != entry) {
                trusted_differently += 1;
            }
        }
        assert!(
            trusted_differently > 0,
            "without the checksum, flips become other entries"
        );
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        for _ in 0..20_000 {
            let len = rng.random_range(0..200);
            let bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            let _ = decode_record(&bytes, true);
            let _ = decode_record(&bytes, false);
        }
    }
}
