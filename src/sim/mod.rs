//! The simulator: turning a scenario into turmoil calls, step by step ([`runner`]), with the
//! state of the link faults kept by its own type (`links::Links`: cut, held, slow and
//! releasing links, and the fault view checkers read), the nemeses that span ticks
//! ([`nemesis`]), the disk corruption choice ([`corrupt`]), the OS randomness of the
//! scenario's thread seeded (`entropy`) and each scenario as isolated from the ones before
//! it as its system needs ([`isolate`]). Clock faults and their effect counts are kept in
//! `clocks`. Forged messages are drawn and their consequences for
//! the run's checks decided in `forge`; the bounded-memory check lives in [`memory`].

mod clocks;
pub mod corrupt;
pub(crate) mod entropy;
mod forge;
pub mod isolate;
mod links;
pub mod memory;
pub mod nemesis;
pub mod runner;
