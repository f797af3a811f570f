//! The memo of visited search configurations: (linearized set, model state) pairs.
//!
//! A hand-rolled open-addressing set, because the key is a bitset that we do not want to
//! allocate per lookup, and because its hash is maintained incrementally by the search
//! (Zobrist hashing: the XOR of one random word per linearized operation), so hashing a
//! configuration costs O(1) instead of O(bitset). Equality is still checked exactly on the
//! stored bitset, so a hash collision never changes a verdict.
//!
//! Layout, for cache behaviour (the memo is the hottest structure of the search): each slot
//! packs 32 bits of the hash with the entry index, so most probes of a different key cost no
//! access beyond the slot; each entry is one contiguous record `[state, bits...]`, so
//! confirming a hit touches one more cache line or two.

use super::memory::{table_growth, vec_growth};

/// Marks an empty slot.
const EMPTY: u64 = 0;

/// A set of (state, bitset) pairs with their hashes.
pub(crate) struct Memo {
    /// Words per bitset.
    words: usize,
    /// Open-addressing table: `hash >> 32 << 32 | (entry index + 1)`, 0 = empty.
    slots: Vec<u64>,
    /// Records of `1 + words` words: the low 32 bits of the hash and the state in one word,
    /// then the bitset. With the slot's high 32 bits, the full hash is kept for [`Self::grow`].
    records: Vec<u64>,
    len: usize,
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
            slots: vec![EMPTY; 256],
            records: Vec::new(),
            len: 0,
        }
    }

    /// Number of stored configurations.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Approximate heap bytes used.
    pub(crate) fn bytes(&self) -> usize {
        self.slots.capacity() * 8 + self.records.capacity() * 8
    }

    /// Resident bytes `inserts` more entries may add at once, beyond the entries themselves:
    /// a rebuilt table, a copied record buffer.
    pub(crate) fn growth_within(&self, inserts: usize) -> usize {
        let table = if (self.len + inserts) * 2 > self.slots.len() {
            table_growth(self.slots.len(), 8)
        } else {
            0
        };
        let stride = 1 + self.words;
        table
            + vec_growth(
                self.records.len(),
                self.records.capacity(),
                inserts * stride,
                8,
            )
    }

    #[inline]
    fn hash(lin_hash: u64, state: u32) -> u64 {
        fmix64(lin_hash ^ (u64::from(state) + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    /// Inserts the configuration; returns true if it was not there before.
    #[inline]
    pub(crate) fn insert(&mut self, lin_hash: u64, state: u32, bits: &[u64]) -> bool {
        debug_assert_eq!(bits.len(), self.words);
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let hash = Self::hash(lin_hash, state);
        let tag = hash & !0xffff_ffff;
        let mask = self.slots.len() - 1;
        let stride = 1 + self.words;
        let head = (hash << 32) | u64::from(state);
        let mut i = hash as usize & mask;
        loop {
            let s = self.slots[i];
            if s == EMPTY {
                // Entry count is bounded by the memory budget, far below 2^32.
                self.len += 1;
                self.slots[i] = tag | self.len as u64;
                self.records.push(head);
                self.records.extend_from_slice(bits);
                return true;
            }
            if s & !0xffff_ffff == tag {
                let e = ((s & 0xffff_ffff) - 1) as usize;
                let r = &self.records[e * stride..(e + 1) * stride];
                if r[0] == head && r[1..].iter().zip(bits).all(|(a, b)| a == b) {
                    return false;
                }
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let cap = self.slots.len() * 2;
        let mask = cap - 1;
        let mut slots = vec![EMPTY; cap];
        let stride = 1 + self.words;
        for &s in self.slots.iter().filter(|&&s| s != EMPTY) {
            let e = ((s & 0xffff_ffff) - 1) as usize;
            let hash = (s & !0xffff_ffff) | (self.records[e * stride] >> 32);
            let mut i = hash as usize & mask;
            while slots[i] != EMPTY {
                i = (i + 1) & mask;
            }
            slots[i] = s;
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
        for i in 0..5000u64 {
            assert!(!m.insert(i.wrapping_mul(12345), 3, &[i, 0]));
        }
    }
}
