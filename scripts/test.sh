#!/usr/bin/env bash
# Runs reel's checks and tests (after scripts/setup.sh has installed the models and samples).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --release --locked --workspace --all-targets -- -D warnings
# cargo-nextest runs the tests of every binary side by side (both cores stay busy when one
# binary has a single long test); cargo's own runner where it is not installed.
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --release --locked --workspace --no-fail-fast --status-level fail --final-status-level slow
else
  cargo test --release --locked --workspace
fi
# Bad inputs, dangerous outputs and signals across every command family (on the reel that
# the tests above built).
mkdir -p output
python3 scripts/sweep.py --table output/sweep.md >/dev/null
