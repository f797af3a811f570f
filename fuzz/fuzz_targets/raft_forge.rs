//! Forged messages into one Raft node, the libFuzzer way: each input puts the store's node in
//! one of a few honest states and delivers one forged message (a well-formed `Message` with
//! arbitrary contents, framed as on the wire), then lets a few heartbeats pass. A panic is a
//! crash; a node over the bounded-memory limit aborts with the reason. SQUALL_MUTANT=NAME
//! plants a bug (see `squall mutants`; `fixed-append-batch` is the one only forgeries reach).
//! The body is `squall::systems::raft::forged::run_one`, unit-tested in the library.
#![no_main]

use libfuzzer_sys::fuzz_target;
use squall::systems::raft::{forged, RaftKv};
use std::sync::OnceLock;

fn system() -> &'static RaftKv {
    static SYSTEM: OnceLock<RaftKv> = OnceLock::new();
    SYSTEM.get_or_init(|| {
        let mutant = std::env::var("SQUALL_MUTANT")
            .ok()
            .filter(|m| !m.is_empty());
        RaftKv::from_mutant_name(mutant.as_deref()).unwrap_or_else(|e| panic!("SQUALL_MUTANT: {e}"))
    })
}

fuzz_target!(|data: &[u8]| {
    if let Err(violation) = forged::run_one(system(), data) {
        panic!("squall: {violation}");
    }
});
