//! The links between nodes and the faults on them: which links are cut (both ways or one
//! way), held, slow, or being released, kept in step with turmoil's own link state, with the
//! transport's message faults ([`NetFaults`]), and with the [`Faults`] view checkers read.
//!
//! turmoil has link verbs (`partition`, `partition_oneway`, `hold`, `release`, `repair`) but
//! they do not compose: releasing a link un-partitions it, so a held link that is later cut
//! must be released first, and a cut link must never be held. [`Links`] is where those rules
//! live; the runner only says which fault a step asks for.
//!
//! A release is squall's reordering fault: a held link's parked frames go out of order, a
//! random subset that leaves out the oldest frame first and the rest a tick later
//! ([`Links::finish_releases`]). The random choices come from the runner's RNG, passed in, so
//! that one scenario's draws stay in one stream.

use crate::node::net::NetFaults;
use crate::report::Effects;
use crate::scenario::NodeId;
use crate::systems::Faults;
use rand::Rng;
use rand_xoshiro::Xoshiro256PlusPlus;
use std::cell::RefCell;
use std::net::IpAddr;
use std::rc::Rc;
use std::time::Duration;

/// The link-fault state of one run's cluster. Every method that changes a link also makes the
/// matching turmoil call on the `sim` it is given.
pub(super) struct Links {
    /// Each node's address, by node id.
    ips: Vec<IpAddr>,
    /// The message-fault state every sim transport consults (loss, duplication, delays, and
    /// the cut links whose dropped frames it counts).
    net: Rc<RefCell<NetFaults>>,
    /// Directed node links the harness has cut: `cut[a][b]` drops a→b.
    cut: Vec<Vec<bool>>,
    /// Held links, each once, in the order they were held.
    held: Vec<(NodeId, NodeId)>,
    /// Links with a latency fault above the normal range.
    slow: Vec<Vec<bool>>,
    /// Held links whose first, out-of-order batch went out; released after the next tick.
    releasing: Vec<(NodeId, NodeId)>,
    /// A latency fault was applied since the fault view was last refreshed.
    latency_changed: bool,
    /// The faults in force, as checkers see them.
    view: Faults,
    /// What the link faults did (frames cleared by a cut, held, reordered).
    effects: Effects,
    /// Which nodes' disks were corrupted, and whether the system recovers from that: not
    /// link state, but part of the view checkers read.
    corrupted: Vec<bool>,
    corruption_recovered: bool,
}

impl Links {
    /// Healthy links between the nodes at `ips`, with the transports' shared fault state.
    pub(super) fn new(ips: Vec<IpAddr>, net: Rc<RefCell<NetFaults>>) -> Self {
        let n = ips.len();
        Links {
            ips,
            net,
            cut: vec![vec![false; n]; n],
            held: Vec::new(),
            slow: vec![vec![false; n]; n],
            releasing: Vec::new(),
            latency_changed: false,
            view: Faults {
                up: vec![true; n],
                links: vec![vec![true; n]; n],
                reach: vec![vec![true; n]; n],
                corrupted: vec![false; n],
                ..Faults::default()
            },
            effects: Effects::default(),
            corrupted: vec![false; n],
            corruption_recovered: false,
        }
    }

    /// Records that `node`'s disk was corrupted (for the view's
    /// [`Faults::corrupted`](crate::systems::Faults::corrupted)).
    pub(super) fn mark_corrupted(&mut self, node: NodeId) {
        self.corrupted[usize::from(node)] = true;
    }

    /// Records whether the system recovers from disk corruption.
    pub(super) fn set_corruption_recovered(&mut self, recovered: bool) {
        self.corruption_recovered = recovered;
    }

    /// Sets the probability, in percent, that a frame has a bit flipped in flight.
    pub(super) fn set_corrupt(&mut self, percent: u8) {
        self.net.borrow_mut().corrupt_percent = percent;
    }

