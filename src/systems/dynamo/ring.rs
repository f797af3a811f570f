//! The consistent-hash ring: every node owns a few tokens (virtual nodes) on a 64-bit ring;
//! a key's preference list is the distinct nodes met walking clockwise from the key's hash.
//! The first N are its home replicas; the ones after are the fallbacks a sloppy quorum uses.
//! Hashing is FNV-1a over fixed bytes, so every node (and every run) computes the same ring.

use crate::node::frame::fnv64;

/// FNV-1a of `bytes`, mixed (splitmix64's finalizer): FNV alone leaves short, similar
/// names such as `k0`..`k4` next to each other on the ring.
fn position(bytes: &[u8]) -> u64 {
    let mut z = fnv64(bytes);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Tokens per node.
const TOKENS: u8 = 4;

/// The ring of a cluster.
#[derive(Clone, Debug)]
pub struct Ring {
    /// (token, node), sorted.
    tokens: Vec<(u64, u8)>,
    nodes: u8,
}

impl Ring {
    /// The ring of `nodes` nodes.
    pub fn new(nodes: u8) -> Ring {
        let mut tokens: Vec<(u64, u8)> = (0..nodes)
            .flat_map(|n| (0..TOKENS).map(move |t| (position(format!("n{n}/{t}").as_bytes()), n)))
            .collect();
        tokens.sort_unstable();
        Ring { tokens, nodes }
    }

    /// Every node, in preference order for `key`.
    pub fn preference(&self, key: u8) -> Vec<u8> {
        let h = position(format!("k{key}").as_bytes());
        let start = self.tokens.partition_point(|(t, _)| *t < h);
        let mut out = Vec::with_capacity(usize::from(self.nodes));
        for i in 0..self.tokens.len() {
            let (_, n) = self.tokens[(start + i) % self.tokens.len()];
            if !out.contains(&n) {
                out.push(n);
            }
        }
        out
    }

    /// The first `n` nodes of the preference list: the key's home replicas.
    pub fn homes(&self, key: u8, n: u8) -> Vec<u8> {
        let mut p = self.preference(key);
        p.truncate(usize::from(n));
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_distinct_homes_and_the_lists_spread_over_the_nodes() {
        let ring = Ring::new(5);
        let mut firsts = std::collections::BTreeSet::new();
        for k in 0..5 {
            let p = ring.preference(k);
            assert_eq!(p.len(), 5);
            let mut sorted = p.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), 5);
            assert_eq!(ring.homes(k, 3), p[..3].to_vec());
            firsts.insert(p[0]);
        }
        assert!(firsts.len() >= 3, "{firsts:?}");
        for k in 0..5 {
            eprintln!("k{k}: {:?}", ring.preference(k));
        }
        assert_eq!(Ring::new(1).homes(3, 3), vec![0]);
    }
}
