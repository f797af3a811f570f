//! The memory budget as a cap, not a hope.
//!
//! Counting the search's own tables is not enough: a model's states own heap memory the
//! tables do not see (a kv state checked whole holds every key's string), and a table that
//! doubles allocates the new one before it frees the old. So, where the OS tells (Linux,
//! `/proc/self/statm`), the search samples the process's resident memory every few thousand
//! steps and stops with *unknown* while what it has added, plus a reserve for the growth that
//! can come before the next sample (the doubling of a table that is nearly full, and a
//! window of new entries), still fits the budget. Everywhere, the bytes its tables hold are
//! capped as well.
//!
//! The resident memory is the whole process's: a check running beside other work in one
//! process counts that work's growth too, which errs on the side of stopping early.

use std::fs::File;

/// Resident memory of this process in bytes, where the OS reports it (Linux).
pub fn resident_bytes() -> Option<usize> {
    Statm::open().and_then(|s| s.resident())
}

/// `/proc/self/statm`, kept open so that a sample costs one `pread`.
struct Statm {
    file: File,
    page: usize,
}

impl Statm {
    #[cfg(target_os = "linux")]
    fn open() -> Option<Statm> {
        // SAFETY: sysconf only reads a configuration value.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        let page = usize::try_from(page).ok().filter(|&p| p > 0)?;
        let file = File::open("/proc/self/statm").ok()?;
        Some(Statm { file, page })
    }

    #[cfg(not(target_os = "linux"))]
    fn open() -> Option<Statm> {
        None
    }

    #[cfg(target_os = "linux")]
    fn resident(&self) -> Option<usize> {
        use std::os::unix::fs::FileExt;
        // "size resident shared text lib data dt", in pages.
        let mut buf = [0u8; 128];
        let n = self.file.read_at(&mut buf, 0).ok()?;
        let text = std::str::from_utf8(&buf[..n]).ok()?;
        let pages: usize = text.split_whitespace().nth(1)?.parse().ok()?;
        Some(pages.saturating_mul(self.page))
    }

    #[cfg(not(target_os = "linux"))]
    fn resident(&self) -> Option<usize> {
        None
    }
}

/// Below this size a growing `Vec` may be copied into a new buffer (the old one is freed only
/// after the copy); above it glibc's `realloc` moves the pages with `mremap`, which adds no
/// resident memory (glibc serves blocks of at most 32 MiB from its heap; twice that, to be
/// safe with other allocators' thresholds).
const COPIED_BELOW: usize = 64 << 20;

/// Resident bytes a `Vec` of `len` of `cap` elements of `size` bytes may add when `more` are
/// pushed: its doubled buffer, if it must grow and the allocator may copy it.
pub(crate) fn vec_growth(len: usize, cap: usize, more: usize, size: usize) -> usize {
    if len + more <= cap {
        return 0;
    }
    let new = (cap * 2).max(len + more).saturating_mul(size);
    if new < COPIED_BELOW {
        new
    } else {
        0
    }
}

/// Resident bytes a hash table rebuild allocates: a table of twice as many `slots` of
/// `size` bytes, filled (so touched) while the old one still exists.
pub(crate) fn table_growth(slots: usize, size: usize) -> usize {
    slots.saturating_mul(2).saturating_mul(size)
}

/// One check's memory budget, shared by the searches of its partitions.
pub(crate) struct Memory {
    /// Bytes the check may add to the process (and the most its tables may hold).
    cap: usize,
    statm: Option<Statm>,
    /// Resident bytes when the check began.
    baseline: usize,
}

impl Memory {
    /// A budget of `cap` bytes from now on.
    pub(crate) fn new(cap: usize) -> Memory {
        let statm = Statm::open();
        let baseline = statm.as_ref().and_then(Statm::resident).unwrap_or(0);
        Memory {
            cap,
            statm,
            baseline,
        }
    }

    /// The cap in bytes.
    pub(crate) fn cap(&self) -> usize {
        self.cap
    }

    /// Whether a search holding `own` bytes in its tables (`others` in the other
    /// partitions'), which may grow by `reserve` bytes before its next sample, must stop.
    pub(crate) fn exceeded(&self, own: usize, others: usize, reserve: usize) -> bool {
        if own.saturating_add(others) > self.cap {
            return true;
        }
        match self.statm.as_ref().and_then(Statm::resident) {
            Some(resident) => {
                resident
                    .saturating_sub(self.baseline)
                    .saturating_add(reserve)
                    > self.cap
            }
            None => own.saturating_add(others).saturating_add(reserve) > self.cap,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn resident_memory_includes_what_is_touched() {
        let block = std::hint::black_box(vec![1u8; 64 << 20]);
        let resident = resident_bytes().expect("Linux reports resident memory");
        assert!(resident >= 64 << 20, "{resident} bytes resident");
        drop(block);
    }

    #[test]
    fn growth_counts_copies_and_rebuilds() {
        assert_eq!(vec_growth(10, 16, 6, 8), 0, "fits");
        assert_eq!(vec_growth(10, 16, 7, 8), 256, "doubles to 32 elements");
        assert_eq!(
            vec_growth(1 << 30, 1 << 30, 1, 8),
            0,
            "moved by mremap, not copied"
        );
        assert_eq!(table_growth(1 << 20, 8), 16 << 20);
    }

    #[test]
    fn the_cap_counts_tables_and_the_reserve() {
        let m = Memory::new(100 << 20);
        assert!(!m.exceeded(1 << 20, 1 << 20, 1 << 20));
        assert!(
            m.exceeded(60 << 20, 50 << 20, 0),
            "tables alone over the cap"
        );
        assert!(m.exceeded(1 << 20, 0, 200 << 20), "the reserve cannot fit");
    }
}
