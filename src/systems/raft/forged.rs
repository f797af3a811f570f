//! The body of the forged-message fuzz target (`cargo fuzz run raft_forge`): one Raft node,
//! one forged message per input, the libFuzzer way — small inputs, tens of thousands of them
//! a second, no simulator.
//!
//! The node is the store's sans-IO core (`Node`) in a three-node configuration. The input's
//! first byte puts it in one of the states an honest cluster puts a node in ([`STATES`]: a
//! fresh follower, a follower with a log, a pre-candidate, a candidate, a leader, a leader
//! with a lagging follower), by feeding it the honest messages that lead there, and names the
//! peer the forgery impersonates; the rest of the input becomes the forged message, through
//! the same [`Forger`](crate::node::Forger) and frame decoding as a `forge` step in a
//! simulated run. Then a few heartbeat intervals pass, so that whatever the message set up
//! (a next index, a commit index, a term) is acted on.
//!
//! What must hold is robustness, as for any forged run of a crash-fault-tolerant system: no
//! panic (libFuzzer reports one as a crash; debug assertions and overflow checks are on in
//! fuzz builds), and the node's footprint within the bounded-memory limit.

use super::log::Corrupt;
use super::messages::{
    AppendEntries, AppendReply, ClientRequest, Command, Entry, Message, PreVoteReply,
    RequestVoteReply, Term,
};
use super::node::{Node, ELECTION_TIMEOUT_MAX, HEARTBEAT};
use super::observer::{Observer, Role};
use super::RaftKv;
use crate::node::disk::Disk;
use crate::node::forge::ForgeContext;
use crate::node::frame;
use crate::node::net::{Net, Received};
use crate::systems::property::harness::MEMORY_LIMIT;
use crate::systems::{NodeContext, System};
use crate::workload::kv::KvOp;
use arbitrary::Unstructured;
use std::net::SocketAddr;
use tokio::time::Instant;

/// Cluster size the node believes in.
const NODES: u8 = 3;

/// The states the node is put in before the forgery arrives, by the input's first byte.
pub const STATES: [&str; 6] = [
    "fresh follower",
    "follower with a log",
    "pre-candidate",
    "candidate",
    "leader",
    "leader with a lagging follower",
];

/// Heartbeat intervals that pass after the forgery: two maximum election timeouts.
const ROUNDS_AFTER: u32 = 12;

/// What one input did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forged {
    /// The state the node was in ([`STATES`]).
    pub state: &'static str,
    /// The forged message, if the bytes made one.
    pub message: Option<String>,
    /// The node's footprint at the end (disk and accounted memory).
    pub footprint: u64,
}

fn addr(node: u8) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, node + 1], 7000))
}

const CLIENT: SocketAddr = SocketAddr::new(
    std::net::IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 1, 1)),
    9000,
);

/// Hands `node` an honest message and drops what it sends back.
fn deliver(node: &mut Node, msg: impl Into<Message>, from: SocketAddr, now: Instant) {
    node.on_message(msg.into(), from, now);
    node.outbox.clear();
}

fn put(term: Term, value: u32) -> Entry {
    Entry {
        term,
        command: Command::Kv {
            client: 7,
            seq: u64::from(value),
            op: KvOp::Put { key: 1, value },
        },
    }
}

/// n1, leader of term 2, replicates three entries and commits two.
fn follow(node: &mut Node, now: Instant) {
    let append = |prev: (u64, Term), entries, commit| AppendEntries {
        from: 1,
        term: 2,
        prev_index: prev.0,
        prev_term: prev.1,
        entries,
        leader_commit: commit,
    };
    deliver(
        node,
        append((0, 0), vec![put(1, 1), put(1, 2)], 0),
        addr(1),
        now,
    );
    let noop = Entry {
        term: 2,
        command: Command::Noop,
    };
    deliver(node, append((2, 1), vec![noop], 2), addr(1), now);
}

/// One move towards leadership: the election timer fires, or n1 grants what was asked.
fn campaign_step(node: &mut Node, now: &mut Instant) {
    match node.role() {
        Role::Leader => {}
        Role::Follower => {
            *now += ELECTION_TIMEOUT_MAX + HEARTBEAT;
            node.on_timer(*now);
            node.outbox.clear();
        }
        Role::PreCandidate => {
            let reply = PreVoteReply {
                from: 1,
                term: node.term() + 1,
                current_term: node.term(),
                granted: true,
            };
            deliver(node, reply, addr(1), *now);
        }
        Role::Candidate => {
            let reply = RequestVoteReply {
                from: 1,
                term: node.term(),
                granted: true,
            };
            deliver(node, reply, addr(1), *now);
        }
    }
}

/// Puts a fresh node in state `state` (an index into [`STATES`]); returns the time reached.
fn prepare(node: &mut Node, state: usize, start: Instant) -> Instant {
    let mut now = start;
    if state == 0 {
        return now;
    }
    follow(node, now);
    let moves = match state {
        1 => 0,
        2 => 1,
        3 => 2,
        _ => 6,
    };
    for _ in 0..moves {
        campaign_step(node, &mut now);
    }
    if state >= 4 && node.role() == Role::Leader {
        let request = ClientRequest {
            client: 9,
            seq: 1,
            op: KvOp::Append { key: 2, value: 3 },
        };
        deliver(node, request, CLIENT, now);
        let (term, last) = (node.term(), node.last_index());
        let ack = |from, success, index| AppendReply {
            from,
            term,
            success,
            index,
        };
        deliver(node, ack(1, true, last), addr(1), now);
        if state == 5 {
            deliver(node, ack(2, false, 1), addr(2), now);
        }
    }
    now
}

