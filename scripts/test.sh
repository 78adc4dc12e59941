#!/usr/bin/env bash
# Runs reel's checks and tests (after scripts/setup.sh has installed the models and samples).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --release --locked --workspace --all-targets -- -D warnings
cargo test --release --locked --workspace
# Bad inputs, dangerous outputs and signals across every command family (on the reel that
# the tests above built).
mkdir -p output
python3 scripts/sweep.py --table output/sweep.md >/dev/null
