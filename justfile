# Long runs live here; CI runs short smokes of each (.ci/run). `pip install rust-just` brings `just`.

# Run the whole test suite (what CI runs).
test:
    cargo test --release --workspace

# Run one generated scenario with its trace.
run seed="1" system="raft":
    cargo run --release -- run {{system}} --seed {{seed}} --trace

# Replay a scenario file with its trace.
replay file:
    cargo run --release -- replay {{file}} --trace

# Shrink a failing scenario file (writes FILE.min.scn).
shrink file:
    cargo run --release -- shrink {{file}}

# Blind chaos search.
chaos time="10m" jobs="2" system="raft":
    cargo run --release -- chaos {{system}} --time {{time}} --jobs {{jobs}} --out chaos-out

# Coverage-guided fuzzing with protocol-state feedback (needs nightly and cargo-fuzz).
fuzz time="600" target="raft":
    cd fuzz && cargo +nightly fuzz run {{target}} -s none -- -max_total_time={{time}}

# Review changed corpus snapshots (needs cargo-insta: cargo install cargo-insta).
review:
    cargo insta review

# Simulation speed benchmark (BENCHMARKS.md).
bench-sim:
    cargo run --release -- bench sim raft --scenarios 200 --passes 5
