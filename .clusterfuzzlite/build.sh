#!/bin/bash -eu
# Builds squall's fuzz targets for ClusterFuzzLite (OSS-Fuzz's base-builder-rust image).
cd "$SRC/squall/fuzz"
export RUSTFLAGS="${RUSTFLAGS:-} --cfg tokio_unstable"
cargo fuzz build -O
for target in raft; do
  cp "target/x86_64-unknown-linux-gnu/release/$target" "$OUT/"
done
