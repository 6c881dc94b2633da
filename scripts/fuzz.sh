#!/usr/bin/env bash
# HTTP-level fuzz of a real server: schemathesis (from PyPI, in tools/fuzz-venv) drives the admin
# API from its own OpenAPI document with every check, and scripts/fuzz_http.py throws hostile
# input at the OAuth2 endpoints, the pages and the server functions (with the venv's python: its
# DPoP proofs are signed with the `cryptography` package from PyPI). Passes when nothing answered
# 5xx, no answer was wrong, the log has no panic and the server is healthy afterwards.
#   FUZZ_SECONDS  how long the hostile-input part runs (make fuzz: 600; make test: 45)
#   FUZZ_EXAMPLES schemathesis examples per operation (make fuzz: 500; make test: 25)
#   FUZZ_EXCLUDE  schemathesis checks left out (none by default; every check is on, see
#                 schemathesis.toml for the two operations that relax one)
#   FUZZ_KEEP     a path to copy schemathesis's whole report to
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
secs=${FUZZ_SECONDS:-600}
examples=${FUZZ_EXAMPLES:-500}
venv=tools/fuzz-venv
if [ ! -x "$venv/bin/schemathesis" ]; then
  if ! python3 -m venv "$venv" 2>/dev/null; then
    # Debian's python3 needs its venv package for this.
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get install -y -qq python3-venv >/dev/null
    rm -rf "$venv"; python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install -q 'schemathesis>=4,<5'
fi
# fuzz_http.py signs DPoP proofs (ES256, EdDSA, RS256) with `cryptography` (a venv made before it
# needed it gets it now).
"$venv/bin/python" -c 'import cryptography' 2>/dev/null || "$venv/bin/pip" install -q 'cryptography>=41'
cargo build -q -p gatehouse --bin gatehouse
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
password="fuzz-admin-password"
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT INT TERM
DATABASE_URL="sqlite://$dir/gatehouse.db" GATEHOUSE_BIND="127.0.0.1:$port" \
GATEHOUSE_ADMIN_PASSWORD="$password" LEPTOS_SITE_ROOT=target/site RUST_LOG=info \
  ./target/debug/gatehouse > "$dir/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -fs "$url/readyz" > /dev/null && break; sleep 0.2; done

echo "== fuzz: admin API from its OpenAPI document (schemathesis, $examples examples per operation)"
curl -s -o /dev/null -c "$dir/jar" -H "Origin: $url" -H 'Accept: text/html' \
  --data "login_name=admin&password=$password&return_to=/admin" "$url/sfn/login"
cookie=$(awk '$6 == "gatehouse_session" {print $7}' "$dir/jar")
[ -n "$cookie" ] || { echo "fuzz: cannot sign in"; exit 1; }
st_status=0
"$venv/bin/schemathesis" run "$url/api/v1/openapi.json" \
  -H "Cookie: gatehouse_session=$cookie" -H "Origin: $url" \
  --max-examples "$examples" --no-color ${FUZZ_EXCLUDE:+--exclude-checks "$FUZZ_EXCLUDE"} \
  > "$dir/schemathesis.log" 2>&1 || st_status=$?
# The failures (with a curl line to reproduce each), then the summary.
sed -n '/FAILURES/,/SUMMARY/p' "$dir/schemathesis.log" | head -${FUZZ_SHOW:-80}
tail -12 "$dir/schemathesis.log"
[ -z "${FUZZ_KEEP:-}" ] || cp "$dir/schemathesis.log" "$FUZZ_KEEP"

echo "== fuzz: OAuth2 endpoints, pages and server functions (${secs}s of hostile input)"
py_status=0
FUZZ_ADMIN_PASSWORD="$password" "$venv/bin/python" scripts/fuzz_http.py "$url" "$secs" || py_status=$?

echo "== fuzz: the server afterwards"
health=$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")
sed 's/\x1b\[[0-9;]*m//g' "$dir/server.log" > "$dir/plain.log"
fives=$(grep -c 'status=5[0-9][0-9]' "$dir/plain.log" || true)
panics=$(grep -ci 'panicked' "$dir/plain.log" || true)
grep 'status=5[0-9][0-9]\|ERROR' "$dir/plain.log" | head -5 || true
echo "healthz $health, 5xx answered $fives, panics $panics, schemathesis exit $st_status, hostile-input exit $py_status"
[ "$health" = 200 ] && [ "$fives" = 0 ] && [ "$panics" = 0 ] && [ "$st_status" = 0 ] && [ "$py_status" = 0 ]
