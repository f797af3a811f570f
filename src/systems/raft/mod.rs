//! Raft KV store.
