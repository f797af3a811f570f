#!/usr/bin/env bash
# Bugs squall was never told about: each .diff here was planted in the Raft store by a
# reviewer who did not see the mutant list's tests. For each, apply it to a scratch worktree
# of HEAD, build, and hunt it with blind chaos from scratch. Prints one line per bug.
#   docs/blind-bugs/run.sh [TIME] [SEED]      (default 60s, seed 1)
set -euo pipefail
time=${1:-60s}
seed=${2:-1}
shopt -s nullglob
root=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d)
tree=$tmp/tree
trap 'git -C "$root" worktree remove --force "$tree" 2>/dev/null; rm -rf "$tmp"' EXIT
git -C "$root" worktree add --detach "$tree" HEAD >/dev/null
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target/blind-bugs}
for diff in "$root"/docs/blind-bugs/*.diff; do
    name=$(basename "$diff" .diff)
    git -C "$tree" reset -q --hard
    git -C "$tree" clean -qfd
    if ! git -C "$tree" apply "$diff"; then
        echo "$name: does not apply to HEAD"
        continue
    fi
    if ! cargo build --release --quiet --bin squall --manifest-path "$tree/Cargo.toml"; then
        echo "$name: does not build"
        continue
    fi
    out=$("$CARGO_TARGET_DIR/release/squall" chaos raft --time "$time" --jobs 1 --seed "$seed" \
        --stop-at-first --out "$CARGO_TARGET_DIR/out-$name" 2>&1 || true)
    found=$(grep -o 'FOUND .* violation of [^(]*' <<<"$out" | sed 's/ *$//' || true)
    after=$(grep -o 'first after [0-9]* execs, [0-9.]*s' <<<"$out" || true)
    echo "$name: ${found:-not found in $time} ${after:+($after)}"
done
