//! Interning of model states: each distinct state gets a dense `u32` id.
//!
//! The states live once, in a `Vec` indexed by id; an open-addressing table of
//! (32 hash bits, id) slots finds a state's id. (A `HashMap<State, u32>` beside the `Vec`
//! would store every state twice, and dropping and rehashing those copies showed in
//! profiles.)

use super::memo::fmix64;
use super::memory::{table_growth, vec_growth};
use std::hash::{BuildHasher, BuildHasherDefault, Hash};

use super::wgl::MixHasher;

/// Distinct states by id.
pub(crate) struct Interner<S> {
    /// `hash >> 32 << 32 | (id + 1)`, 0 = empty.
    slots: Vec<u64>,
    /// Full hash of each state, to regrow the table without rehashing states.
    hashes: Vec<u64>,
    states: Vec<S>,
}

impl<S: Hash + Eq> Interner<S> {
    /// An interner holding `init` as id 0.
    pub(crate) fn new(init: S) -> Self {
        let mut i = Interner {
            slots: vec![0; 64],
            hashes: Vec::new(),
            states: Vec::new(),
        };
        i.intern(init);
        i
    }

    fn hash(s: &S) -> u64 {
        fmix64(BuildHasherDefault::<MixHasher>::default().hash_one(s))
    }

    /// The id of `s`, adding it if new.
    pub(crate) fn intern(&mut self, s: S) -> u32 {
        if (self.states.len() + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let hash = Self::hash(&s);
        let tag = hash & !0xffff_ffff;
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            let slot = self.slots[i];
            if slot == 0 {
                let id = self.states.len();
                self.slots[i] = tag | (id as u64 + 1);
                self.hashes.push(hash);
                self.states.push(s);
                return id as u32;
            }
            let id = ((slot & 0xffff_ffff) - 1) as usize;
            if slot & !0xffff_ffff == tag && self.hashes[id] == hash && self.states[id] == s {
                return id as u32;
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let cap = self.slots.len() * 2;
        let mask = cap - 1;
        let mut slots = vec![0u64; cap];
        for (id, &h) in self.hashes.iter().enumerate() {
            let mut i = h as usize & mask;
            while slots[i] != 0 {
                i = (i + 1) & mask;
            }
            slots[i] = (h & !0xffff_ffff) | (id as u64 + 1);
        }
        self.slots = slots;
    }

    /// The state with this id.
    #[inline]
    pub(crate) fn get(&self, id: u32) -> &S {
        &self.states[id as usize]
    }

    /// Number of distinct states.
    pub(crate) fn len(&self) -> usize {
        self.states.len()
    }

    /// Resident bytes `inserts` more states may add at once, beyond the states themselves: a
    /// rebuilt table, copied state and hash buffers.
    pub(crate) fn growth_within(&self, inserts: usize) -> usize {
        let n = self.states.len();
        let table = if (n + inserts) * 2 > self.slots.len() {
            table_growth(self.slots.len(), 8)
        } else {
            0
        };
        table
            + vec_growth(n, self.hashes.capacity(), inserts, 8)
            + vec_growth(n, self.states.capacity(), inserts, std::mem::size_of::<S>())
    }

    /// Approximate heap bytes (excluding what states point to).
    pub(crate) fn bytes(&self) -> usize {
        self.slots.capacity() * 8
            + self.hashes.capacity() * 8
            + self.states.capacity() * (std::mem::size_of::<S>() + 16)
    }
}