    /// The first corrupted frame a typed receive accepted as a message, described.
    pub(super) fn corrupt_accepted(&self) -> Option<String> {
        self.net.borrow().corruption.accepted().map(str::to_string)
    }

    fn ip(&self, node: NodeId) -> IpAddr {
        self.ips[usize::from(node)]
    }

    /// The faults in force, as of the last [`Links::refresh`].
    pub(super) fn view(&self) -> &Faults {
        &self.view
    }

    /// What the link and message faults did so far.
    pub(super) fn effects(&self) -> Effects {
        let mut effects = self.effects;
        effects.add(&self.net.borrow().effects);
        effects
    }

    /// Sets the message-loss probability, in percent.
    pub(super) fn set_loss(&mut self, percent: u8) {
        self.net.borrow_mut().loss_percent = percent;
    }

    /// Sets the message-duplication probability, in percent.
    pub(super) fn set_duplicate(&mut self, percent: u8) {
        self.net.borrow_mut().duplicate_percent = percent;
    }

    /// Sets the probability, in percent, that a sender holds a message back.
    pub(super) fn set_delay(&mut self, percent: u8) {
        self.net.borrow_mut().delay_percent = percent;
    }

    /// Recomputes the fault view from the links and `up` (which nodes run); its `since`
    /// moves to `now` only if something changed.
    pub(super) fn refresh(&mut self, up: Vec<bool>, now: Duration) {
        let n = self.ips.len();
        let held = |a: usize, b: usize| {
            self.held.iter().any(|&(x, y)| {
                let (x, y) = (usize::from(x), usize::from(y));
                (x, y) == (a, b) || (x, y) == (b, a)
            })
        };
        let links = (0..n)
            .map(|a| {
                (0..n)
                    .map(|b| a == b || !(self.cut[a][b] || self.slow[a][b] || held(a, b)))
                    .collect()
            })
            .collect();
        let reach = (0..n)
            .map(|a| {
                (0..n)
                    .map(|b| a == b || !(self.cut[a][b] || held(a, b)))
                    .collect()
            })
            .collect();
        let net = self.net.borrow();
        let view = Faults {
            up,
            links,
            reach,
            loss_percent: net.loss_percent,
            duplicate_percent: net.duplicate_percent,
            delay_percent: net.delay_percent,
            corrupt_percent: net.corrupt_percent,
            since: self.view.since,
            changes: self.view.changes,
            corrupted: self.corrupted.clone(),
            corruption_recovered: self.corruption_recovered,
        };
        drop(net);
        // A latency change is a change although `links` may look the same (a slow link got
        // slower): the steady-state clocks of the checks restart too.
        let latency_changed = std::mem::take(&mut self.latency_changed);
        if latency_changed || view != self.view {
            let changes = self.view.changes + 1;
            self.view = Faults {
                since: now,
                changes,
                ..view
            };
        }
    }

    fn is_held(&self, a: NodeId, b: NodeId) -> bool {
        self.held
            .iter()
            .any(|&(x, y)| (x, y) == (a, b) || (x, y) == (b, a))
    }

    fn set_cut(&mut self, from: NodeId, to: NodeId, cut: bool) {
        self.cut[usize::from(from)][usize::from(to)] = cut;
        self.net
            .borrow_mut()
            .set_cut(usize::from(from), usize::from(to), cut);
    }

    /// Counts the frames in flight from `from` to `to` that a cut is about to clear.
    fn count_in_flight(&mut self, sim: &mut turmoil::Sim<'_>, from: NodeId, to: NodeId) {
        let (src, dst) = (self.ip(from), self.ip(to));
        let mut count = 0;
        sim.links(|links| {
            for link in links {
                for sent in link {
                    let (s, d) = sent.pair();
                    if s.ip() == src && d.ip() == dst {
                        count += 1;
                    }
                }
            }
        });
        self.effects.dropped_in_flight += count;
    }

