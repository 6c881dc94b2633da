#!/usr/bin/env bash
# Runs the Rust tests: unit tests of every crate and the integration suite against SQLite, then
# (when PostgreSQL's binaries are here) against a throwaway PostgreSQL cluster on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
cargo test -p domain -p app -p gatehouse
