//! A harness-owned durable disk, one per node, with explicit sync.
//!
//! A node writes files through [`Disk`]; writes land in the "page cache" (visible to reads at
//! once) and become durable only at [`Disk::sync`]. The harness holds the same disk across the
//! node's incarnations: a process crash keeps everything written (the OS had it), a power loss
//! ([`Disk::power_loss`]) throws away what was not synced, and one in the middle of an append
//! ([`Disk::tear`]) also leaves a log with a torn tail. Reads during recovery therefore see
//! what a real machine would.
//!
//! Files are byte vectors addressed by name; the operations are the ones a log and a small
//! state file need (append, truncate, replace), kept as a list of pending operations so that
//! a sync costs what was written since the last one, not the file's size.

use super::points::Points;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

#[derive(Default)]
struct File {
    /// What survives power loss.
    durable: Vec<u8>,
    /// What reads see.
    current: Vec<u8>,
    /// Operations on `current` since the last sync, to replay onto `durable`.
    pending: Vec<Pending>,
    /// Whether the last operation on the file was an append: a log, which a power loss in
    /// the middle of its next append can leave with a torn tail.
    appending: bool,
}

enum Pending {
    Append(usize),
    Truncate(usize),
    Replace,
}

#[derive(Default)]
struct DiskState {
    files: BTreeMap<String, File>,
    lost_writes: u64,
    syncs: u64,
}

/// A node's disk. Cloning gives another handle to the same disk.
#[derive(Clone, Default)]
pub struct Disk {
    state: Rc<RefCell<DiskState>>,
    /// The node's crash points: the disk marks `disk-write` and `disk-sync`, and ignores
    /// every write and sync once the node has crashed at an armed point.
    points: Points,
}

impl Disk {
    /// An empty disk.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty disk that marks its crash points in `points`.
    pub fn with_points(points: Points) -> Self {
        Disk {
            state: Rc::default(),
            points,
        }
    }

    /// The file's current contents (empty if it does not exist).
    pub fn read(&self, name: &str) -> Vec<u8> {
        self.state
            .borrow()
            .files
            .get(name)
            .map(|f| f.current.clone())
            .unwrap_or_default()
    }

    /// The file's current length.
    pub fn len(&self, name: &str) -> usize {
        self.state
            .borrow()
            .files
            .get(name)
            .map_or(0, |f| f.current.len())
    }

    /// Bytes the disk holds for the node: every file's current contents, plus what a power
    /// loss would restore that differs (the durable copy of a file rewritten since its last
    /// sync). What the bounded-memory check measures of a node's disk.
    pub fn stored_bytes(&self) -> u64 {
        let state = self.state.borrow();
        state
            .files
            .values()
            .map(|f| {
                let durable = if f.pending.is_empty() {
                    0
                } else {
                    f.durable.len()
                };
                (f.current.len() + durable) as u64
            })
            .sum()
    }

    /// Whether the file is empty or absent.
    pub fn is_empty(&self, name: &str) -> bool {
        self.len(name) == 0
    }

    /// Appends bytes to the file (not yet durable).
    pub fn append(&self, name: &str, bytes: &[u8]) {
        if self.points.is_crashed() {
            return;
        }
        {
            let mut state = self.state.borrow_mut();
            let file = state.files.entry(name.to_string()).or_default();
            let at = file.current.len();
            file.current.extend_from_slice(bytes);
            file.pending.push(Pending::Append(at));
            file.appending = true;
        }
        self.points.pass("disk-write");
    }

    /// Cuts the file to `len` bytes (not yet durable).
    pub fn truncate(&self, name: &str, len: usize) {
        if self.points.is_crashed() {
            return;
        }
        {
            let mut state = self.state.borrow_mut();
            let file = state.files.entry(name.to_string()).or_default();
            if len >= file.current.len() {
                return;
            }
            file.current.truncate(len);
            file.pending.push(Pending::Truncate(len));
            file.appending = false;
        }
        self.points.pass("disk-write");
    }

