#!/usr/bin/env bash
# Installs what building and testing Gatehouse needs, idempotently: the wasm target,
# cargo-leptos and the wasm-bindgen CLI (from crates.io, at the versions the lockfile needs),
# Debian's chromium and PostgreSQL, the npm packages of end2end/ (never a browser download),
# and binaryen from npm for release builds. Each step runs only when its tool is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v pg_ctlcluster >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
# OpenSSL signs RS256 tokens (the openssl crate links Debian's libssl; found with pkg-config).
pkg-config --exists openssl 2>/dev/null || need_apt+=(libssl-dev pkg-config)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: apt-get install ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "0.3.10" ]; then
  echo "setup: installing cargo-leptos 0.3.10 (about 14 minutes on 2 cores)"
  cargo install cargo-leptos --locked --version 0.3.10
fi

WB_VERSION=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock 2>/dev/null | sed -n 's/^version = "\(.*\)"/\1/p' | head -1)
WB_VERSION=${WB_VERSION:-0.2.130}
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WB_VERSION" ]; then
  echo "setup: installing wasm-bindgen-cli $WB_VERSION"
  cargo install wasm-bindgen-cli --version "=$WB_VERSION"
fi

if [ ! -x end2end/node_modules/.bin/playwright ] || [ end2end/package-lock.json -nt end2end/node_modules/.installed ]; then
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed)
fi

if [ "${1:-}" = "release" ] && [ ! -x tools/node_modules/.bin/wasm-opt ]; then
  # Debian's binaryen (108) breaks hydration; 132 from npm works.
  mkdir -p tools && (cd tools && npm install --no-audit --no-fund --loglevel=error --prefix . binaryen@132)
fi
