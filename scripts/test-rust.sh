#!/usr/bin/env bash
# Runs the Rust tests: unit tests of every crate and the integration suite against SQLite, then
# the integration suite again against a throwaway PostgreSQL cluster on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
# The full-disk fault test mounts a small tmpfs. Where this machine cannot mount (not root, or a
# container without the capability) it is left out on purpose, and said so loudly here; the test
# itself fails when it cannot mount and nobody said so.
probe=$(mktemp -d)
if mount -t tmpfs -o size=1m tmpfs "$probe" 2>/dev/null; then
  umount "$probe"
else
  echo "!! cannot mount a tmpfs here: the full-disk fault test is LEFT OUT (GATEHOUSE_TEST_NO_MOUNT=1)"
  export GATEHOUSE_TEST_NO_MOUNT=1
fi
rmdir "$probe"
echo "== unit and integration tests (SQLite)"
cargo test -p model -p domain -p app -p gatehouse
echo "== integration tests (PostgreSQL)"
# The same package list as above, so cargo resolves the same features and reuses every artifact
# (with `-p gatehouse` alone the dev-dependencies of the other crates drop out and it rebuilds all).
# The token batch writer's unit test runs there too (its SQL differs per backend).
bash scripts/with-postgres.sh bash -c 'cargo test -p model -p domain -p app -p gatehouse --test api &&
  cargo test -p model -p domain -p app -p gatehouse --lib -- oauth::batch'

