//! squall: model-based fuzzing and chaos for distributed-protocol code.
pub mod bench;
pub mod chaos;
pub mod check;
pub mod cli;
pub mod determinism;
pub mod fuzzing;
pub mod history;
pub mod hunt;
pub mod mutants;
pub mod report;
pub mod scenario;
pub mod shrink;
pub mod sim;
pub mod systems;
pub mod verify;
