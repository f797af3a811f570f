//! The Raft log in memory, with its chain digests, and its on-disk format.
//!
//! The log file is a sequence of records (`[len][checksum][postcard Entry]`, see
//! [`encode_record`]); entry `i` (1-based) is record `i - 1`. Appends and truncations go to
//! the [`Disk`] as they happen and become durable at [`Log::sync`]; the node syncs before it
//! answers any RPC or counts its own entry (Raft §5, Figure 2: "persistent state ... updated on
//! stable storage before responding to RPCs").
//!
//! Recovery reads records until the first one that is not whole and intact. What follows it
//! must be a torn tail: the zeros a power loss in the middle of an append leaves (the file's
//! size reached the disk, its data did not), which recovery truncates. Anything else is
//! corruption of data the node synced — a flipped bit in a record, its length or its checksum
//! — and recovery refuses ([`Corrupt`]): the node must not rejoin with entries missing that it
//! may have acknowledged, nor with one it cannot verify (etcd likewise refuses to start on a
//! WAL CRC mismatch). The meta file is one checksummed record, refused the same way when it
//! fails its checksum. (A real disk could also tear an append into a partial record; this
//! store would refuse that too: telling it from bit rot takes more than a per-record checksum,
//! as TigerBeetle's redundant headers show.)
//!
//! Each entry carries two digests: the entry's own (`fnv64` of its encoding, term included) and
//! a chain digest `mix(chain[i-1], entry[i])`. Equal chain digests at an index mean equal log
//! prefixes, which lets the checker test Log Matching and Leader Completeness in O(1).

use super::messages::{decode_record, encode_record, fnv64, mix, Entry, Index, Term};
use crate::node::disk::Disk;
use serde::{Deserialize, Serialize};

/// The log file's name on the node's disk.
pub const LOG_FILE: &str = "raft.log";
/// The term/vote file's name.
pub const META_FILE: &str = "raft.meta";

/// The two digests of an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Digests {
    /// Digest of the entry alone (term and command).
    pub entry: u64,
    /// Digest of the whole prefix ending at the entry.
    pub chain: u64,
}

/// The in-memory log.
#[derive(Default)]
pub struct Log {
    entries: Vec<Entry>,
    digests: Vec<Digests>,
    /// Byte offset of each entry's record in the log file.
    offsets: Vec<usize>,
    /// The file's length as this log wrote it.
    file_len: usize,
}

/// Why a node refuses to recover from its disk: a record it synced fails verification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Corrupt(pub String);

/// What recovery found.
pub struct Recovered {
    /// The log read back.
    pub log: Log,
    /// Bytes of torn or garbled tail that were cut off.
    pub torn_bytes: usize,
}

impl Log {
    /// Reads the log from `disk`, truncating a torn tail of zeros (the truncation is synced);
    /// refuses a log with any other unreadable bytes. Records' checksums are verified unless
    /// `verify` is off (only the planted `unverified-records` bug turns it off).
    pub fn recover(disk: &Disk, verify: bool) -> Result<Recovered, Corrupt> {
        let bytes = disk.read(LOG_FILE);
        let mut log = Log::default();
        let mut at = 0;
        while at < bytes.len() {
            let Some((entry, len)) = decode_record(&bytes[at..], verify) else {
                break;
            };
            log.push(entry, &bytes[at + 8..at + len], at);
            at += len;
        }
        if bytes[at..].iter().any(|b| *b != 0) {
            return Err(Corrupt(format!(
                "the log record at byte {at} of {} (entry {}) fails verification and is not a torn tail",
                bytes.len(),
                log.last_index() + 1
            )));
        }
        log.file_len = at;
        let torn_bytes = bytes.len() - at;
        if torn_bytes > 0 {
            disk.truncate(LOG_FILE, at);
            disk.sync(LOG_FILE);
        }
        Ok(Recovered { log, torn_bytes })
    }

