//! squall: model-based fuzzing and chaos for distributed-protocol code.
pub mod check;
pub mod cli;
pub mod history;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod systems;