/// Runs one input against `system` (the store, or one of its planted bugs): see the module
/// docs. `Err` names a robustness violation other than a panic (panics propagate).
pub fn run_one(system: &RaftKv, data: &[u8]) -> Result<Forged, String> {
    let (&choice, rest) = data.split_first().unwrap_or((&0, &[]));
    let state = usize::from(choice) % STATES.len();
    let sender = 1 + (choice / STATES.len() as u8) % (NODES - 1);
    let disk = Disk::new();
    let ctx = NodeContext {
        id: 0,
        peers: (0..NODES).map(addr).collect(),
        disk: disk.clone(),
        seed: 1,
        net: Net::Real,
        incarnation: 0,
        points: Default::default(),
        clock: Default::default(),
    };
    // Only differences of instants matter to the node, so the wall clock's reading does not
    // make runs differ.
    let start = Instant::now();
    // A fresh disk holds no record to find corrupt.
    let mut node = Node::new(
        &ctx,
        Observer::new(NODES),
        system.mutant,
        system.reads,
        start,
    )
    .map_err(|Corrupt(why)| format!("starting from an empty disk: {why}"))?;
    let mut now = prepare(&mut node, state, start);
    let forger = system.forger().ok_or("the store names no message type")?;
    let context = ForgeContext {
        nodes: NODES,
        target: 0,
        sender,
    };
    let forged = forger.forge(&mut Unstructured::new(rest), context);
    let message = forged.as_ref().map(|f| f.description.clone());
    if let Some(forged) = forged {
        let received = match frame::decode::<Message>(&forged.frame) {
            Ok(msg) => Received::Message(msg),
            Err(e) => Received::Rejected(e),
        };
        node.on_received(received, addr(sender), now);
        node.outbox.clear();
        for _ in 0..ROUNDS_AFTER {
            now += HEARTBEAT;
            node.on_timer(now);
            node.outbox.clear();
        }
    }
    let footprint = disk.stored_bytes() + node.memory();
    if footprint > MEMORY_LIMIT {
        return Err(format!(
            "bounded memory: the node holds {footprint} bytes after the forgery, over the limit of {MEMORY_LIMIT}"
        ));
    }
    Ok(Forged {
        state: STATES[state],
        message,
        footprint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::generate::seed_bytes;
    use crate::systems::raft::{Mutant, Reads};

    #[test]
    fn every_state_is_reached() {
        for (state, name) in STATES.iter().enumerate() {
            let disk = Disk::new();
            let ctx = NodeContext {
                id: 0,
                peers: (0..NODES).map(addr).collect(),
                disk,
                seed: 1,
                net: Net::Real,
                incarnation: 0,
                points: Default::default(),
                clock: Default::default(),
            };
            let start = Instant::now();
            let Ok(mut node) = Node::new(&ctx, Observer::new(NODES), None, Reads::Log, start)
            else {
                panic!("an empty disk holds no corrupt record");
            };
            prepare(&mut node, state, start);
            let role = match state {
                0 | 1 => Role::Follower,
                2 => Role::PreCandidate,
                3 => Role::Candidate,
                _ => Role::Leader,
            };
            assert_eq!(node.role(), role, "{name}");
        }
    }

    #[test]
    fn random_forgeries_do_not_panic_the_correct_store() {
        let system = RaftKv::default();
        let mut messages = 0;
        for seed in 0..3000 {
            let bytes = seed_bytes(seed);
            let len = 1 + (seed as usize * 7) % 200;
            let outcome = run_one(&system, &bytes[..len]).expect("within bounds");
            messages += usize::from(outcome.message.is_some());
        }
        assert!(messages > 2900, "{messages}");
    }

    /// The message `run_one` forges from `input`.
    fn forged_message(input: &[u8]) -> Option<Message> {
        let (&choice, rest) = input.split_first()?;
        let context = ForgeContext {
            nodes: NODES,
            target: 0,
            sender: 1 + (choice / STATES.len() as u8) % (NODES - 1),
        };
        let forged = RaftKv::default()
            .forger()?
            .forge(&mut Unstructured::new(rest), context)?;
        frame::decode(&forged.frame).ok()
    }

    #[test]
    fn the_planted_batch_overflow_panics_only_on_a_long_forged_batch() {
        let system = RaftKv {
            mutant: Some(Mutant::FixedAppendBatch),
            ..RaftKv::default()
        };
        let (mut long_batches, mut panics) = (0, 0);
        for seed in 0..2000 {
            let input = &seed_bytes(seed)[..96];
            let long_batch = matches!(
                forged_message(input),
                Some(Message::AppendEntries(m)) if m.entries.len() > 2 && (m.from == 1 || m.from == 2)
            );
            let caught = std::panic::catch_unwind(|| run_one(&system, input)).is_err();
            assert!(
                !caught || long_batch,
                "seed {seed}: panicked on another message"
            );
            long_batches += usize::from(long_batch);
            panics += usize::from(caught);
        }
        assert!(
            panics > 0,
            "the planted bug never panicked ({long_batches} long batches)"
        );
    }
}