    /// Replaces the file's contents (not yet durable).
    pub fn replace(&self, name: &str, bytes: &[u8]) {
        if self.points.is_crashed() {
            return;
        }
        {
            let mut state = self.state.borrow_mut();
            let file = state.files.entry(name.to_string()).or_default();
            file.current.clear();
            file.current.extend_from_slice(bytes);
            file.pending.clear();
            file.pending.push(Pending::Replace);
            file.appending = false;
        }
        self.points.pass("disk-write");
    }

    /// Makes everything written to the file durable (fsync).
    pub fn sync(&self, name: &str) {
        if self.points.is_crashed() {
            return;
        }
        self.sync_file(name);
        self.points.pass("disk-sync");
    }

    fn sync_file(&self, name: &str) {
        let mut state = self.state.borrow_mut();
        state.syncs += 1;
        let Some(file) = state.files.get_mut(name) else {
            return;
        };
        if file.pending.iter().any(|p| matches!(p, Pending::Replace)) {
            file.durable.clone_from(&file.current);
        } else {
            for op in &file.pending {
                match *op {
                    Pending::Append(at) => {
                        // Appends replay in order; `at` is where this one started.
                        file.durable.truncate(at);
                    }
                    Pending::Truncate(len) => file.durable.truncate(len),
                    Pending::Replace => {}
                }
            }
            let from = file.durable.len();
            file.durable.extend_from_slice(&file.current[from..]);
        }
        file.pending.clear();
    }

    /// Whether the file has writes that a power loss would lose.
    pub fn is_dirty(&self, name: &str) -> bool {
        self.state
            .borrow()
            .files
            .get(name)
            .is_some_and(|f| !f.pending.is_empty())
    }

    /// Power loss: every unsynced write is lost. Returns how many writes were lost.
    pub fn power_loss(&self) -> u64 {
        let mut state = self.state.borrow_mut();
        let mut lost = 0;
        for file in state.files.values_mut() {
            lost += file.pending.len() as u64;
            file.pending.clear();
            file.current.clone_from(&file.durable);
        }
        state.lost_writes += lost;
        lost
    }

    /// A power loss in the middle of an append, after [`Disk::power_loss`]: each file last
    /// appended to grows by `len` zero bytes — its size reached the disk, the data did not
    /// (what ext4 and XFS can show after a crash mid-append). No valid record reads as zeros
    /// (a record carries a length and a checksum), so a correct recovery finds a torn tail
    /// and cuts it before appending again. Returns the bytes added.
    pub fn tear(&self, len: usize) -> u64 {
        let mut state = self.state.borrow_mut();
        let mut torn = 0;
        for file in state.files.values_mut().filter(|f| f.appending) {
            file.durable.resize(file.durable.len() + len, 0);
            file.current.clone_from(&file.durable);
            torn += len as u64;
        }
        torn
    }

    /// How many fsyncs the node has done.
    pub fn syncs(&self) -> u64 {
        self.state.borrow().syncs
    }

