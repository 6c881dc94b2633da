#!/usr/bin/env bash
# Installs what building, running and testing Gatehouse needs, idempotently; each step runs
# only when its tool is missing. The site is built by the workspace's own step (`cargo xtask
# build`, xtask/), so no build tool is installed from crates.io.
#   setup.sh release  what `make run` needs: the wasm target, OpenSSL's headers, and binaryen
#                     132 from npm (Debian's 108 breaks hydration)
#   setup.sh          what `make test` needs besides: Debian's chromium and PostgreSQL and the
#                     npm packages of end2end/ (never a browser download)
#   setup.sh dev      what `make dev`'s watch mode needs besides: cargo-leptos 0.3.10 and the
#                     wasm-bindgen CLI at the lockfile's version (about 16 minutes, once)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
mode=${1:-test}

need_apt=()
# OpenSSL signs RS256 tokens (the openssl crate links Debian's libssl; found with pkg-config).
pkg-config --exists openssl 2>/dev/null || need_apt+=(libssl-dev pkg-config)
if [ "$mode" != release ]; then
  [ -x /usr/bin/chromium ] || need_apt+=(chromium)
  command -v pg_ctlcluster >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: apt-get install ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

if [ "$mode" = release ] && [ ! -x tools/node_modules/.bin/wasm-opt ]; then
  mkdir -p tools && (cd tools && npm install --no-audit --no-fund --loglevel=error --prefix . binaryen@132)
fi

if [ "$mode" != release ] && { [ ! -x end2end/node_modules/.bin/playwright ] || [ end2end/package-lock.json -nt end2end/node_modules/.installed ]; }; then
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed)
fi

if [ "$mode" = dev ]; then
  if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "0.3.10" ]; then
    echo "setup: installing cargo-leptos 0.3.10 (about 14 minutes on 2 cores)"
    cargo install cargo-leptos --locked --version 0.3.10
  fi
  WB_VERSION=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p' | head -1)
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WB_VERSION" ]; then
    echo "setup: installing wasm-bindgen-cli $WB_VERSION"
    cargo install wasm-bindgen-cli --version "=$WB_VERSION"
  fi
fi
