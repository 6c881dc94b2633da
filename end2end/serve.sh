#!/usr/bin/env bash
# Starts the built gatehouse for the browser tests: loopback, the given port, a throwaway
# database in a temporary directory that is removed when the server stops.
set -u
port=${1:-3100}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT INT TERM
# Mail goes to an SMTP sink on loopback, into E2E_MAIL_DIR (the tests read it): password reset
# and sign-up are on.
mailport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
maildir=${E2E_MAIL_DIR:-$dir/mail}
node "$root/end2end/smtp-sink.js" "$mailport" "$maildir" &
sink=$!
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; kill "$sink" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT INT TERM
GATEHOUSE_SMTP_URL="smtp://127.0.0.1:$mailport" \
GATEHOUSE_MAIL_FROM="Gatehouse <gatehouse@e2e.example>" \
GATEHOUSE_REGISTRATION=open \
DATABASE_URL="sqlite://$dir/gatehouse.db" \
GATEHOUSE_BIND="127.0.0.1:$port" \
GATEHOUSE_ADMIN_USER=admin \
GATEHOUSE_ADMIN_PASSWORD="${E2E_ADMIN_PASSWORD:-e2e-admin-password}" \
LEPTOS_SITE_ROOT="$root/target/site" \
RUST_LOG="${RUST_LOG:-warn}" \
  "$root/target/${E2E_PROFILE:-debug}/gatehouse" &
pid=$!
wait "$pid"