    fn push(&mut self, entry: Entry, payload: &[u8], offset: usize) {
        let entry_digest = fnv64(payload);
        let chain = mix(self.digests.last().map_or(0, |d| d.chain), entry_digest);
        self.entries.push(entry);
        self.digests.push(Digests {
            entry: entry_digest,
            chain,
        });
        self.offsets.push(offset);
    }

    /// Bytes of the log's records (about what its entries take in memory too).
    pub fn bytes(&self) -> u64 {
        self.file_len as u64
    }

    /// Index of the last entry (0 when empty).
    pub fn last_index(&self) -> Index {
        self.entries.len() as Index
    }

    /// Term of the last entry (0 when empty).
    pub fn last_term(&self) -> Term {
        self.entries.last().map_or(0, |e| e.term)
    }

    /// Term of entry `index`; `Some(0)` for index 0, `None` past the end.
    pub fn term_at(&self, index: Index) -> Option<Term> {
        if index == 0 {
            return Some(0);
        }
        self.entries.get(index as usize - 1).map(|e| e.term)
    }

    /// Entry `index` (1-based).
    pub fn entry(&self, index: Index) -> Option<&Entry> {
        index
            .checked_sub(1)
            .and_then(|i| self.entries.get(i as usize))
    }

    /// Digests of entry `index`.
    pub fn digests(&self, index: Index) -> Option<Digests> {
        index
            .checked_sub(1)
            .and_then(|i| self.digests.get(i as usize))
            .copied()
    }

    /// Chain digest at `index` (0 for index 0).
    pub fn chain(&self, index: Index) -> u64 {
        self.digests(index).map_or(0, |d| d.chain)
    }

    /// Up to `max` entries starting at `from` (cloned, for an AppendEntries).
    pub fn entries_from(&self, from: Index, max: usize) -> Vec<Entry> {
        let start = (from.max(1) - 1) as usize;
        if start >= self.entries.len() {
            return Vec::new();
        }
        let end = (start + max).min(self.entries.len());
        self.entries[start..end].to_vec()
    }

    /// The first index of the run of entries with `term` that contains `index` (the conflict
    /// hint of thesis §5.3, so the leader skips a whole term per round trip).
    pub fn first_index_of_term_at(&self, index: Index) -> Index {
        let Some(term) = self.term_at(index) else {
            return self.last_index() + 1;
        };
        let mut i = index;
        while i > 1 && self.term_at(i - 1) == Some(term) {
            i -= 1;
        }
        i
    }

    /// Appends an entry (written, not yet synced); returns its index and digests.
    pub fn append(&mut self, disk: &Disk, entry: Entry) -> (Index, Digests) {
        let record = encode_record(&entry);
        disk.append(LOG_FILE, &record);
        let offset = self.file_len;
        self.file_len += record.len();
        self.push(entry, &record[8..], offset);
        let index = self.last_index();
        (index, self.digests[index as usize - 1])
    }

    /// Removes entries `from..` (written, not yet synced).
    pub fn truncate_from(&mut self, disk: &Disk, from: Index) {
        let keep = (from.max(1) - 1) as usize;
        if keep >= self.entries.len() {
            return;
        }
        let offset = self.offsets[keep];
        self.entries.truncate(keep);
        self.digests.truncate(keep);
        self.offsets.truncate(keep);
        self.file_len = offset;
        disk.truncate(LOG_FILE, offset);
    }

    /// Makes the log durable.
    pub fn sync(&self, disk: &Disk) {
        disk.sync(LOG_FILE);
    }

    /// Every entry's (term, chain digest), for republishing after a restart.
    pub fn summary(&self) -> Vec<(Term, u64)> {
        self.entries
            .iter()
            .zip(&self.digests)
            .map(|(e, d)| (e.term, d.chain))
            .collect()
    }
}

/// The persistent term and vote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// Latest term the node has seen.
    pub term: Term,
    /// Whom it voted for in that term.
    pub voted_for: Option<u8>,
}

