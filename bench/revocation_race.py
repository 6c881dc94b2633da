#!/usr/bin/env python3
"""How stale can another instance be after a revocation? (issue 22, `make bench-revocation`)

Two release instances on one throwaway PostgreSQL cluster. Each trial: a token from A, introspected
at B (so B remembers it as valid), revoked at A, then introspected at B at once — the answer B
gives right after the revocation was acknowledged — and again until B says inactive. Prints how
many trials B still said active, and the longest time until it said inactive.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402

TRIALS = int(os.environ.get("BENCH_TRIALS", "500"))


def post(url, form, auth=run.BASIC):
    data = "&".join(f"{k}={v}" for k, v in form.items()).encode()
    r = urllib.request.Request(url, data=data, method="POST")
    r.add_header("Authorization", auth)
    r.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(r, timeout=10) as res:
        raw = res.read()
        return json.loads(raw) if raw else {}


def main():
    with tempfile.TemporaryDirectory() as work:
        url, stop = run.postgres(work)
        try:
            a, base_a, log_a = run.start_gatehouse(url, "race-a", work, ["opaque"])
            port = run.free_port()
            base_b = f"http://127.0.0.1:{port}"
            env = dict(os.environ, DATABASE_URL=url, GATEHOUSE_BIND=f"127.0.0.1:{port}",
                       GATEHOUSE_ADMIN_PASSWORD=run.ADMIN_PASSWORD,
                       GATEHOUSE_SECRET_KEY="bench-system-secret-0123456789abcdefghij",
                       LEPTOS_SITE_ROOT=os.path.join(run.ROOT, "target", "site"), RUST_LOG="warn")
            b = subprocess.Popen([os.path.join(run.ROOT, "target", "release", "gatehouse")], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            run.wait_for(f"{base_b}/readyz")
            time.sleep(1)  # B's listener connects
            stale, longest = 0, 0.0
            for _ in range(TRIALS):
                tok = post(f"{base_a}/oauth2/token/bench-opaque", {"grant_type": "client_credentials"})
                t = tok["access_token"]
                assert post(f"{base_b}/oauth2/introspect/bench-opaque", {"token": t})["active"]
                post(f"{base_a}/oauth2/revoke/bench-opaque", {"token": t})
                acked = time.monotonic()
                if post(f"{base_b}/oauth2/introspect/bench-opaque", {"token": t})["active"]:
                    stale += 1
                    while post(f"{base_b}/oauth2/introspect/bench-opaque", {"token": t})["active"]:
                        pass
                    longest = max(longest, time.monotonic() - acked)
            print(f"revocation across instances (PostgreSQL): {TRIALS} trials, {stale} answered active "
                  f"right after the revocation was acknowledged; longest until inactive "
                  f"{longest * 1000:.1f} ms")
            b.terminate(); b.wait()
            a.terminate(); a.wait()
            log_a.close()
        finally:
            stop()


if __name__ == "__main__":
    main()
