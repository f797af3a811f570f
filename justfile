# Long runs live here; CI runs short smokes of each (.ci/run). `pip install rust-just` brings `just`.

# Run the whole test suite (what CI runs).
test:
    cargo test --release --workspace

# What CI runs, or some of its steps: lint test chaos fuzz msrv (see .ci/run).
ci *steps:
    bash .ci/run {{steps}}

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

# cargo-fuzz replaces .cargo/config.toml's rustflags, hence tokio_unstable below: without it
# tokio's scheduling is not seeded by the scenario and a crash may not replay.

# Coverage-guided fuzzing with protocol-state feedback, seeded with the system's corpus (needs nightly and cargo-fuzz).
fuzz time="600" target="raft": (fuzz-seeds target)
    cd fuzz && mkdir -p corpus/{{target}} && RUSTFLAGS="--cfg tokio_unstable" \
        cargo +nightly fuzz run {{target}} -s none corpus/{{target}} seeds/{{target}} -- -max_total_time={{time}}

# Forged messages into one Raft node (inputs are messages, not scenarios: no seeds).
fuzz-forge time="600":
    cd fuzz && mkdir -p corpus/raft_forge && RUSTFLAGS="--cfg tokio_unstable" \
        cargo +nightly fuzz run raft_forge -s none corpus/raft_forge -- -max_total_time={{time}}

# openraft under the fuzzer (same as `just fuzz TIME openraft`).
fuzz-openraft time="600": (fuzz time "openraft")

# Encode a system's corpus scenarios as fuzzer inputs into fuzz/seeds/TARGET (regenerated; scenarios beyond the generator's bounds are skipped).
fuzz-seeds target="raft":
    #!/usr/bin/env bash
    set -euo pipefail
    # raft-lease's scenarios live beside raft's (each file names its store).
    case "{{target}}" in
      openraft) pkg=squall-openraft dir=targets/openraft/corpus ;;
      raft-lease) pkg=squall dir=corpus/raft ;;
      *) pkg=squall dir=corpus/{{target}} ;;
    esac
    cargo build --release --quiet -p "$pkg"
    rm -rf fuzz/seeds/{{target}}
    for f in "$dir"/*.scn; do
        ./target/release/"$pkg" encode "$f" --out fuzz/seeds/{{target}} >/dev/null || echo "  (not a seed: $f)"
    done
    echo "seeds: $(ls fuzz/seeds/{{target}} | wc -l) in fuzz/seeds/{{target}}"

# Review changed corpus snapshots (needs cargo-insta: cargo install cargo-insta).
review:
    cargo insta review

# Simulation speed benchmark (BENCHMARKS.md).
bench-sim:
    cargo run --release -- bench sim raft --scenarios 200 --passes 5

# Time-to-detect for every planted bug, blind and coverage-guided (appends the table to BENCHMARKS.md).
hunt-all runs="5" budget="120s":
    cargo run --release -- hunt raft --mutant all --mode all --runs {{runs}} --budget {{budget}} --markdown BENCHMARKS.md

# A long clean chaos run of the correct store (the zero-violations claim in BENCHMARKS.md).
soak time="30m":
    cargo run --release -- chaos raft --time {{time}} --jobs 2 --out chaos-out

# openraft under squall.
chaos-openraft time="30m":
    cargo run --release -p squall-openraft -- chaos openraft --time {{time}} --jobs 2 --out chaos-out-openraft

# openraft under squall on an older release (see targets/openraft/README.md, "Testing other openraft releases").
chaos-openraft-release release="0.10.0-alpha.24" time="10m":
    cargo run --release --manifest-path targets/openraft/releases/{{release}}/Cargo.toml -- chaos openraft --time {{time}} --jobs 2 --out chaos-out-openraft-{{release}}

# The adapter's tests on the current pin and on every older release (each replays its findings in fresh processes).
test-openraft-releases:
    cargo test --release -p squall-openraft
    for m in targets/openraft/releases/*/Cargo.toml; do cargo test --release --locked --manifest-path "$m" || exit 1; done

# Calibrate the progress bound of the openraft adapter (how long elections take; see targets/openraft/README.md).
openraft-progress-bound runs="1000":
    cargo run --release -p squall-openraft --example progress_bound -- {{runs}}