    /// Finishes a release still pending from this step now: turmoil's `release` makes a link
    /// healthy, so running it after a cut or hold of the same link would undo that fault.
    fn finish_release(&mut self, sim: &mut turmoil::Sim<'_>, a: NodeId, b: NodeId) {
        if let Some(pos) = self
            .releasing
            .iter()
            .position(|&(x, y)| (x, y) == (a, b) || (x, y) == (b, a))
        {
            let (x, y) = self.releasing.swap_remove(pos);
            sim.release(self.ip(x), self.ip(y));
        }
    }

    /// Finishes the releases whose first, out-of-order batch went out during the tick just
    /// run: the rest of their frames follow, and the links carry traffic again.
    pub(super) fn finish_releases(&mut self, sim: &mut turmoil::Sim<'_>) {
        if !self.releasing.is_empty() {
            for (a, b) in std::mem::take(&mut self.releasing) {
                sim.release(self.ip(a), self.ip(b));
            }
        }
    }

    /// Cuts the link between `a` and `b` both ways (a held link's frames are dropped).
    pub(super) fn partition_both(&mut self, sim: &mut turmoil::Sim<'_>, a: NodeId, b: NodeId) {
        self.finish_release(sim, a, b);
        self.count_in_flight(sim, a, b);
        self.count_in_flight(sim, b, a);
        self.held
            .retain(|&(x, y)| !((x, y) == (a, b) || (x, y) == (b, a)));
        sim.partition(self.ip(a), self.ip(b));
        self.set_cut(a, b, true);
        self.set_cut(b, a, true);
    }

    /// Cuts the link from `from` to `to` only.
    pub(super) fn partition_oneway(
        &mut self,
        sim: &mut turmoil::Sim<'_>,
        rng: &mut Xoshiro256PlusPlus,
        from: NodeId,
        to: NodeId,
    ) {
        // turmoil cannot combine a hold with a one-way partition (a later release would clear
        // the partition): a held link is released first.
        self.release(sim, rng, from, to);
        self.finish_release(sim, from, to);
        self.count_in_flight(sim, from, to);
        sim.partition_oneway(self.ip(from), self.ip(to));
        self.set_cut(from, to, true);
    }

    /// Repairs the link between `a` and `b` both ways, releasing it first if it is held.
    pub(super) fn heal(
        &mut self,
        sim: &mut turmoil::Sim<'_>,
        rng: &mut Xoshiro256PlusPlus,
        a: NodeId,
        b: NodeId,
    ) {
        if self.is_held(a, b) {
            self.release(sim, rng, a, b);
        }
        sim.repair(self.ip(a), self.ip(b));
        self.set_cut(a, b, false);
        self.set_cut(b, a, false);
    }

    /// Releases every held link, repairs every cut one, and ends message loss, duplication,
    /// delays and corruption. (Latency faults stay: see [`Links::reset_latencies`].)
    pub(super) fn heal_all(&mut self, sim: &mut turmoil::Sim<'_>, rng: &mut Xoshiro256PlusPlus) {
        for (a, b) in self.held.clone() {
            self.release(sim, rng, a, b);
        }
        self.repair_cuts(sim);
        let mut net = self.net.borrow_mut();
        net.loss_percent = 0;
        net.duplicate_percent = 0;
        net.delay_percent = 0;
        net.corrupt_percent = 0;
    }

    /// Repairs every cut link (both ways and one-way); held links stay held.
    pub(super) fn repair_cuts(&mut self, sim: &mut turmoil::Sim<'_>) {
        let n = self.ips.len();
        for a in 0..n {
            for b in (a + 1)..n {
                if self.cut[a][b] || self.cut[b][a] {
                    sim.repair(self.ips[a], self.ips[b]);
                }
            }
        }
        self.cut
            .iter_mut()
            .for_each(|row| row.iter_mut().for_each(|c| *c = false));
        self.net.borrow_mut().heal_all();
    }

