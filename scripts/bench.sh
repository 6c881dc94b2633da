#!/usr/bin/env bash
# The benchmarks: token endpoint and Users list, on SQLite and on a throwaway PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release -p gatehouse --example bench
./target/release/examples/bench "${BENCH_SECONDS:-5}" "${BENCH_CONCURRENCY:-32}"
bash scripts/with-postgres.sh ./target/release/examples/bench "${BENCH_SECONDS:-5}" "${BENCH_CONCURRENCY:-32}"
