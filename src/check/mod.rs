//! Checkers: pure functions of observations and histories.
