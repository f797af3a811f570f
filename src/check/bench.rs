//! Benchmark of the checker on Porcupine's test data (`squall bench check`).
