//! Turning a scenario into turmoil calls, step by step; squall's transport, disk and the
//! record of what faults did.

pub mod disk;
pub mod effects;
pub mod entropy;
pub mod isolate;
pub mod net;
pub mod runner;
