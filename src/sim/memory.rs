//! The bounded-memory check: after every step, no node's footprint may exceed
//! [`MEMORY_LIMIT`].
//!
//! A node's footprint is what squall can measure deterministically without owning the
//! process's allocator: the bytes on the node's [`Disk`] (squall's own, so a node cannot hide
//! them) plus the in-memory state the system accounts for itself
//! ([`crate::systems::System::memory`]). squall does not install a global
//! allocator (a library must not), so an allocation the system does not account for is not
//! seen, and one allocation large enough to exhaust memory at once (`Vec::with_capacity` of a
//! forged length) aborts the process before any check runs: under `cargo fuzz` libFuzzer
//! reports it (`-malloc_limit_mb`), in chaos a scenario running in a process of its own fails
//! with its signal, and one sharing the worker's process takes the worker down. What this
//! check catches is growth: a node that keeps something per forged message, per retry or per
//! tick without bound.
//!
//! The bound is fixed rather than relative to the input: squall's scenarios are short (at
//! most 48 steps, seconds of simulated time), and an honest node of the built-in store holds
//! kilobytes in the longest of them, so 16 MiB leaves three orders of magnitude of headroom.

use crate::node::Disk;
use crate::scenario::NodeId;
pub use crate::systems::property::harness::MEMORY_LIMIT;
use crate::systems::System;

/// The first node over the limit, explained; `None` if every node is within it.
pub(super) fn over_limit<S: System>(
    system: &S,
    observer: &S::Observer,
    disks: &[Disk],
) -> Option<String> {
    disks.iter().enumerate().find_map(|(i, disk)| {
        let stored = disk.stored_bytes();
        let memory = system.memory(observer, i as NodeId);
        let total = stored.saturating_add(memory);
        (total > MEMORY_LIMIT).then(|| {
            format!(
                "n{i} holds {} (disk {}, memory {}), over the limit of {}",
                mib(total),
                mib(stored),
                mib(memory),
                mib(MEMORY_LIMIT)
            )
        })
    })
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
}
