//! The runner's side of corruption ([`crate::node::corrupt`]): which synced byte of a node's
//! disk a `corrupt-disk nX` step hits.
//!
//! The byte is drawn uniformly from every byte the node has synced and not rewritten since
//! ([`Disk::synced_bytes`]), so files are hit in proportion to their size, as bit rot hits a
//! medium; the bit within it uniformly too. Both draws come from the runner's seeded RNG.
//!
//! When it strikes: at once, on the media and in the page cache. A running node keeps what
//! it recovered in memory and reads its files only when it starts, so it meets the damage at
//! its next restart — unless it rewrites those bytes first (a truncation and append of its
//! log, a new term or vote), which repairs them as a real rewrite would. A node that is down
//! meets it when it restarts. Either way the node's disk counts as corrupted for the rest of
//! the run ([`crate::systems::Faults::corrupted`]).

use crate::node::Disk;
use rand::Rng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// Flips one random bit of one random synced byte of `disk`; returns what it did, for the
/// trace, or `None` if the disk has nothing synced (the step then does nothing).
pub(super) fn corrupt_disk(disk: &Disk, rng: &mut Xoshiro256PlusPlus) -> Option<String> {
    let files = disk.synced_bytes();
    let total: usize = files.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return None;
    }
    let mut at = rng.random_range(0..total);
    let bit = rng.random_range(0..8u8);
    for (name, len) in files {
        if at < len {
            let (old, new) = disk.flip_bit(&name, at, bit)?;
            return Some(format!(
                "flipped bit {bit} of byte {at} of {name} ({old:#04x} -> {new:#04x})"
            ));
        }
        at -= len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_flip_lands_in_a_synced_byte_or_nowhere() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let disk = Disk::new();
        assert_eq!(corrupt_disk(&disk, &mut rng), None);
        disk.append("log", &[0u8; 64]);
        disk.append("log", &[7u8; 64]);
        assert_eq!(corrupt_disk(&disk, &mut rng), None, "nothing synced yet");
        disk.sync("log");
        disk.append("log", &[9u8; 64]);
        for _ in 0..50 {
            let what = corrupt_disk(&disk, &mut rng).expect("flips");
            assert!(what.contains("of log"), "{what}");
        }
        let bytes = disk.read("log");
        let changed = bytes[..128]
            .iter()
            .enumerate()
            .filter(|(i, b)| **b != if *i < 64 { 0 } else { 7 })
            .count();
        assert!(changed > 0, "synced bytes were hit");
        assert!(
            bytes[128..].iter().all(|b| *b == 9),
            "unsynced bytes never are"
        );
    }
}
