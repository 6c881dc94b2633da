#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster on loopback: a temporary directory, a free
# port, no system service. GATEHOUSE_TEST_POSTGRES=postgres://postgres@127.0.0.1:PORT is exported
# for the command; the cluster and its directory are removed afterwards.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/gatehouse-pg.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() {
  "$here/pg-cluster.sh" stop "$dir" immediate 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM
"$here/pg-cluster.sh" init "$dir" "$port"
export GATEHOUSE_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port"
"$@"
