#!/usr/bin/env bash
# Runs the Rust tests: unit tests of every crate and the integration suite against SQLite, then
# the integration suite again against a throwaway PostgreSQL cluster on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
echo "== unit and integration tests (SQLite)"
cargo test -p model -p domain -p app -p gatehouse
echo "== integration tests (PostgreSQL)"
bash scripts/with-postgres.sh cargo test -p gatehouse --test api
