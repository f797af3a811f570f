//! Nemesis compositions as single steps, the way Jepsen composes its nemeses: partition moves
//! that follow the cluster's leadership across ticks (`bounce leader`), a link that flaps
//! faster than an election timeout (`flap nA nB`), and Jepsen's partition shapes (`bridge`,
//! `ring`, `isolate primaries`).
//!
//! Everything here is pure: a `Nemesis` turns what the system reports (its leader, its
//! primaries) and the simulated time into `Move`s on the links, which the runner applies.
//! Shapes are computed once, when their step runs; `bounce leader` and `flap` keep state and
//! are advanced after every tick until they end on their own, or until the next step of kind
//! partition, partial or nemesis, or a heal (`ends_nemesis`), cancels them. A cancelled
//! nemesis leaves the links as they are at that moment, as any other partition step does;
//! the liveness phase heals everything and cancels it too.
//!
//! Exact semantics:
//! - `bounce leader`: repair every cut link and cut off the node that leads now (`first`). As
//!   soon as another node leads (a later term: the system's [`leader`]), repair `first` and
//!   cut off that one at once, before its first AppendEntries lands — so the others hold no
//!   entry of its term and `first`, with whatever it kept from its earlier term, can win
//!   again. If yet another node wins instead, it is cut off in turn (at most
//!   [`BOUNCE_ROUNDS`] successors). It ends when `first` leads again after having stepped
//!   down (it left the system's [`primaries`]): every cut is repaired and the bounce counts
//!   as `bounced`. It gives up, repairing every cut, after [`BOUNCE_BUDGET`] of simulated
//!   time. With no leader at the start it only repairs. Clients keep the requests the
//!   scenario gave them outstanding throughout.
//! - `flap nA nB`: the link is cut now, healed 40 ms later, and so on: down, up, down, up,
//!   down, up ([`FLAP_TOGGLES`] changes [`FLAP_PERIOD`] apart), ending healed 200 ms after
//!   the step — heartbeats are lost, yet the link comes back within an election timeout.
//! - `bridge`: repair every cut link; order the nodes from the leader up by id (wrapping; from
//!   n0 if there is no leader), take the first ⌊n/2⌋ as one half, the next node as the
//!   bridge and the rest as the other half (Jepsen's `bisect`), and cut every link between
//!   the halves. The leader's half and the bridge form a majority from four nodes on; so do,
//!   with five or more, the other half and the bridge.
//! - `ring`: repair every cut link; with m = ⌊n/2⌋+1 and the nodes in id order on a ring,
//!   node i hears only the m nodes from i−⌊m/2⌋ (Jepsen's majorities ring): every node hears
//!   a majority, no two the same. With an odd m (four and five nodes) every cut is both ways;
//!   with an even m (three, six and seven nodes) some are one-way.
//! - `isolate primaries`: repair every cut link, then cut each node that believes it leads
//!   (the system's [`primaries`]) off from every other node (Jepsen's `:primaries`). With one
//!   primary it is `isolate leader`; with an old leader that has not noticed its deposition
//!   and the new one, both are cut off, from each other too.
//!
//! [`leader`]: crate::systems::System::leader
//! [`primaries`]: crate::systems::System::primaries

use crate::scenario::{Fault, FaultKind, NodeId};
use std::time::Duration;

/// How long `bounce leader` tries to bring leadership back before it gives up.
pub const BOUNCE_BUDGET: Duration = Duration::from_secs(5);
/// Most successors `bounce leader` cuts off while waiting for the first leader to return.
pub const BOUNCE_ROUNDS: u8 = 4;
/// Link changes `flap` makes: down, up, down, up, down, up.
pub const FLAP_TOGGLES: u8 = 6;
/// Time between two changes of a flapping link.
pub const FLAP_PERIOD: Duration = Duration::from_millis(40);

/// A change the runner makes to the links for a nemesis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Move {
    /// Repair every cut link (held links stay held).
    RepairCuts,
    /// Cut every link between the node and the others.
    Isolate(NodeId),
    /// Cut one link both ways.
    Cut(NodeId, NodeId),
    /// Drop frames from the first node to the second, not the other way.
    OneWay(NodeId, NodeId),
    /// Repair one link.
    Heal(NodeId, NodeId),
    /// A line for the trace.
    Note(String),
    /// `bounce leader` brought leadership back to its first leader.
    Bounced,
}

impl Move {
    /// Whether the move changes a link (what `nemesis-moves` counts).
    pub(super) fn is_link_change(&self) -> bool {
        matches!(
            self,
            Move::Isolate(_) | Move::Cut(..) | Move::OneWay(..) | Move::Heal(..)
        )
    }
}

