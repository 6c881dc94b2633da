# Gatehouse: `make run` builds and serves on 127.0.0.1:3000; `make test` runs every test.
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/tools/node_modules/.bin:$(PATH)
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: setup run dev build test test-rust test-e2e test-fuzz fuzz bench bench-users bench-purge bench-revocation fmt lint

setup:
	@bash scripts/setup.sh

## Release build of server and wasm, then serve with the SQLite file ./gatehouse.db.
run:
	@bash scripts/setup.sh release
	cargo xtask build --release
	LEPTOS_SITE_ROOT=target/site ./target/release/gatehouse

## Debug build and run, rebuilt and restarted on every change (cargo-leptos's watch mode;
## installs cargo-leptos once, about 16 minutes).
dev:
	@bash scripts/setup.sh dev
	cargo leptos watch

## Debug build of the server and the site (xtask/: no cargo-leptos needed).
build: setup
	cargo xtask build

## Every test: domain unit tests, the integration suite (SQLite and PostgreSQL) and the browser tests.
test: setup test-rust test-e2e test-fuzz

test-rust:
	bash scripts/test-rust.sh

test-e2e:
	cargo xtask build
	cd end2end && E2E_PORT=$$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') npx playwright test

## A short HTTP-level fuzz of the real server (schemathesis on the admin API, hostile input on the
## OAuth2 endpoints, pages and server functions): zero 5xx, zero panics, healthy afterwards.
test-fuzz:
	FUZZ_SECONDS=45 FUZZ_EXAMPLES=25 bash scripts/fuzz.sh

## The long fuzz: ten minutes of hostile input and every schemathesis check.
fuzz:
	FUZZ_SECONDS=600 FUZZ_EXAMPLES=500 bash scripts/fuzz.sh

## Gatehouse and node-oidc-provider side by side, from outside (wrk); writes bench/results.json.
bench:
	bash scripts/bench.sh

## A million opaque tokens issued and expired: RSS and the database's size before and after the purge.
bench-purge:
	cargo build --release -p gatehouse --bin gatehouse
	python3 bench/purge.py

## Two instances on PostgreSQL: how often the other one still answers `active` right after a
## revocation was acknowledged, and for how long at most.
bench-revocation:
	cargo build --release -p gatehouse --bin gatehouse
	python3 bench/revocation_race.py

## The Users list with 100,000 users.
bench-users:
	bash scripts/bench-users.sh

fmt:
	cargo fmt --all

lint:
	cargo clippy -p domain -p gatehouse -- -D warnings
