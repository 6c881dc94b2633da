#!/usr/bin/env bash
# make bench: Gatehouse side by side with node-oidc-provider, driven from outside by wrk
# (bench/run.py says what runs; BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_POSTGRES tune it).
# Installs what it needs (wrk and PostgreSQL from Debian, oidc-provider from npm) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/tools/node_modules/.bin:$PATH"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
command -v wrk >/dev/null || $SUDO apt-get install -y -qq wrk >/dev/null
ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || bash scripts/setup.sh
[ -d bench/peer/node_modules/oidc-provider ] || (cd bench/peer && npm ci --no-audit --no-fund --silent)
# The release site, precompressed (brotli, gzip), as `make run` builds it: the first-load size is
# measured too.
bash scripts/setup.sh release
cargo xtask build --release
cargo build --release -p gatehouse --bin gatehouse --example bare --example signrate
python3 bench/run.py
