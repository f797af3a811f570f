//! Brute-force oracle.