    /// Parks every frame between `a` and `b` until released; a no-op on a cut link (turmoil
    /// would un-partition it on release) and on a link already held.
    pub(super) fn hold(&mut self, sim: &mut turmoil::Sim<'_>, a: NodeId, b: NodeId) {
        let cut =
            self.cut[usize::from(a)][usize::from(b)] || self.cut[usize::from(b)][usize::from(a)];
        if !cut && !self.held.contains(&(a, b)) && !self.held.contains(&(b, a)) {
            self.finish_release(sim, a, b);
            sim.hold(self.ip(a), self.ip(b));
            self.held.push((a, b));
        }
    }

    /// Delivers a held link's parked frames out of order: a random non-empty subset that
    /// leaves out the oldest frame goes first; the rest follow a tick later. A no-op on a
    /// link that is not held.
    pub(super) fn release(
        &mut self,
        sim: &mut turmoil::Sim<'_>,
        rng: &mut Xoshiro256PlusPlus,
        a: NodeId,
        b: NodeId,
    ) {
        let Some(pos) = self
            .held
            .iter()
            .position(|&(x, y)| (x, y) == (a, b) || (x, y) == (b, a))
        else {
            return;
        };
        self.held.swap_remove(pos);
        let (ia, ib) = (self.ip(a), self.ip(b));
        let (mut held, mut early) = (0u64, 0u64);
        sim.links(|links| {
            for link in links {
                let (x, y) = link.pair();
                if !((x, y) == (ia, ib) || (x, y) == (ib, ia)) {
                    continue;
                }
                let mut parked: Vec<_> = link.collect();
                held += parked.len() as u64;
                if parked.len() < 2 {
                    continue;
                }
                // A random non-empty subset that leaves out the oldest frame goes first, so
                // everything in it overtakes at least that frame.
                let last = parked.len() - 1;
                let mut chosen: Vec<bool> = (0..parked.len())
                    .map(|i| i > 0 && rng.random_bool(0.5))
                    .collect();
                if !chosen.contains(&true) {
                    chosen[last] = true;
                }
                for (sent, early_one) in parked.drain(..).zip(chosen) {
                    if early_one {
                        early += 1;
                        sent.deliver();
                    }
                }
            }
        });
        self.effects.held += held;
        if early > 0 {
            self.effects.reordered += early;
            self.releasing.push((a, b));
        } else {
            sim.release(ia, ib);
        }
    }

    /// Sets a fixed one-way latency on the link between `a` and `b`; above `max_latency` (the
    /// normal range) the link counts as slow.
    pub(super) fn set_latency(
        &mut self,
        sim: &mut turmoil::Sim<'_>,
        a: NodeId,
        b: NodeId,
        latency: Duration,
        max_latency: Duration,
    ) {
        let slow = latency > max_latency;
        self.slow[usize::from(a)][usize::from(b)] = slow;
        self.slow[usize::from(b)][usize::from(a)] = slow;
        sim.set_link_latency(self.ip(a), self.ip(b), latency);
        self.latency_changed = true;
    }

