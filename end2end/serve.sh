#!/usr/bin/env bash
# Starts the built gatehouse for the browser tests: loopback, the given port, a throwaway
# database in a temporary directory that is removed when the server stops.
set -u
port=${1:-3100}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT INT TERM
DATABASE_URL="sqlite://$dir/gatehouse.db" \
GATEHOUSE_BIND="127.0.0.1:$port" \
GATEHOUSE_ADMIN_USER=admin \
GATEHOUSE_ADMIN_PASSWORD="${E2E_ADMIN_PASSWORD:-e2e-admin-password}" \
LEPTOS_SITE_ROOT="$root/target/site" \
RUST_LOG="${RUST_LOG:-warn}" \
  "$root/target/${E2E_PROFILE:-debug}/gatehouse" &
pid=$!
wait "$pid"
