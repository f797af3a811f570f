//! Generated histories.
