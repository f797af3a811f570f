//! openraft under squall: an outside user's adapter.
//!
//! [openraft](https://crates.io/crates/openraft), unmodified, runs as squall's system
//! `openraft`: each node is a turmoil host ([`node`]) with its log and vote on squall's
//! durable disk ([`store`]) and its RPCs on squall's datagram transport ([`network`]); a small
//! key-value application with exactly-once writes runs on top, driven by squall's clients
//! ([`client`]). After every simulation step the Raft safety properties are checked
//! ([`check`]) against what nodes publish ([`observe`]); while faults persist, a fully
//! connected majority must elect a leader and commit within a bound that depends on the
//! faults in force (a liveness property, [`progress`]); after
//! the heal, squall's liveness phase and the linearizability check of the client history
//! apply as to any system.
//!
//! Only squall's public API is used: this crate is the worked example of "testing your own
//! system" (see README.md).

pub mod check;
pub mod client;
pub mod compat;
pub mod network;
pub mod node;
pub mod observe;
pub mod progress;
pub mod store;
pub mod types;

use openraft::rt::WatchReceiver;
use openraft::ServerState;
use squall::check::Violation;
use squall::mutants::MutantInfo;
use squall::systems::{ClientContext, Liveness, NodeContext, StepContext, System};
use squall::workload::kv::Kv;
use std::io;
use std::time::Duration;
use types::Runtime;

/// The client operations: squall's `kv` workload (`get k1`, `put k1 5`, `append k1 5`), the
/// one the built-in Raft store serves, so scenarios and histories read the same for both.
pub use squall::workload::kv::KvOp;

/// The system: openraft with the KV application.
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenRaft {
    /// Run with openraft's default `enable_leader_restore = true`, which squall found unsafe
    /// under power loss (docs/findings/001-openraft-leader-restore-log-id-reuse.md). Off by
    /// default so that chaos looks past it.
    pub leader_restore: bool,
    /// Run with openraft's default `quorum_loss_probe_interval = None`, under which a leader
    /// that reaches one follower of a connected majority keeps the majority from electing
    /// (docs/findings/002-openraft-leader-lease-blocks-connected-majority.md). Releases before
    /// alpha.35 have no such setting and always behave so.
    pub no_quorum_loss_probe: bool,
    /// Measure progress under faults without judging it: the check only notes in the trace
    /// how long each steady fault state took to elect a leader that commits. For calibrating
    /// the bound (`examples/progress_bound.rs`); never on in chaos.
    pub measure_progress: bool,
}

/// A configuration squall can run by name (`--mutant NAME`): one of openraft's own defaults
/// that squall found broken. Not a planted bug: this is openraft as published.
pub struct Variant {
    /// Its name on the command line.
    pub name: &'static str,
    /// What it is and what goes wrong.
    pub description: &'static str,
    /// The property that catches it.
    pub caught_by: &'static str,
}

impl OpenRaft {
    /// The variants this build's openraft release has.
    pub fn variants() -> Vec<Variant> {
        let mut variants = vec![Variant {
            name: "leader-restore",
            description: "openraft's default enable_leader_restore=true: a leader restarted after \
                          a power loss resumes its term and reuses the log ids of entries it \
                          lost but had replicated",
            caught_by: "log matching",
        }];
        if compat::HAS_QUORUM_LOSS_PROBE {
            variants.push(Variant {
                name: "no-quorum-loss-probe",
                description: "openraft's default quorum_loss_probe_interval=None: a leader that \
                              lost its quorum keeps heartbeating the followers it reaches, and \
                              a connected majority that includes one of them never elects",
                caught_by: progress::PROPERTY,
            });
        }
        variants
    }

    /// The system with the named variant (`None`: as configured for chaos).
    pub fn variant(name: Option<&str>) -> Result<Self, String> {
        let known = || {
            Self::variants()
                .iter()
                .map(|v| v.name)
                .collect::<Vec<_>>()
                .join(", ")
        };
        match name {
            None => Ok(OpenRaft::default()),
            Some("leader-restore") => Ok(OpenRaft {
                leader_restore: true,
                ..OpenRaft::default()
            }),
            Some("no-quorum-loss-probe") if compat::HAS_QUORUM_LOSS_PROBE => Ok(OpenRaft {
                no_quorum_loss_probe: true,
                ..OpenRaft::default()
            }),
            Some(other) => Err(format!(
                "openraft has no variant `{other}` in this release; known: {}",
                known()
            )),
        }
    }
}

/// The per-step checks: safety and progress under faults.
pub struct Checks {
    safety: check::Checker,
    progress: progress::Progress,
}

impl System for OpenRaft {
    type Workload = Kv;
    type Observer = observe::Observer;
    type Checker = Checks;
    type Client = client::KvClient;

