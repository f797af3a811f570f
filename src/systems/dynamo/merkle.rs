//! Anti-entropy hash trees: for each pair of nodes, a tree over the keys both replicate.
//! Keys fall into [`LEAVES`] ranges (by key index); a leaf hashes the (key, entry digest)
//! pairs of its range in key order, and the root hashes the leaves. Two nodes exchange roots
//! and, on a mismatch, leaves, then the entries of the ranges that differ.

use super::version::Entry;
use crate::node::frame::fnv64;
use std::collections::BTreeMap;

/// Number of key ranges (leaves).
pub const LEAVES: usize = 4;

/// The leaf a key falls in.
pub fn leaf_of(key: u8) -> usize {
    usize::from(key) % LEAVES
}

/// The leaves over `keys` (the keys both nodes replicate), hashing each entry with `digest`
/// (an absent entry hashes as the empty one).
pub fn leaves(
    keys: &[u8],
    entries: &BTreeMap<u8, Entry>,
    digest: impl Fn(u8, &Entry) -> u64,
) -> Vec<u64> {
    let mut bytes: Vec<Vec<u8>> = vec![Vec::new(); LEAVES];
    let empty = Entry::default();
    for &k in keys {
        let d = digest(k, entries.get(&k).unwrap_or(&empty));
        let leaf = &mut bytes[leaf_of(k)];
        leaf.push(k);
        leaf.extend_from_slice(&d.to_le_bytes());
    }
    bytes.iter().map(|b| fnv64(b)).collect()
}

/// The root over leaves.
pub fn root(leaves: &[u64]) -> u64 {
    let bytes: Vec<u8> = leaves.iter().flat_map(|l| l.to_le_bytes()).collect();
    fnv64(&bytes)
}

/// The keys of `keys` in leaves that differ between `mine` and `theirs` (all of them if the
/// trees have different shapes).
pub fn differing(keys: &[u8], mine: &[u64], theirs: &[u64]) -> Vec<u8> {
    keys.iter()
        .copied()
        .filter(|k| {
            let l = leaf_of(*k);
            mine.len() != theirs.len() || mine.get(l) != theirs.get(l)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::systems::dynamo::version::{Dot, Resolve, Sibling, Vv};

    #[test]
    fn an_update_changes_its_leaf_and_the_root_and_nothing_else() {
        let keys = [0u8, 1, 2, 5];
        let mut a: BTreeMap<u8, Entry> = BTreeMap::new();
        let b = a.clone();
        let s = Sibling {
            dot: Dot {
                actor: 0,
                counter: 1,
            },
            id: "x".into(),
            value: Some(1),
            ts: Default::default(),
        };
        a.entry(5)
            .or_default()
            .write(&Vv::default(), s, Resolve::Siblings);
        let full = |_: u8, e: &Entry| e.digest();
        let (la, lb) = (leaves(&keys, &a, full), leaves(&keys, &b, full));
        assert_ne!(root(&la), root(&lb));
        assert_eq!(differing(&keys, &la, &lb), vec![1, 5]);
        assert_eq!(leaves(&keys, &a, full), la);
    }
}