/// A nemesis that runs across ticks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Nemesis {
    /// `bounce leader`.
    Bounce {
        /// The leader it cut off first, whose return it waits for.
        first: NodeId,
        /// The successor cut off now, once there is one.
        cut: Option<NodeId>,
        /// Successors cut off so far.
        rounds: u8,
        /// Whether `first` has been seen not believing it leads.
        stepped_down: bool,
        /// When it gives up.
        deadline: Duration,
    },
    /// `flap nA nB`.
    Flap {
        /// The link.
        a: NodeId,
        /// The link's other end.
        b: NodeId,
        /// When the next change is due.
        next: Duration,
        /// Changes still to make.
        left: u8,
        /// Whether the link is cut now.
        down: bool,
    },
}

/// Whether `fault`, applied while a nemesis runs, ends it: any partition, partial-partition
/// or nemesis step, and every heal.
pub(super) fn ends_nemesis(fault: &Fault) -> bool {
    matches!(fault, Fault::Heal(..) | Fault::HealAll)
        || matches!(
            fault.kind(),
            Some(FaultKind::Partition | FaultKind::Partial | FaultKind::Nemesis)
        )
}

/// What the system reports when a nemesis starts or advances.
pub(super) struct Leadership<'a> {
    /// [`System::leader`](crate::systems::System::leader).
    pub leader: Option<NodeId>,
    /// [`System::primaries`](crate::systems::System::primaries).
    pub primaries: &'a [NodeId],
}

impl Nemesis {
    /// Starts the nemesis step `fault` on a cluster of `nodes` at `now`: the moves to make at
    /// once, and the nemesis to advance after each tick if it runs on.
    pub(super) fn start(
        fault: Fault,
        nodes: u8,
        now: Duration,
        seen: &Leadership<'_>,
    ) -> (Option<Nemesis>, Vec<Move>) {
        match fault {
            Fault::BounceLeader => match seen.leader {
                None => (
                    None,
                    vec![
                        Move::RepairCuts,
                        Move::Note("  bounce leader: there is no leader".into()),
                    ],
                ),
                Some(first) => (
                    Some(Nemesis::Bounce {
                        first,
                        cut: None,
                        rounds: 0,
                        stepped_down: false,
                        deadline: now + BOUNCE_BUDGET,
                    }),
                    vec![
                        Move::RepairCuts,
                        Move::Note(format!("  bounce leader: cut off n{first}")),
                        Move::Isolate(first),
                    ],
                ),
            },
            Fault::Flap(a, b) => (
                Some(Nemesis::Flap {
                    a,
                    b,
                    next: now + FLAP_PERIOD,
                    left: FLAP_TOGGLES - 1,
                    down: true,
                }),
                vec![Move::Cut(a, b)],
            ),
            Fault::Bridge => {
                let mut moves = vec![Move::RepairCuts];
                let anchor = seen.leader.unwrap_or_else(|| {
                    moves.push(Move::Note(
                        "  bridge: no leader, the halves start at n0".into(),
                    ));
                    0
                });
                moves.extend(
                    bridge(nodes, anchor)
                        .into_iter()
                        .map(|(a, b)| Move::Cut(a, b)),
                );
                (None, moves)
            }
            Fault::Ring => {
                let mut moves = vec![Move::RepairCuts];
                moves.extend(ring(nodes));
                (None, moves)
            }
            Fault::IsolatePrimaries => {
                let mut moves = vec![Move::RepairCuts];
                if seen.primaries.is_empty() {
                    moves.push(Move::Note(
                        "  isolate primaries: there is no primary".into(),
                    ));
                }
                for p in seen.primaries {
                    moves.push(Move::Note(format!("  isolate primaries: cut off n{p}")));
                    moves.push(Move::Isolate(*p));
                }
                (None, moves)
            }
            _ => (None, Vec::new()),
        }
    }

    /// Whether advancing it needs the system's leadership (a cost paid only then).
    pub(super) fn follows_leadership(&self) -> bool {
        matches!(self, Nemesis::Bounce { .. })
    }