    fn name(&self) -> &'static str {
        "openraft"
    }

    fn observer(&self, nodes: u8) -> observe::Observer {
        observe::Observer::new(nodes)
    }

    fn checker(&self, nodes: u8) -> Checks {
        Checks {
            safety: check::Checker::new(nodes),
            progress: progress::Progress::new(nodes, !self.measure_progress),
        }
    }

    async fn start_node(&self, ctx: NodeContext, observer: observe::Observer) -> io::Result<()> {
        // Every random number openraft draws in this node comes from this seed.
        let (seed, probe) = (ctx.seed, !self.no_quorum_loss_probe);
        let node = node::run(ctx, observer, self.leader_restore, probe);
        Runtime::scope(seed, node).await
    }

    async fn connect_client(&self, ctx: ClientContext) -> io::Result<client::KvClient> {
        client::KvClient::connect(ctx).await
    }

    fn check_step(
        &self,
        checks: &mut Checks,
        observer: &observe::Observer,
        ctx: &mut StepContext<'_>,
    ) -> Result<(), Violation> {
        checks.safety.step(observer, ctx)?;
        checks.progress.step(observer, ctx)
    }

    fn liveness(&self, _checks: &Checks, observer: &observe::Observer) -> Liveness {
        observer.with_all(|nodes| {
            let up: Vec<_> = nodes
                .iter()
                .enumerate()
                .filter(|(_, v)| v.up)
                .filter_map(|(i, v)| v.metrics.as_ref().map(|m| (i, m.borrow_watched().clone())))
                .collect();
            let top = up.iter().map(|(_, m)| m.current_term).max().unwrap_or(0);
            let leader = up.iter().find(|(_, m)| {
                m.state == ServerState::Leader
                    && m.current_term == top
                    && m.local_committed.is_some_and(|c| c.leader_id.term == top)
            });
            match leader {
                Some(_) => Liveness::Live,
                None => Liveness::Waiting(format!(
                    "no leader that committed in the highest term {top}: {}",
                    up.iter()
                        .map(|(i, m)| format!("n{i} {:?} term {}", m.state, m.current_term))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            }
        })
    }

    fn min_op_deadline(&self) -> Duration {
        // After a leader restart the other nodes wait out the old leader's lease and an
        // election timeout (up to 800 ms each) before electing: recovery can take ~1.7 s,
        // longer than squall's default 1 s deadline for the operations in flight at the heal.
        Duration::from_secs(3)
    }

    fn mutants(&self) -> Vec<MutantInfo> {
        OpenRaft::variants()
            .into_iter()
            .map(|v| MutantInfo::new(v.name, v.description, v.caught_by))
            .collect()
    }

    fn with_mutant(&self, name: &str) -> Self {
        OpenRaft::variant(Some(name)).unwrap_or_default()
    }

    fn leader(&self, _checks: &Checks, observer: &observe::Observer) -> Option<u8> {
        observer.with_all(|nodes| {
            nodes
                .iter()
                .enumerate()
                .filter(|(_, v)| v.up)
                .filter_map(|(i, v)| v.metrics.as_ref().map(|m| (i, m.borrow_watched().clone())))
                .filter(|(_, m)| m.state == ServerState::Leader)
                .max_by_key(|(_, m)| m.current_term)
                .map(|(i, _)| i as u8)
        })
    }

    fn phase(&self, _checks: &Checks, observer: &observe::Observer) -> &'static str {
        observer.with_all(|nodes| {
            let leaders = nodes
                .iter()
                .filter(|v| v.up)
                .filter_map(|v| v.metrics.as_ref())
                .filter(|m| m.borrow_watched().state == ServerState::Leader)
                .count();
            match leaders {
                0 => "election",
                1 => "replicating",
                _ => "leader overlap",
            }
        })
    }

    fn abstract_state(&self, checks: &Checks, observer: &observe::Observer) -> u64 {
        // Roles, term lag behind the highest leader term (capped), whether each node's
        // commit lags: the shape of the cluster, not its numbers.
        observer.with_all(|nodes| {
            nodes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, v| {
                let (role, lag, behind) = match (&v.metrics, v.up) {
                    (Some(m), true) => {
                        let m = m.borrow_watched();
                        let role = match m.state {
                            ServerState::Leader => 1,
                            ServerState::Candidate => 2,
                            ServerState::Follower => 3,
                            _ => 4,
                        };
                        let lag = checks.safety.max_term.saturating_sub(m.current_term).min(3);
                        let behind = m.local_committed.map(|c| c.index) < m.last_log_index;
                        (role, lag, u64::from(behind))
                    }
                    _ => (0, 0, 0),
                };
                (h ^ (role | lag << 3 | behind << 5)).wrapping_mul(0x0100_0000_01b3)
            })
        })
    }
}
