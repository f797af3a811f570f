//! The memo of visited search configurations: (linearized set, model state) pairs.
//!
//! A hand-rolled open-addressing set, because the key is a bitset that we do not want to
//! allocate per lookup, and because its hash is maintained incrementally by the search
//! (Zobrist hashing: the XOR of one random word per linearized operation), so hashing a
//! configuration costs O(1) instead of O(bitset). Equality is still checked exactly on the
//! stored bitset, so a hash collision never changes a verdict.

/// Marks an empty slot.
const EMPTY: u32 = 0;

/// A set of (hash, state, bitset) triples; the bitsets live in one flat arena.
pub(crate) struct Memo {
    /// Words per bitset.
    words: usize,
    /// Open-addressing table of entry index + 1 (0 = empty).
    slots: Vec<u32>,
    hashes: Vec<u64>,
    states: Vec<u32>,
    bits: Vec<u64>,
}

/// Final mixing so that both halves of the combined hash spread over the table.
#[inline]
pub(crate) fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

impl Memo {
    /// An empty memo for bitsets of `words` 64-bit words.
    pub(crate) fn new(words: usize) -> Self {
        Memo {
            words,
            slots: vec![EMPTY; 1024],
            hashes: Vec::new(),
            states: Vec::new(),
            bits: Vec::new(),
        }
    }

    /// Number of stored configurations.
    pub(crate) fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Approximate heap bytes used.
    pub(crate) fn bytes(&self) -> usize {
        self.slots.capacity() * 4
            + self.hashes.capacity() * 8
            + self.states.capacity() * 4
            + self.bits.capacity() * 8
    }

    /// Inserts the configuration; returns true if it was not there before.
    #[inline]
    pub(crate) fn insert(&mut self, lin_hash: u64, state: u32, bits: &[u64]) -> bool {
        debug_assert_eq!(bits.len(), self.words);
        if (self.hashes.len() + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let hash = fmix64(lin_hash ^ (u64::from(state) + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        let w = self.words;
        loop {
            let s = self.slots[i];
            if s == EMPTY {
                let e = self.hashes.len();
                // Entry count is bounded by the memory budget, far below u32::MAX.
                self.slots[i] = (e + 1) as u32;
                self.hashes.push(hash);
                self.states.push(state);
                self.bits.extend_from_slice(bits);
                return true;
            }
            let e = (s - 1) as usize;
            if self.hashes[e] == hash
                && self.states[e] == state
                && self.bits[e * w..(e + 1) * w] == *bits
            {
                return false;
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let cap = self.slots.len() * 2;
        let mask = cap - 1;
        let mut slots = vec![EMPTY; cap];
        for (e, &h) in self.hashes.iter().enumerate() {
            let mut i = h as usize & mask;
            while slots[i] != EMPTY {
                i = (i + 1) & mask;
            }
            slots[i] = (e + 1) as u32;
        }
        self.slots = slots;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_detects_duplicates_exactly() {
        let mut m = Memo::new(2);
        assert!(m.insert(7, 0, &[1, 2]));
        assert!(!m.insert(7, 0, &[1, 2]));
        // Same hash, different bits or state: distinct configurations.
        assert!(m.insert(7, 0, &[1, 3]));
        assert!(m.insert(7, 1, &[1, 2]));
        for i in 0..5000u64 {
            assert!(m.insert(i.wrapping_mul(12345), 3, &[i, 0]));
        }
        assert_eq!(m.len(), 5003);
        assert!(!m.insert(7, 1, &[1, 2]));
    }
}