    /// Advances the nemesis after a tick ending at `now`: the moves to make, and whether it
    /// has ended.
    pub(super) fn advance(&mut self, now: Duration, seen: &Leadership<'_>) -> (Vec<Move>, bool) {
        match self {
            Nemesis::Flap {
                a,
                b,
                next,
                left,
                down,
            } => {
                if now < *next || *left == 0 {
                    return (Vec::new(), *left == 0);
                }
                *down = !*down;
                *left -= 1;
                *next += FLAP_PERIOD;
                let change = if *down {
                    Move::Cut(*a, *b)
                } else {
                    Move::Heal(*a, *b)
                };
                (vec![change], *left == 0)
            }
            Nemesis::Bounce {
                first,
                cut,
                rounds,
                stepped_down,
                deadline,
            } => {
                let first = *first;
                if !seen.primaries.contains(&first) {
                    *stepped_down = true;
                }
                if now >= *deadline {
                    let note =
                        format!("  bounce leader: gave up, leadership did not return to n{first}");
                    return (vec![Move::RepairCuts, Move::Note(note)], true);
                }
                match seen.leader {
                    Some(x) if x == first && *stepped_down && cut.is_some() => {
                        let note = format!("  bounce leader: leadership returned to n{first}");
                        (
                            vec![Move::RepairCuts, Move::Note(note), Move::Bounced],
                            true,
                        )
                    }
                    Some(x) if x != first && Some(x) != *cut => {
                        if *rounds >= BOUNCE_ROUNDS {
                            let note = format!(
                                "  bounce leader: gave up after {rounds} successors, n{x} leads"
                            );
                            return (vec![Move::RepairCuts, Move::Note(note)], true);
                        }
                        *rounds += 1;
                        *cut = Some(x);
                        let note =
                            format!("  bounce leader: n{x} leads; cut it off, heal n{first}");
                        (
                            vec![Move::RepairCuts, Move::Note(note), Move::Isolate(x)],
                            false,
                        )
                    }
                    _ => (Vec::new(), false),
                }
            }
        }
    }
}

/// Jepsen's bridge on `nodes` nodes, ordered from `anchor` up by id: the links to cut, both
/// ways (first half against second half; the bridge keeps every link).
pub(super) fn bridge(nodes: u8, anchor: NodeId) -> Vec<(NodeId, NodeId)> {
    let order: Vec<NodeId> = (0..nodes).map(|k| (anchor + k) % nodes).collect();
    let half = usize::from(nodes / 2);
    let (first, rest) = order.split_at(half);
    let second = &rest[1..];
    let mut cuts = Vec::new();
    for &a in first {
        for &b in second {
            cuts.push((a, b));
        }
    }
    cuts
}

