#!/usr/bin/env python3
"""`make bench-purge`: a million opaque tokens issued and expired, measured from outside.

Starts the release server on a fresh SQLite database, makes an app whose opaque tokens live
60 s, issues PURGE_TOKENS (default 1,000,000) of them with wrk (32 connections), then waits
until housekeeping has deleted the expired rows and handed their pages back. Prints and
writes to bench/purge-results.json the resident memory and the database's size on disk (file
+ WAL) at three moments: after set-up, right after issuing, and after the purge.
"""

import json
import os
import sqlite3
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the same helpers as make bench)

TARGET = int(os.environ.get("PURGE_TOKENS", "1000000"))
DEADLINE = int(os.environ.get("PURGE_WAIT_SECONDS", "900"))


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


def disk_mb(db):
    total = sum(os.path.getsize(db + s) for s in ("", "-wal") if os.path.exists(db + s))
    return round(total / 1024 / 1024, 1)


def rows(db):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute("SELECT COUNT(*) FROM tokens").fetchone()[0]
    finally:
        con.close()


def main():
    with tempfile.TemporaryDirectory() as work:
        db = os.path.join(work, "purge.db")
        proc, base, log = run.start_gatehouse("sqlite://" + db, "purge", work, [])
        try:
            admin = run.Admin(base)
            admin.call("POST", "/api/v1/apps", {
                "app_id": "purge", "name": "Purge", "token_type": "opaque",
                "auth_methods": ["client_credentials"], "token_lifetime_secs": 60,
                "scopes": [{"name": "api"}], "user_access_roles": ["Bench clients"]})
            url = f"{base}/oauth2/token/purge"
            body = "grant_type=client_credentials&scope=api"
            run.check(url, "POST", body, run.BASIC)
            before = {"rss_mb": rss_mb(proc.pid), "disk_mb": disk_mb(db), "rows": rows(db)}

            issued, errors, started = 0, 0, time.time()
            while issued < TARGET:
                r = run.wrk(url, method="POST", body=body, auth=run.BASIC, secs=20)
                issued += r["requests"] - r["non_2xx"]
                errors += r["errors"] + r["non_2xx"]
                print(f"issued {issued:,} tokens ({r['rps']:,} req/s)", flush=True)
            issuing_secs = round(time.time() - started)
            full = {"rss_mb": rss_mb(proc.pid), "disk_mb": disk_mb(db), "rows": rows(db),
                    "peak_rss_mb": run.peak_rss_mb(proc.pid)}
            print(f"after issuing: {full}", flush=True)

            waited, after = 0, None
            while waited < DEADLINE:
                time.sleep(10)
                waited += 10
                n = rows(db)
                print(f"  {waited} s later: {n:,} rows, {disk_mb(db)} MB on disk", flush=True)
                if n <= before["rows"] + 10:
                    time.sleep(5)  # the space is handed back right after the last batch
                    after = {"rss_mb": rss_mb(proc.pid), "disk_mb": disk_mb(db), "rows": rows(db)}
                    break
            if after is None:
                raise SystemExit(f"bench-purge: rows left after {DEADLINE} s")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            log.close()

    results = {"tokens_issued": issued, "errors": errors, "issuing_seconds": issuing_secs,
               "purge_seconds_after_issuing": waited, "after_setup": before,
               "after_issuing": full, "after_purge": after,
               "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    print()
    print("| moment | rows in `tokens` | RSS | database on disk (file + WAL) |")
    print("| --- | --- | --- | --- |")
    for label, m in (("after set-up", before), (f"after issuing {issued:,} tokens", full),
                     (f"{waited} s later, purged", after)):
        print(f"| {label} | {m['rows']:,} | {m['rss_mb']} MB | {m['disk_mb']} MB |")
    print(f"\npeak RSS {full['peak_rss_mb']} MB; {errors} errors or non-2xx while issuing")
    with open(os.path.join(run.ROOT, "bench", "purge-results.json"), "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