    /// Puts every link back to the normal latency range, up to `max_latency`.
    pub(super) fn reset_latencies(&mut self, sim: &mut turmoil::Sim<'_>, max_latency: Duration) {
        let n = self.ips.len();
        for a in 0..n {
            for b in (a + 1)..n {
                sim.set_link_latency(self.ips[a], self.ips[b], Duration::ZERO);
                sim.set_link_max_message_latency(self.ips[a], self.ips[b], max_latency);
            }
        }
        self.slow
            .iter_mut()
            .for_each(|row| row.iter_mut().for_each(|s| *s = false));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use std::net::Ipv4Addr;

    const MAX: Duration = Duration::from_millis(25);

    /// A simulation of three idle hosts and their links.
    fn cluster() -> (turmoil::Sim<'static>, Links, Xoshiro256PlusPlus) {
        let ips: Vec<IpAddr> = (1..=3)
            .map(|i| IpAddr::V4(Ipv4Addr::new(10, 0, 0, i)))
            .collect();
        let mut sim = turmoil::Builder::new().build();
        for ip in &ips {
            sim.host(*ip, || async {
                std::future::pending::<()>().await;
                Ok(())
            });
        }
        let net = Rc::new(RefCell::new(NetFaults::new(ips.clone(), 1)));
        (
            sim,
            Links::new(ips, net),
            Xoshiro256PlusPlus::seed_from_u64(1),
        )
    }

    fn refresh(links: &mut Links, ms: u64) {
        links.refresh(vec![true; 3], Duration::from_millis(ms));
    }

    #[test]
    fn a_cut_shows_in_the_view_and_since_moves_only_on_a_change() {
        let (mut sim, mut links, _) = cluster();
        refresh(&mut links, 5);
        assert_eq!(links.view().since, Duration::ZERO);
        links.partition_both(&mut sim, 0, 1);
        refresh(&mut links, 10);
        let view = links.view();
        assert!(!view.links[0][1] && !view.links[1][0] && !view.reach[0][1]);
        assert!(view.links[0][2] && view.links[2][1]);
        assert_eq!(view.since, Duration::from_millis(10));
        refresh(&mut links, 20);
        assert_eq!(links.view().since, Duration::from_millis(10));
    }

    #[test]
    fn a_one_way_cut_drops_one_direction_only() {
        let (mut sim, mut links, mut rng) = cluster();
        links.partition_oneway(&mut sim, &mut rng, 2, 0);
        refresh(&mut links, 10);
        assert!(!links.view().links[2][0]);
        assert!(links.view().links[0][2]);
        links.heal(&mut sim, &mut rng, 0, 2);
        refresh(&mut links, 20);
        assert!(links.view().links[2][0]);
    }

    #[test]
    fn a_cut_link_is_never_held_and_a_held_link_reaches_nobody() {
        let (mut sim, mut links, mut rng) = cluster();
        links.partition_both(&mut sim, 0, 1);
        links.hold(&mut sim, 1, 0);
        assert!(links.held.is_empty());
        links.hold(&mut sim, 1, 2);
        links.hold(&mut sim, 2, 1);
        assert_eq!(links.held, vec![(1, 2)]);
        refresh(&mut links, 10);
        assert!(!links.view().reach[2][1]);
        links.heal_all(&mut sim, &mut rng);
        refresh(&mut links, 20);
        assert!(links.held.is_empty());
        assert!(links.view().links.iter().flatten().all(|l| *l));
    }

    #[test]
    fn a_slow_link_still_reaches_and_every_latency_change_restarts_the_clock() {
        let (mut sim, mut links, _) = cluster();
        links.set_latency(&mut sim, 0, 1, Duration::from_millis(200), MAX);
        refresh(&mut links, 10);
        assert!(!links.view().links[1][0]);
        assert!(links.view().reach[1][0]);
        links.set_latency(&mut sim, 0, 1, Duration::from_millis(300), MAX);
        refresh(&mut links, 20);
        assert_eq!(links.view().since, Duration::from_millis(20));
        links.reset_latencies(&mut sim, MAX);
        refresh(&mut links, 30);
        assert!(links.view().links[1][0]);
    }

    #[test]
    fn message_faults_show_in_the_view_until_healed() {
        let (mut sim, mut links, mut rng) = cluster();
        links.set_loss(10);
        links.set_duplicate(20);
        links.set_delay(30);
        refresh(&mut links, 10);
        let view = links.view();
        assert_eq!(
            (
                view.loss_percent,
                view.duplicate_percent,
                view.delay_percent
            ),
            (10, 20, 30)
        );
        links.heal_all(&mut sim, &mut rng);
        refresh(&mut links, 20);
        let view = links.view();
        assert_eq!(
            (
                view.loss_percent,
                view.duplicate_percent,
                view.delay_percent
            ),
            (0, 0, 0)
        );
    }
}