/// Jepsen's majorities ring on `nodes` nodes in id order: for each pair of nodes, a cut if
/// neither hears the other, a one-way drop if one of them does not hear the other.
pub(super) fn ring(nodes: u8) -> Vec<Move> {
    let n = usize::from(nodes);
    let m = n / 2 + 1;
    // hears[x][y]: x receives frames from y.
    let hears = |x: usize, y: usize| {
        let start = (x + n - m / 2) % n;
        (0..m).any(|k| (start + k) % n == y)
    };
    let mut moves = Vec::new();
    for a in 0..n {
        for b in (a + 1)..n {
            let (ab, ba) = (hears(b, a), hears(a, b));
            let (x, y) = (a as NodeId, b as NodeId);
            match (ab, ba) {
                (true, true) => {}
                (false, false) => moves.push(Move::Cut(x, y)),
                (false, true) => moves.push(Move::OneWay(x, y)),
                (true, false) => moves.push(Move::OneWay(y, x)),
            }
        }
    }
    moves
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    fn nobody() -> Leadership<'static> {
        Leadership {
            leader: None,
            primaries: &[],
        }
    }

    /// Who hears whom after the ring's moves, as `hears[to][from]`.
    fn hearing(nodes: u8) -> Vec<Vec<bool>> {
        let n = usize::from(nodes);
        let mut hears = vec![vec![true; n]; n];
        for m in ring(nodes) {
            match m {
                Move::Cut(a, b) => {
                    hears[usize::from(a)][usize::from(b)] = false;
                    hears[usize::from(b)][usize::from(a)] = false;
                }
                Move::OneWay(from, to) => hears[usize::from(to)][usize::from(from)] = false,
                other => panic!("unexpected {other:?}"),
            }
        }
        hears
    }

    #[test]
    fn in_a_ring_every_node_hears_a_different_majority() {
        for nodes in 3..=7u8 {
            let hears = hearing(nodes);
            let majority = usize::from(nodes) / 2 + 1;
            for row in &hears {
                assert_eq!(
                    row.iter().filter(|h| **h).count(),
                    majority,
                    "{nodes} nodes"
                );
            }
            let mut distinct = hears.clone();
            distinct.sort();
            distinct.dedup();
            assert_eq!(distinct.len(), usize::from(nodes), "{nodes} nodes");
        }
        // Five nodes: each hears its two neighbours, both ways.
        assert_eq!(
            ring(5),
            vec![
                Move::Cut(0, 2),
                Move::Cut(0, 3),
                Move::Cut(1, 3),
                Move::Cut(1, 4),
                Move::Cut(2, 4)
            ]
        );
    }

    #[test]
    fn a_bridge_keeps_the_leader_in_the_first_half_and_one_node_linked_to_all() {
        // Three nodes, leader n1: n1 | bridge n2 | n0.
        assert_eq!(bridge(3, 1), vec![(1, 0)]);
        // Five nodes, leader n3: n3 n4 | bridge n0 | n1 n2.
        assert_eq!(bridge(5, 3), vec![(3, 1), (3, 2), (4, 1), (4, 2)]);
        for nodes in 3..=7u8 {
            let cuts = bridge(nodes, 0);
            let bridge_node = nodes / 2;
            assert!(cuts
                .iter()
                .all(|(a, b)| *a != bridge_node && *b != bridge_node));
            assert!(
                cuts.iter().all(|(a, _)| *a < bridge_node),
                "leader's half first"
            );
        }
    }

    #[test]
    fn a_flap_goes_down_and_up_three_times_and_ends_healed() {
        let (nemesis, moves) = Nemesis::start(Fault::Flap(0, 2), 3, MS(100), &nobody());
        let mut nemesis = nemesis.expect("runs on");
        assert_eq!(moves, vec![Move::Cut(0, 2)]);
        let mut changes = vec![(100, moves[0].clone())];
        let mut ended = false;
        for t in (110..=400).step_by(10) {
            let (moves, done) = nemesis.advance(MS(t), &nobody());
            changes.extend(moves.into_iter().map(|m| (t, m)));
            if done {
                ended = true;
                assert_eq!(t, 300);
                break;
            }
        }
        assert!(ended);
        assert_eq!(
            changes,
            vec![
                (100, Move::Cut(0, 2)),
                (140, Move::Heal(0, 2)),
                (180, Move::Cut(0, 2)),
                (220, Move::Heal(0, 2)),
                (260, Move::Cut(0, 2)),
                (300, Move::Heal(0, 2)),
            ]
        );
    }

    fn led_by(leader: Option<NodeId>, primaries: &[NodeId]) -> Leadership<'_> {
        Leadership { leader, primaries }
    }

    #[test]
    fn bounce_cuts_each_successor_until_the_first_leader_returns() {
        let (nemesis, moves) =
            Nemesis::start(Fault::BounceLeader, 3, MS(0), &led_by(Some(1), &[1]));
        let mut b = nemesis.expect("runs on");
        assert!(moves.contains(&Move::Isolate(1)));
        // The cut-off leader still believes it leads: nothing happens.
        assert_eq!(b.advance(MS(10), &led_by(Some(1), &[1])), (vec![], false));
        // n2 wins a later term while n1 still believes: n2 is cut off at once, n1 healed.
        let (moves, done) = b.advance(MS(20), &led_by(Some(2), &[1, 2]));
        assert!(!done && moves.contains(&Move::Isolate(2)) && moves[0] == Move::RepairCuts);
        // n1 is the highest-term leader again only after it stepped down: not yet.
        assert_eq!(b.advance(MS(30), &led_by(Some(2), &[2])), (vec![], false));
        let (moves, done) = b.advance(MS(40), &led_by(Some(1), &[1, 2]));
        assert!(done && moves.contains(&Move::Bounced), "{moves:?}");
    }

    #[test]
    fn bounce_gives_up_at_its_deadline_and_without_a_leader_only_repairs() {
        let (none, moves) = Nemesis::start(Fault::BounceLeader, 3, MS(0), &nobody());
        assert!(none.is_none() && moves[0] == Move::RepairCuts);
        let (b, _) = Nemesis::start(Fault::BounceLeader, 3, MS(0), &led_by(Some(0), &[0]));
        let mut b = b.expect("runs on");
        let (moves, done) = b.advance(BOUNCE_BUDGET, &led_by(Some(0), &[0]));
        assert!(done && moves[0] == Move::RepairCuts && !moves.contains(&Move::Bounced));
    }

    #[test]
    fn partition_steps_and_heals_end_a_nemesis_but_crashes_do_not() {
        assert!(ends_nemesis(&Fault::HealAll));
        assert!(ends_nemesis(&Fault::Heal(0, 1)));
        assert!(ends_nemesis(&Fault::Isolate(2)));
        assert!(ends_nemesis(&Fault::Cut(0, 1)));
        assert!(ends_nemesis(&Fault::Ring));
        assert!(!ends_nemesis(&Fault::Crash(1)));
        assert!(!ends_nemesis(&Fault::Loss(10)));
    }

    #[test]
    fn isolate_primaries_cuts_off_every_node_that_believes_it_leads() {
        let (none, moves) =
            Nemesis::start(Fault::IsolatePrimaries, 5, MS(0), &led_by(Some(3), &[1, 3]));
        assert!(none.is_none());
        let isolated: Vec<&Move> = moves.iter().filter(|m| m.is_link_change()).collect();
        assert_eq!(isolated, vec![&Move::Isolate(1), &Move::Isolate(3)]);
    }
}
