//! Where openraft releases differ, in one place: the adapter builds against every release in
//! the table below, and nothing outside this module names a release.
//!
//! openraft 0.10 is alpha and its storage and network traits move between alphas. The
//! adapter's code is written against the current pin; each older API range is one cargo
//! feature, enabled by that release's manifest under `targets/openraft/releases/` (never by
//! hand: the feature must match the openraft version in the lockfile, or the build fails).
//!
//! | releases | feature | what differs from the current API |
//! |---|---|---|
//! | 0.10.0-alpha.35 ..= alpha.37 | none (the current pin) | — |
//! | 0.10.0-alpha.32 ..= alpha.34 | `api-alpha32` | no `Config::quorum_loss_probe_interval` |
//! | 0.10.0-alpha.29 ..= alpha.31 | `api-alpha29` | as alpha.32, and `RaftStateMachine::begin_receiving_snapshot` is required |
//! | 0.10.0-alpha.22 ..= alpha.28 | `api-alpha22` | as alpha.29, and the snapshot payload type is `RaftTypeConfig::SnapshotData`, not an associated type of the storage and network traits |
//!
//! Built and run: alpha.24, alpha.29 and alpha.37 (the manifests under `releases/` and the
//! current pin). The alpha.32 range is derived from openraft's history, not built here.
//!
//! Releases below alpha.22 are not supported: their `Config` has neither `enable_pre_vote`
//! (which the adapter turns on) nor `enable_leader_restore` (which it turns off, finding
//! 001), and below alpha.18 openraft has no `DeterministicRng` runtime at all.
//!
//! The API ranges come from openraft's history: `dafeedb8` ("move snapshot data out of
//! RaftTypeConfig", first in alpha.29), `22d23c80` ("move snapshot receiver creation to
//! legacy v1", first in alpha.32) and openraft#2089 ("add quorum-loss inactivity", first in
//! alpha.35). Behaviour differs too, and that is what squall is for:
//! releases up to alpha.36 pick `futures::select!` branches with a thread-local PRNG that
//! carries over from one scenario to the next in a process (see the README).
//!
//! The adapter never builds or sends snapshots (`store`), so every difference here is a
//! type to name or a method that declines.

#[cfg(any(
    all(feature = "api-alpha22", feature = "api-alpha29"),
    all(feature = "api-alpha22", feature = "api-alpha32"),
    all(feature = "api-alpha29", feature = "api-alpha32"),
))]
compile_error!(
    "features `api-alpha22`, `api-alpha29` and `api-alpha32` select different openraft API \
     ranges: enable at most one (the release manifests under targets/openraft/releases/ \
     enable the right one)"
);

use crate::types::TypeConfig;
use openraft::Config;

/// Whether this release has `Config::quorum_loss_probe_interval` (alpha.35 on): a leader
/// that has lost its quorum stops heartbeating for a while, so that followers it still
/// reaches can vote for someone else (docs/findings/002).
pub const HAS_QUORUM_LOSS_PROBE: bool = cfg!(not(any(
    feature = "api-alpha22",
    feature = "api-alpha29",
    feature = "api-alpha32"
)));

/// Sets `Config::quorum_loss_probe_interval` where the release has it (see
/// [`HAS_QUORUM_LOSS_PROBE`]); elsewhere a release behaves as with `None`, and this does
/// nothing.
pub fn set_quorum_loss_probe(config: &mut Config, interval_ms: Option<u64>) {
    #[cfg(not(any(
        feature = "api-alpha22",
        feature = "api-alpha29",
        feature = "api-alpha32"
    )))]
    {
        config.quorum_loss_probe_interval = interval_ms;
    }
    #[cfg(any(
        feature = "api-alpha22",
        feature = "api-alpha29",
        feature = "api-alpha32"
    ))]
    {
        let _ = (config, interval_ms);
    }
}

/// A snapshot with its payload, as the storage and network traits pass it.
#[cfg(not(feature = "api-alpha22"))]
pub type Snapshot =
    openraft::type_config::alias::SnapshotOf<TypeConfig, crate::types::SnapshotData>;

/// A snapshot with its payload, as the storage and network traits pass it (up to alpha.28
/// the payload type comes from the type configuration, whose default is
/// [`SnapshotData`](crate::types::SnapshotData)).
#[cfg(feature = "api-alpha22")]
pub type Snapshot = openraft::type_config::alias::SnapshotOf<TypeConfig>;

/// Inside an `impl` of `RaftStateMachine`, `RaftSnapshotBuilder` or `RaftNetworkV2`: the
/// trait's snapshot payload type, in the releases where the trait has one (alpha.29 on).
macro_rules! snapshot_data_type {
    () => {
        #[cfg(not(feature = "api-alpha22"))]
        type SnapshotData = $crate::types::SnapshotData;
    };
}
pub(crate) use snapshot_data_type;

/// Inside the `impl RaftStateMachine`: `begin_receiving_snapshot`, which releases up to
/// alpha.31 require. It declines, as `install_snapshot` does: this adapter never sends
/// snapshots, so openraft never needs to receive one.
macro_rules! begin_receiving_snapshot {
    () => {
        #[cfg(any(feature = "api-alpha22", feature = "api-alpha29"))]
        async fn begin_receiving_snapshot(
            &mut self,
        ) -> Result<$crate::types::SnapshotData, std::io::Error> {
            Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "this adapter never sends snapshots",
            ))
        }
    };
}
pub(crate) use begin_receiving_snapshot;
