//! The simulator: turning a scenario into turmoil calls, step by step ([`runner`]), with the
//! OS randomness of the scenario's thread seeded ([`entropy`]) and each scenario as isolated
//! from the ones before it as its system needs ([`isolate`]).

pub mod entropy;
pub mod isolate;
pub mod runner;
