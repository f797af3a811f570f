//! squall: model-based fuzzing and chaos for distributed-protocol code.
pub mod check;
pub mod history;