    /// Each file with bytes a bit flip can hit, and how many: the prefix that is synced and
    /// that the page cache still holds unchanged (what the node wrote and made durable, and
    /// has not rewritten since). In name order.
    pub fn synced_bytes(&self) -> Vec<(String, usize)> {
        self.state
            .borrow()
            .files
            .iter()
            .map(|(name, f)| {
                let same = f
                    .durable
                    .iter()
                    .zip(&f.current)
                    .take_while(|(d, c)| d == c)
                    .count();
                (name.clone(), same)
            })
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// Flips bit `bit` (0..8) of byte `offset` of the file, on the media and in the page
    /// cache alike (bit rot under data the node synced, met at its next read of the file).
    /// Returns the byte's old and new value; `None` if `offset` is outside
    /// [`Disk::synced_bytes`].
    pub fn flip_bit(&self, name: &str, offset: usize, bit: u8) -> Option<(u8, u8)> {
        let mut state = self.state.borrow_mut();
        let file = state.files.get_mut(name)?;
        let (old, current) = (*file.durable.get(offset)?, *file.current.get(offset)?);
        if old != current || bit >= 8 {
            return None;
        }
        let new = old ^ (1 << bit);
        file.durable[offset] = new;
        file.current[offset] = new;
        Some((old, new))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_loss_keeps_only_synced_writes() {
        let disk = Disk::new();
        disk.append("log", b"abc");
        disk.sync("log");
        disk.append("log", b"def");
        assert_eq!(disk.read("log"), b"abcdef");
        assert_eq!(disk.power_loss(), 1);
        assert_eq!(disk.read("log"), b"abc");
    }

    #[test]
    fn sync_replays_truncate_then_append() {
        let disk = Disk::new();
        disk.append("log", b"abcdef");
        disk.sync("log");
        disk.truncate("log", 2);
        disk.append("log", b"XY");
        disk.sync("log");
        disk.append("log", b"zz");
        disk.power_loss();
        assert_eq!(disk.read("log"), b"abXY");
    }

    #[test]
    fn unsynced_truncate_is_undone_by_power_loss() {
        let disk = Disk::new();
        disk.append("log", b"abcdef");
        disk.sync("log");
        disk.truncate("log", 1);
        disk.power_loss();
        assert_eq!(disk.read("log"), b"abcdef");
    }

    #[test]
    fn a_torn_append_leaves_zeros_after_the_log_only() {
        let disk = Disk::new();
        disk.append("log", b"abc");
        disk.sync("log");
        disk.replace("vote", b"t1");
        disk.sync("vote");
        disk.power_loss();
        assert_eq!(disk.tear(2), 2);
        assert_eq!(disk.read("log"), b"abc\0\0");
        assert_eq!(disk.read("vote"), b"t1");
        // The zeros are durable: a second power loss keeps them, and cutting them is a
        // truncation like any other.
        disk.power_loss();
        assert_eq!(disk.read("log"), b"abc\0\0");
        disk.truncate("log", 3);
        disk.sync("log");
        assert_eq!(
            disk.tear(1),
            0,
            "a log last truncated is not being appended to"
        );
        assert_eq!(disk.read("log"), b"abc");
    }

    #[test]
    fn a_bit_flip_hits_only_synced_bytes_and_shows_after_power_loss_too() {
        let disk = Disk::new();
        disk.append("log", b"abc");
        disk.sync("log");
        disk.append("log", b"def");
        disk.replace("vote", b"t1");
        assert_eq!(disk.synced_bytes(), vec![("log".to_string(), 3)]);
        assert_eq!(disk.flip_bit("log", 3, 0), None, "not synced");
        assert_eq!(disk.flip_bit("log", 1, 0), Some((b'b', b'c')));
        assert_eq!(disk.read("log"), b"accdef");
        disk.power_loss();
        assert_eq!(disk.read("log"), b"acc");
        // Rewritten bytes carry the new data: the flip is gone.
        disk.truncate("log", 1);
        disk.append("log", b"bc");
        disk.sync("log");
        assert_eq!(disk.read("log"), b"abc");
    }

    #[test]
    fn replace_is_durable_only_after_sync() {
        let disk = Disk::new();
        disk.replace("vote", b"t1");
        disk.sync("vote");
        disk.replace("vote", b"t2");
        assert!(disk.is_dirty("vote"));
        disk.power_loss();
        assert_eq!(disk.read("vote"), b"t1");
    }

    #[test]
    fn a_crash_point_freezes_the_disk_after_the_write_that_passed_it() {
        use super::super::points::{Armed, Points};
        let points = Points::new(0, 1);
        let disk = Disk::with_points(points.clone());
        disk.append("log", b"abc");
        disk.sync("log");
        points.arm(Some(Armed {
            point: "disk-write",
            power_loss: true,
        }));
        disk.append("log", b"def");
        assert!(points.is_crashed(), "the write passed the armed point");
        // What the frozen node does next never reaches the disk.
        disk.sync("log");
        disk.append("log", b"ghi");
        assert_eq!(disk.read("log"), b"abcdef");
        assert!(disk.is_dirty("log"));
        disk.power_loss();
        assert_eq!(disk.read("log"), b"abc");
    }
}