impl Meta {
    /// Reads the meta file (a missing one is the initial state); refuses one that fails its
    /// checksum or does not decode. A node that recovered a default meta instead would forget
    /// its vote and could vote twice in one term.
    pub fn load(disk: &Disk) -> Result<Meta, Corrupt> {
        let bytes = disk.read(META_FILE);
        if bytes.is_empty() {
            return Ok(Meta::default());
        }
        let garbled = || {
            Corrupt(format!(
                "the meta file ({} bytes) fails its checksum",
                bytes.len()
            ))
        };
        let Some(split) = bytes.len().checked_sub(8) else {
            return Err(garbled());
        };
        let (body, sum) = bytes.split_at(split);
        let sum = u64::from_le_bytes(sum.try_into().map_err(|_| garbled())?);
        if fnv64(body) != sum {
            return Err(garbled());
        }
        postcard::from_bytes(body).map_err(|_| garbled())
    }

    /// Writes the meta file; durable only if `sync`.
    pub fn store(&self, disk: &Disk, sync: bool) {
        let mut bytes = postcard::to_allocvec(self).unwrap_or_default();
        let sum = fnv64(&bytes);
        bytes.extend_from_slice(&sum.to_le_bytes());
        disk.replace(META_FILE, &bytes);
        if sync {
            disk.sync(META_FILE);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::systems::raft::messages::Command;

    fn noop(term: Term) -> Entry {
        Entry {
            term,
            command: Command::Noop,
        }
    }

    #[test]
    fn recovery_cuts_a_torn_tail_and_keeps_whole_records() {
        let disk = Disk::new();
        let mut log = Log::default();
        log.append(&disk, noop(1));
        log.append(&disk, noop(2));
        log.sync(&disk);
        let whole = disk.len(LOG_FILE);
        // Zeros in place of half a record, as a power loss mid-append leaves it.
        let record = encode_record(&noop(3));
        disk.append(LOG_FILE, &vec![0; record.len() / 2]);
        let recovered = Log::recover(&disk, true).expect("a torn tail is no corruption");
        assert_eq!(recovered.torn_bytes, record.len() / 2);
        assert_eq!(recovered.log.summary(), log.summary());
        assert_eq!(disk.len(LOG_FILE), whole);
        // The recovered log appends where the intact records end.
        let mut again = recovered.log;
        again.append(&disk, noop(3));
        assert_eq!(
            Log::recover(&disk, true).expect("intact").log.last_term(),
            3
        );
    }

    #[test]
    fn a_flipped_bit_anywhere_in_the_log_is_refused_not_cut() {
        let disk = Disk::new();
        let mut log = Log::default();
        for term in 1..=3 {
            log.append(&disk, noop(term));
        }
        log.sync(&disk);
        let len = disk.len(LOG_FILE);
        for offset in 0..len {
            for bit in 0..8 {
                disk.flip_bit(LOG_FILE, offset, bit).expect("synced");
                let recovered = Log::recover(&disk, true);
                assert!(
                    recovered.is_err(),
                    "bit {bit} of byte {offset} was not detected"
                );
                disk.flip_bit(LOG_FILE, offset, bit).expect("synced");
            }
        }
        assert_eq!(
            Log::recover(&disk, true).expect("intact").log.summary(),
            log.summary()
        );
    }

    #[test]
    fn meta_round_trips_and_garbage_is_detected() {
        let disk = Disk::new();
        assert_eq!(Meta::load(&disk), Ok(Meta::default()));
        let meta = Meta {
            term: 7,
            voted_for: Some(2),
        };
        meta.store(&disk, true);
        assert_eq!(Meta::load(&disk), Ok(meta));
        for offset in 0..disk.len(META_FILE) {
            for bit in 0..8 {
                disk.flip_bit(META_FILE, offset, bit).expect("synced");
                assert!(Meta::load(&disk).is_err(), "bit {bit} of byte {offset}");
                disk.flip_bit(META_FILE, offset, bit).expect("synced");
            }
        }
        disk.replace(META_FILE, b"garbage!!");
        assert!(Meta::load(&disk).is_err());
        disk.replace(META_FILE, b"short");
        assert!(Meta::load(&disk).is_err());
    }
}
