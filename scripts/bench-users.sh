#!/usr/bin/env bash
# make bench-users: the Users list's query times with 100,000 users, on SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release -p gatehouse --example users_bench
./target/release/examples/users_bench
bash scripts/with-postgres.sh ./target/release/examples/users_bench
