#!/usr/bin/env python3
"""`make bench`: Gatehouse side by side with node-oidc-provider, measured from outside.

Starts the release server as its own process on loopback with a fresh database (SQLite, then a
throwaway PostgreSQL cluster from scripts/pg-cluster.sh), sets it up through the admin API (an app
per token type with a confidential client and a scope), and drives it with wrk (a separate process,
1 thread, BENCH_CONNECTIONS connections, BENCH_SECONDS per case after a warm-up). In the same run
and with the same load: node-oidc-provider configured equivalently (bench/peer), a bare axum
handler (the ceiling of this machine's HTTP stack) and the raw signing rate of each algorithm with
the signer Gatehouse uses (OpenSSL for RS256, ring for ES256/EdDSA; ring's RS256 for comparison). Prints one table and writes bench/results.json.

A flood case: BENCH_FLOOD (300) concurrent failing client authentications from as many addresses
beside the client's own requests (`--flood` runs only that). Also `gatehouse import` of BENCH_IMPORT_USERS (100,000) users and BENCH_IMPORT_APPS (2,000) apps
into an empty database (`--import` runs only that).

Environment: BENCH_SECONDS (10), BENCH_CONNECTIONS (32), BENCH_WARMUP (2), BENCH_POSTGRES (1).
"""
import base64
import hashlib
import http.cookiejar
import json
import re
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECS = int(os.environ.get("BENCH_SECONDS", "10"))
CONN = int(os.environ.get("BENCH_CONNECTIONS", "32"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "2"))
LUA = os.path.join(ROOT, "bench", "wrk", "request.lua")
ADMIN_PASSWORD = "bench-admin-password"
CLIENT, SECRET = "bench-client", "bench-client-secret-123"
BASIC = "Basic " + base64.b64encode(f"{CLIENT}:{SECRET}".encode()).decode()
TOKEN_TYPES = ["opaque", "jwt_rs256", "jwt_es256", "jwt_eddsa"]
# Bearer-protected GETs are measured with one opaque and one JWT type (a JWT is checked the
# same way whatever its algorithm, apart from the verification itself).
BEARER_TYPES = ["opaque", "jwt_rs256"]
# DPoP-bound client credentials: an opaque token (a stored row, like the peer's) and ES256 (the
# issue's target: at least 60 % of the unbound rate).
DPOP_TYPES = ["opaque", "jwt_es256"]
CALLBACK = "http://127.0.0.1/bench-callback"
VERIFIER = "bench-pkce-verifier-0123456789-abcdefghijklmnopq"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"bench: {url} did not answer within {timeout}s")


def peak_rss_mb(pid):
    """The process's high-water mark of resident memory (VmHWM), in MB."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


REGISTRATION = json.dumps({
    "client_name": "Bench MCP client", "redirect_uris": ["http://127.0.0.1/callback"],
    "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
    "token_endpoint_auth_method": "none"})


def wrk(url, method="GET", body="", auth="", secs=SECS, script=LUA, env=None,
        content_type="application/x-www-form-urlencoded"):
    env = dict(os.environ, METHOD=method, BODY=body, AUTH=auth, CONTENT_TYPE=content_type,
               BENCH_WRK_DIR=os.path.dirname(LUA), **(env or {}))
    cmd = ["wrk", "-t1", f"-c{CONN}", f"-d{secs}s", "--timeout", "5s", "-s", script, url]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=secs + 60).stdout
    line = next((l for l in out.splitlines() if l.startswith("JSON ")), None)
    if line is None:
        raise SystemExit(f"bench: wrk printed no figures for {url}:\n{out}")
    r = json.loads(line[5:])
    return {
        "rps": round(r["requests"] / (r["duration_us"] / 1e6)),
        "p50_ms": round(r["p50_us"] / 1000, 2),
        "p99_ms": round(r["p99_us"] / 1000, 2),
        "errors": r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"],
        "non_2xx": r["non_2xx"],
        "requests": r["requests"],
    }


def measure(url, pid=None, **req):
    """Checks one request answers 2xx, warms up, then measures."""
    check(url, **req)
    wrk(url, secs=WARMUP, **req)
    result = wrk(url, **req)
    if pid:
        result["peak_rss_mb"] = peak_rss_mb(pid)
    return result


def check(url, method="GET", body="", auth="", content_type="application/x-www-form-urlencoded"):
    data = body.encode() if body else None
    r = urllib.request.Request(url, data=data, method=method)
    if auth:
        r.add_header("Authorization", auth)
    if data:
        r.add_header("Content-Type", content_type)
    with urllib.request.urlopen(r, timeout=10) as res:
        raw = res.read()
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


class Admin:
    """The admin API of a running server, signed in through the login server function."""

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        form = urllib.parse.urlencode(
            {"login_name": "admin", "password": ADMIN_PASSWORD, "return_to": "/admin"}).encode()
        req = urllib.request.Request(f"{base}/sfn/login", data=form, method="POST")
        req.add_header("Origin", base)
        req.add_header("Accept", "text/html")
        self.opener.open(req, timeout=30)

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Origin", self.base)
        if data:
            req.add_header("Content-Type", "application/json")
        with self.opener.open(req, timeout=30) as res:
            raw = res.read()
            return json.loads(raw) if raw else None


def start_gatehouse(database_url, label, workdir, token_types, extra_env=None):
    """Starts the release server and sets it up; returns (process, base URL, log file)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, DATABASE_URL=database_url, GATEHOUSE_BIND=f"127.0.0.1:{port}",
               GATEHOUSE_ADMIN_PASSWORD=ADMIN_PASSWORD,
               GATEHOUSE_SECRET_KEY="bench-system-secret-0123456789abcdefghij",
               LEPTOS_SITE_ROOT=os.path.join(ROOT, "target", "site"), RUST_LOG="warn",
               # The registration case registers from one address as fast as it can.
               GATEHOUSE_REGISTRATION_RATE="100000000", GATEHOUSE_REGISTRATION_MAX_CLIENTS="100000000",
               **(extra_env or {}))
    log = open(os.path.join(workdir, f"gatehouse-{label}.log"), "w")
    proc = subprocess.Popen([os.environ.get("GH_BIN", os.path.join(ROOT, "target", "release", "gatehouse"))], env=env,
                            stdout=log, stderr=log)
    wait_for(f"{base}/readyz")
    admin = Admin(base)
    role = admin.call("POST", "/api/v1/roles", {"name": "Bench clients", "admin_rights": ["apps"]})
    user = admin.call("POST", "/api/v1/users", {
        "login_name": CLIENT, "email": "bench@example.com", "password": SECRET,
        "is_oauth_confidential_client": True})
    admin.call("PUT", f"/api/v1/roles/{role['id']}/members/{user['id']}")
    for tt in token_types:
        admin.call("POST", "/api/v1/apps", {
            "app_id": f"bench-{tt}", "name": f"Bench {tt}", "token_type": tt,
            "auth_methods": ["client_credentials"], "token_lifetime_secs": 3600,
            "scopes": [{"name": "api", "rest_regexes": ["api/v1/apps/.*"]}],
            "user_access_roles": ["Bench clients"]})
    admin.call("POST", "/api/v1/apps", {
        "app_id": "bench-device", "name": "Bench device flow", "token_type": "opaque",
        "auth_methods": ["device_code"], "scopes": [{"name": "api"}],
        "user_access_roles": ["Bench clients"]})
    admin.call("POST", "/api/v1/apps", {
        "app_id": "bench-registered", "name": "Bench registered clients", "token_type": "jwt_rs256",
        "client_id_type": "registered", "client_registration": "open",
        "auth_methods": ["authorization_code"], "issue_refresh_tokens": True,
        "user_access_roles": ["Everybody"]})
    return proc, base, log


def metrics_cost(workdir):
    """Client credentials (opaque) with metrics on and off, two servers measured in turn
    (three rounds each, so drift on this VM hits both alike); the ratio on/off."""
    cc = "grant_type=client_credentials&scope=api"
    servers = {}
    try:
        for name, flag in (("on", "true"), ("off", "false")):
            servers[name] = start_gatehouse("sqlite://" + os.path.join(workdir, f"metrics-{name}.db"),
                                            f"metrics-{name}", workdir, ["opaque"],
                                            {"GATEHOUSE_METRICS": flag})
        totals = {"on": 0, "off": 0}
        for _ in range(3):
            for name, (proc, base, _) in servers.items():
                url = f"{base}/oauth2/token/bench-opaque"
                check(url, "POST", cc, BASIC)
                wrk(url, method="POST", body=cc, auth=BASIC, secs=1)
                totals[name] += wrk(url, method="POST", body=cc, auth=BASIC, secs=5)["rps"]
        return {"cc_opaque_rps_metrics_on": round(totals["on"] / 3),
                "cc_opaque_rps_metrics_off": round(totals["off"] / 3),
                "on_vs_off": ratio(totals["on"], totals["off"])}
    finally:
        for proc, _, log in servers.values():
            proc.terminate()
            proc.wait(timeout=30)
            log.close()


def gatehouse_cases(database_url, label, workdir):
    proc, base, log = start_gatehouse(database_url, label, workdir, TOKEN_TYPES)
    try:
        cc = "grant_type=client_credentials&scope=api"
        tokens = {tt: check(f"{base}/oauth2/token/bench-{tt}", "POST", cc, BASIC)["access_token"]
                  for tt in TOKEN_TYPES}
        out = {}
        for tt in TOKEN_TYPES:
            out[f"cc_{tt}"] = measure(f"{base}/oauth2/token/bench-{tt}", proc.pid,
                                      method="POST", body=cc, auth=BASIC)
        # DPoP-bound (RFC 9449): the same requests, each with a fresh ES256 proof.
        for tt in DPOP_TYPES:
            out[f"cc_{tt}_dpop"] = dpop_case(f"{base}/oauth2/token/bench-{tt}", proc.pid, workdir,
                                             f"{label}-{tt}", cc, out[f"cc_{tt}"]["rps"])
        out["device_poll"] = device_poll(base, proc.pid, f"{base}/oauth2/device/bench-device",
                                         f"{base}/oauth2/token/bench-device", workdir, label)
        out["introspect_opaque"] = measure(
            f"{base}/oauth2/introspect/bench-opaque", proc.pid, method="POST",
            body="token=" + urllib.parse.quote(tokens["opaque"]), auth=BASIC)
        for tt in BEARER_TYPES:
            out[f"bearer_get_{tt}"] = measure(f"{base}/api/v1/apps/bench-{tt}", proc.pid,
                                              auth="Bearer " + tokens[tt])
        out["code_exchange"] = code_exchange(base, proc.pid, workdir, label)
        # RFC 7591 registration of an MCP-style public client (one row and an audit record each).
        out["register"] = measure(
            f"{base}/oauth2/register/bench-registered", proc.pid, method="POST",
            body=REGISTRATION, content_type="application/json")
        out["healthz"] = measure(f"{base}/healthz", proc.pid)
        if label == "sqlite":
            out["first_load"] = first_load(base)
        return out
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def dpop_case(url, pid, workdir, label, body, unbound_rps, auth=BASIC):
    """Token requests with a DPoP proof each (ES256, each proof once — the server refuses a
    replay). The proofs are signed beforehand by a separate process (bench/dpop_proofs.mjs), as
    many as the unbound rate would use in the run and a third more; the run ends early if they
    run out. One proof is checked by hand first: a DPoP token bound to the key."""
    proofs = os.path.join(workdir, f"proofs-{label}.txt")
    count = int(unbound_rps * SECS * 1.33) + 1000
    jkt = subprocess.run(["node", os.path.join(ROOT, "bench", "dpop_proofs.mjs"), url, str(count),
                          str(SECS), proofs], capture_output=True, text=True, check=True,
                         timeout=600).stdout.strip()
    with open(proofs) as f:
        lines = f.read().splitlines()
    with open(proofs, "w") as f:
        f.write("\n".join(lines[1:]) + "\n")
    r = urllib.request.Request(url, data=body.encode(), method="POST")
    r.add_header("Authorization", auth)
    r.add_header("Content-Type", "application/x-www-form-urlencoded")
    r.add_header("DPoP", lines[0])
    with urllib.request.urlopen(r, timeout=10) as res:
        first = json.loads(res.read())
    if first.get("token_type", "").lower() != "dpop":
        raise SystemExit(f"bench: {url} did not bind the token to the proof's key: {first}")
    claims = first["access_token"].split(".")
    if len(claims) == 3:
        payload = json.loads(base64.urlsafe_b64decode(claims[1] + "=" * (-len(claims[1]) % 4)))
        if payload.get("cnf", {}).get("jkt") != jkt:
            raise SystemExit(f"bench: cnf.jkt {payload.get('cnf')} is not the key's {jkt}")
    result = wrk(url, method="POST", body=body, auth=auth,
                 script=os.path.join(os.path.dirname(LUA), "proofs.lua"),
                 env={"PROOFS_FILE": proofs})
    result["proofs_made"] = len(lines)
    result["vs_unbound"] = ratio(result["rps"], unbound_rps)
    result["peak_rss_mb"] = peak_rss_mb(pid)
    return result


def device_poll(base, pid, device_url, token_url, workdir, label, auth=BASIC, devices=500):
    """Devices polling the token endpoint while their people have not decided (RFC 8628):
    `devices` device codes, polled round and round with the client's credentials. Every answer
    is a 400 (`authorization_pending`, or `slow_down` for a device polling faster than its
    interval), so non-2xx is every request here; errors are still 0."""
    codes = []
    for _ in range(devices):
        codes.append(check(device_url, "POST", "scope=api", auth)["device_code"])
    path = os.path.join(workdir, f"device-codes-{label}.txt")
    with open(path, "w") as f:
        f.write("\n".join(codes) + "\n")
    body = "grant_type=" + urllib.parse.quote("urn:ietf:params:oauth:grant-type:device_code", safe="")
    script = os.path.join(os.path.dirname(LUA), "poll.lua")
    env = {"CODES_FILE": path}
    wrk(token_url, secs=WARMUP, body=body, auth=auth, script=script, env=env)
    result = wrk(token_url, body=body, auth=auth, script=script, env=env)
    result["devices"] = devices
    result["peak_rss_mb"] = peak_rss_mb(pid)
    return result


def code_exchange(base, pid, workdir, label):
    """The authorization-code exchange: a person signs in; wrk collects codes from the authorize
    endpoint for twice the case's duration (codes live 60 s), then exchanges each once (client
    authentication, PKCE, an access and a refresh token per request)."""
    admin = Admin(base)
    role = next(r for r in admin.call("GET", "/api/v1/roles?limit=500")["items"]
                if r["name"] == "Bench clients")
    person = admin.call("POST", "/api/v1/users", {
        "login_name": "bench-person", "email": "person@example.com", "password": SECRET})
    admin.call("PUT", f"/api/v1/roles/{role['id']}/members/{person['id']}")
    admin.call("POST", "/api/v1/apps", {
        "app_id": "bench-code", "name": "Bench code", "client_id_type": "confidential",
        "token_type": "opaque", "auth_methods": ["authorization_code"],
        "redirect_uris": [CALLBACK], "issue_refresh_tokens": True, "user_must_confirm": False,
        "scopes": [{"name": "api"}], "user_access_roles": ["Bench clients"]})
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = urllib.parse.urlencode({"login_name": "bench-person", "password": SECRET,
                                   "return_to": "/account/apps"}).encode()
    req = urllib.request.Request(f"{base}/sfn/login", data=form, method="POST")
    req.add_header("Origin", base)
    req.add_header("Accept", "text/html")
    opener.open(req, timeout=30)
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()
    authorize = f"{base}/oauth2/authorize/bench-code?" + urllib.parse.urlencode({
        "response_type": "code", "client_id": CLIENT, "redirect_uri": CALLBACK, "scope": "api",
        "state": "s", "code_challenge": challenge, "code_challenge_method": "S256"})
    codes = os.path.join(workdir, f"codes-{label}.txt")
    env = {"COOKIE": cookie, "CODES_FILE": codes}
    made = wrk(authorize, secs=2 * SECS, script=os.path.join(os.path.dirname(LUA), "codes.lua"),
               env=env)
    with open(codes) as f:
        count = sum(1 for _ in f)
    if count == 0:
        raise SystemExit(f"bench: the authorize endpoint gave no codes ({made})")
    rest = "grant_type=authorization_code&redirect_uri=" + urllib.parse.quote(CALLBACK, safe="") + \
        "&code_verifier=" + VERIFIER
    result = wrk(f"{base}/oauth2/token/bench-code", secs=SECS, auth=BASIC, body=rest,
                 script=os.path.join(os.path.dirname(LUA), "exchange.lua"), env=env)
    result["codes_made"] = count
    result["authorize_rps"] = made["rps"]
    result["peak_rss_mb"] = peak_rss_mb(pid)
    return result


def first_load(base):
    """Bytes a browser transfers for a first visit to the sign-in page: the HTML and every /pkg
    asset it names, asking for brotli or gzip as browsers do."""
    def get(path):
        req = urllib.request.Request(base + path, headers={"Accept-Encoding": "br, gzip"})
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.read(), res.headers.get("Content-Encoding") or "identity", res.headers.get("Cache-Control")
    html, _, _ = get("/login")
    assets = sorted(set(re.findall(r'/pkg/[^"\'\s)]+', html.decode("utf-8", "replace"))))
    files = {}
    for a in assets:
        body, enc, cache = get(a)
        files[a] = {"bytes": len(body), "encoding": enc, "cache_control": cache}
    total = len(html) + sum(f["bytes"] for f in files.values())
    return {"total_kb": round(total / 1024, 1), "html_bytes": len(html), "assets": files}


def peer_cases(work):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(["node", os.path.join(ROOT, "bench", "peer", "server.mjs"), str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"{base}/.well-known/openid-configuration")
        cc = "grant_type=client_credentials&scope=api&resource=urn:bench:"
        token = check(f"{base}/token", "POST", cc + "opaque", BASIC)["access_token"]
        out = {
            "cc_opaque": measure(f"{base}/token", proc.pid, method="POST", body=cc + "opaque",
                                 auth=BASIC),
            "cc_jwt_rs256": measure(f"{base}/token", proc.pid, method="POST", body=cc + "jwt",
                                    auth=BASIC),
            "introspect_opaque": measure(f"{base}/token/introspection", proc.pid, method="POST",
                                         body="token=" + token, auth=BASIC),
        }
        # Its DPoP (features.dpop) with the same proofs; its JWTs are RS256.
        for tt, resource in (("opaque", "opaque"), ("jwt_rs256", "jwt")):
            out[f"cc_{tt}_dpop"] = dpop_case(f"{base}/token", proc.pid, work, f"peer-{tt}",
                                             cc + resource, out[f"cc_{tt}"]["rps"])
        out["device_poll"] = device_poll(base, proc.pid, f"{base}/device/auth", f"{base}/token",
                                         work, "peer")
        return out
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def bare_ceiling():
    port = free_port()
    proc = subprocess.Popen([os.path.join(ROOT, "target", "release", "examples", "bare"), str(port)])
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        return measure(f"http://127.0.0.1:{port}/healthz", proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def sign_rate():
    out = subprocess.run([os.path.join(ROOT, "target", "release", "examples", "signrate"),
                          str(min(SECS, 5))], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def postgres(workdir):
    """A throwaway cluster; returns (database URL, stop function)."""
    d = tempfile.mkdtemp(prefix="gatehouse-bench-pg.", dir="/tmp")
    port = str(free_port())
    script = os.path.join(ROOT, "scripts", "pg-cluster.sh")
    subprocess.run(["bash", script, "init", d, port], check=True)

    def stop():
        subprocess.run(["bash", script, "stop", d, "immediate"], check=False)
        subprocess.run(["rm", "-rf", d], check=False)
    return f"postgres://postgres@127.0.0.1:{port}/postgres", stop


FLOOD = int(os.environ.get("BENCH_FLOOD", "300"))


def flood_case(workdir):
    """FLOOD concurrent failing client authentications, each from its own address (behind the
    trusted loopback proxy), while the confidential client keeps asking for tokens with its
    secret proven (a warm cache): the kernel's peak RSS of the server, the flood's share of 503s
    and the client's latency."""
    proc, base, log = start_gatehouse(
        "sqlite://" + os.path.join(workdir, "flood.db"), "flood", workdir, ["opaque"],
        extra_env={"GATEHOUSE_TRUSTED_PROXIES": "127.0.0.1/32"})
    try:
        url = f"{base}/oauth2/token/bench-opaque"
        body = "grant_type=client_credentials"
        check(url, method="POST", body=body, auth=BASIC)
        wrk(url, method="POST", body=body, auth=BASIC, secs=WARMUP)
        env = dict(os.environ, BENCH_WRK_DIR=os.path.dirname(LUA))
        flood = subprocess.Popen(
            ["wrk", "-t1", f"-c{FLOOD}", f"-d{SECS}s", "--timeout", "10s", "-s",
             os.path.join(os.path.dirname(LUA), "flood.lua"), url],
            env=env, stdout=subprocess.PIPE, text=True)
        client = wrk(url, method="POST", body=body, auth=BASIC)
        out = flood.communicate(timeout=SECS + 60)[0]
        line = next((l for l in out.splitlines() if l.startswith("JSON ")), None)
        if line is None:
            raise SystemExit(f"bench: the flood printed no figures:\n{out}")
        f = json.loads(line[5:])
        answered = f["c503"] + f["c401"] + f["c429"] + f["other"]
        return {
            "flood_connections": FLOOD,
            "flood_rps": round(f["requests"] / (f["duration_us"] / 1e6)),
            "flood_503_share": round(f["c503"] / answered, 3) if answered else None,
            "flood_401": f["c401"], "flood_503": f["c503"], "flood_429": f["c429"],
            "flood_other": f["other"],
            "flood_errors": f["connect_errors"] + f["read_errors"] + f["write_errors"] + f["timeouts"],
            "client": client,
            "peak_rss_mb": peak_rss_mb(proc.pid),
        }
    finally:
        proc.terminate()
        proc.wait()
        log.close()


def print_flood(r):
    c = r["client"]
    print(f"| flood: {r['flood_connections']} concurrent failing client authentications from as many "
          f"addresses, beside the client's own token requests (SQLite) | flood {r['flood_rps']:,} req/s, "
          f"{r['flood_503_share']:.0%} answered 503 ({r['flood_401']:,} refused 401, {r['flood_429']:,} 429, "
          f"{r['flood_other']} other, "
          f"{r['flood_errors']} errors); the client {fmt(c)}; peak RSS {r['peak_rss_mb']} MB |")


IMPORT_USERS = int(os.environ.get("BENCH_IMPORT_USERS", "100000"))
IMPORT_APPS = int(os.environ.get("BENCH_IMPORT_APPS", "2000"))


def import_scale(database_url, workdir):
    """`gatehouse import` of IMPORT_USERS users (no password hashes, as a directory migrated
    from elsewhere) and IMPORT_APPS apps with every omitted field defaulted, into an empty
    database: wall time, and the command's peak RSS (the kernel's, from wait4)."""
    gh = os.path.join(ROOT, "target", "release", "gatehouse")
    doc = {
        "gatehouse_config": 1,
        "apps": [{"app_id": f"app-{i:05d}", "name": f"App {i}",
                  "scopes": [{"name": "read", "rest_regexes": [f"orders/{i}/.*"]}]}
                 for i in range(IMPORT_APPS)],
        "roles": [{"name": "Imported", "members": [f"user{i:06d}" for i in range(0, IMPORT_USERS, 100)]}],
        "users": [{"login_name": f"user{i:06d}", "email": f"user{i:06d}@example.com",
                   "display_name": f"User {i}"} for i in range(IMPORT_USERS)],
    }
    path = os.path.join(workdir, "import.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    env = dict(os.environ, DATABASE_URL=database_url,
               GATEHOUSE_SECRET_KEY="bench-system-secret-0123456789abcdefghij", RUST_LOG="warn")
    subprocess.run([gh, "migrate"], env=env, check=True, capture_output=True)
    start = time.monotonic()
    proc = subprocess.Popen([gh, "import", path], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    secs = time.monotonic() - start
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if status != 0:
        raise RuntimeError(f"import failed ({status}): {err[-2000:]}")
    return {"users": IMPORT_USERS, "apps": IMPORT_APPS, "seconds": round(secs, 1),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def ratio(a, b):
    return round(a / b, 2) if a and b else None


CASES = [
    ("cc_opaque", "client credentials, opaque"),
    ("cc_jwt_rs256", "client credentials, jwt_rs256"),
    ("cc_jwt_es256", "client credentials, jwt_es256"),
    ("cc_jwt_eddsa", "client credentials, jwt_eddsa"),
    ("cc_opaque_dpop", "client credentials, opaque, DPoP-bound (ES256 proof each)"),
    ("cc_jwt_es256_dpop", "client credentials, jwt_es256, DPoP-bound (ES256 proof each)"),
    ("cc_jwt_rs256_dpop", "client credentials, jwt_rs256, DPoP-bound (the peer's JWT)"),
    ("device_poll", "device-code polling, 500 waiting devices (every answer a 400 by design)"),
    ("introspect_opaque", "introspection of an opaque token"),
    ("bearer_get_opaque", "admin API GET, opaque bearer"),
    ("bearer_get_jwt_rs256", "admin API GET, JWT bearer"),
    ("code_exchange", "authorization-code exchange (PKCE; access + refresh token)"),
    ("register", "dynamic client registration (RFC 7591, public client)"),
    ("healthz", "GET /healthz"),
]


def fmt(r):
    if not r:
        return "—"
    rss = f", RSS {r['peak_rss_mb']} MB" if r.get("peak_rss_mb") else ""
    return (f"{r['rps']:,} req/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
            f"{r['errors']} errors, {r['non_2xx']} non-2xx{rss}")


def main():
    with tempfile.TemporaryDirectory() as work:
        results = {"backends": {}}
        results["backends"]["sqlite"] = gatehouse_cases(
            "sqlite://" + os.path.join(work, "bench.db"), "sqlite", work)
        if os.environ.get("BENCH_POSTGRES", "1") == "1":
            url, stop = postgres(work)
            try:
                results["backends"]["postgres"] = gatehouse_cases(url, "postgres", work)
            finally:
                stop()
        results["peer"] = peer_cases(work)
        results["bare_axum_healthz"] = bare_ceiling()
        results["metrics_cost"] = metrics_cost(work)
        results["raw_signing"] = sign_rate()
        results["import"] = import_cases(work)
        results["flood"] = flood_case(work)
    report(results, measured=True)


def import_cases(work):
    """The import at scale on SQLite (and PostgreSQL unless BENCH_POSTGRES=0)."""
    out = {"sqlite": import_scale("sqlite://" + os.path.join(work, "import.db"), work)}
    if os.environ.get("BENCH_POSTGRES", "1") == "1":
        url, stop = postgres(work)
        try:
            out["postgres"] = import_scale(url, work)
        finally:
            stop()
    return out


def print_import(imp):
    for backend, r in imp.items():
        print(f"| `gatehouse import`, {r['users']:,} users + {r['apps']:,} apps into an empty "
              f"database ({backend}) | {r['seconds']} s, peak RSS {r['peak_rss_mb']} MB |")


def report(results, measured=False):
    """Computes the ratios, prints the table and (after a measurement) writes results.json."""
    backends = results["backends"]
    peer, bare, signing = results["peer"], results["bare_axum_healthz"], results["raw_signing"]
    ratios = {}
    for name, g in backends.items():
        ratios[name] = {
            "cc_opaque_vs_peer": ratio(g["cc_opaque"]["rps"], peer["cc_opaque"]["rps"]),
            "cc_jwt_rs256_vs_peer": ratio(g["cc_jwt_rs256"]["rps"], peer["cc_jwt_rs256"]["rps"]),
            # Against the fastest RS256 backend measured (OpenSSL here; ring for comparison).
            "cc_jwt_rs256_vs_raw_signing": ratio(
                g["cc_jwt_rs256"]["rps"], max(signing["RS256"], signing.get("RS256_ring", 0))),
            "cc_jwt_es256_vs_raw_signing": ratio(g["cc_jwt_es256"]["rps"], signing["ES256"]),
            "cc_jwt_eddsa_vs_raw_signing": ratio(g["cc_jwt_eddsa"]["rps"], signing["EdDSA"]),
            "cc_jwt_es256_vs_peer_rs256": ratio(g["cc_jwt_es256"]["rps"], peer["cc_jwt_rs256"]["rps"]),
            "cc_jwt_eddsa_vs_peer_rs256": ratio(g["cc_jwt_eddsa"]["rps"], peer["cc_jwt_rs256"]["rps"]),
            "introspect_vs_peer": ratio(g["introspect_opaque"]["rps"], peer["introspect_opaque"]["rps"]),
            "introspect_vs_healthz": ratio(g["introspect_opaque"]["rps"], g["healthz"]["rps"]),
            "bearer_get_opaque_vs_healthz": ratio(g["bearer_get_opaque"]["rps"], g["healthz"]["rps"]),
            "bearer_get_jwt_vs_healthz": ratio(g["bearer_get_jwt_rs256"]["rps"], g["healthz"]["rps"]),
            "healthz_vs_bare_axum": ratio(g["healthz"]["rps"], bare["rps"]),
            "peak_rss_mb": max(r.get("peak_rss_mb") or 0 for r in g.values() if "rps" in r),
        }
    results["ratios"] = ratios
    results["peer_peak_rss_mb"] = max(r.get("peak_rss_mb") or 0 for r in peer.values())
    if measured:
        results["machine"] = machine()
    print_table(results)
    if measured:
        os.makedirs(os.path.join(ROOT, "bench"), exist_ok=True)
        with open(os.path.join(ROOT, "bench", "results.json"), "w") as f:
            json.dump(results, f, indent=2)
            f.write("\n")
        print("\nfigures written to bench/results.json")


def machine():
    return {
        "cpus": os.cpu_count(), "kernel": platform.release(),
        "load_generator": f"wrk -t1 -c{CONN} -d{SECS}s (warm-up {WARMUP}s), on the same cores",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "peer": "oidc-provider 9.13.3 on Node " + subprocess.run(
            ["node", "--version"], capture_output=True, text=True).stdout.strip()
            + " (tokens in memory, its default adapter; Gatehouse persists every token)",
    }


# What each case is compared with besides the peer: (key of the reference, its name).
AGAINST = {
    "introspect_opaque": "healthz", "bearer_get_opaque": "healthz",
    "bearer_get_jwt_rs256": "healthz", "healthz": "bare",
}


def print_table(results):
    backends, peer, bare = results["backends"], results["peer"], results["bare_axum_healthz"]
    signing, ratios = results["raw_signing"], results["ratios"]
    names = list(backends)
    head = ("| case | " + " | ".join(f"Gatehouse, {n}" for n in names)
            + " | node-oidc-provider | ratios (" + ", ".join(names) + ") |")
    print(head)
    print("|" + " --- |" * (3 + len(names)))
    for key, label in CASES:
        row = [fmt(backends[n].get(key)) for n in names]
        p = peer.get(key)
        said = []
        if p and p.get("vs_unbound"):
            said.append(f"peer: {p['vs_unbound']} of its unbound")
        for n in names:
            if key not in backends[n]:
                continue
            g = backends[n][key]["rps"]
            parts = []
            if p:
                parts.append(f"{ratio(g, p['rps'])}x peer")
            ref = AGAINST.get(key)
            if ref:
                base = bare["rps"] if ref == "bare" else backends[n][ref]["rps"]
                parts.append(f"{ratio(g, base)} of {'bare axum' if ref == 'bare' else '/healthz'}")
            if key == "cc_jwt_rs256":
                parts.append(f"{ratios[n]['cc_jwt_rs256_vs_raw_signing']} of raw signing")
            vs = backends[n][key].get("vs_unbound")
            if vs:
                parts.append(f"{vs} of unbound")
            if key in ("cc_jwt_es256", "cc_jwt_eddsa"):
                parts.append(f"{ratios[n][key + '_vs_peer_rs256']}x peer RS256")
            if parts:
                said.append(f"{n}: " + ", ".join(parts))
        print(f"| {label} | " + " | ".join(row) + f" | {fmt(p)} | {'; '.join(said) or '—'} |")
    print(f"| bare axum `GET /healthz` (ceiling) | {fmt(bare)} |")
    fl = backends.get("sqlite", {}).get("first_load")
    if fl:
        print(f"| portal first load (sign-in page + /pkg, br/gzip) | {fl['total_kb']:,} KB |")
    for alg, backend in (("RS256", "OpenSSL"), ("RS256_ring", "jsonwebtoken + ring"),
                         ("ES256", "jsonwebtoken + ring"), ("EdDSA", "jsonwebtoken + ring")):
        if alg in signing:
            print(f"| raw {alg.split('_')[0]} signing ({backend}), {signing['threads']} threads | {signing[alg]:,.0f} signatures/s |")
    if results.get("import"):
        print_import(results["import"])
    if results.get("flood"):
        print_flood(results["flood"])
    mc = results["metrics_cost"]
    print(f"| client credentials, opaque: metrics on / off (SQLite, alternating rounds) | "
          f"{mc['cc_opaque_rps_metrics_on']:,} / {mc['cc_opaque_rps_metrics_off']:,} req/s = {mc['on_vs_off']} |")
    print()
    for n in names:
        rr = ratios[n]
        print(f"{n}: JWT/raw signing RS256 {rr['cc_jwt_rs256_vs_raw_signing']}, ES256 "
              f"{rr['cc_jwt_es256_vs_raw_signing']}, EdDSA {rr['cc_jwt_eddsa_vs_raw_signing']}; ES256 and "
              f"EdDSA vs the peer's RS256 {rr['cc_jwt_es256_vs_peer_rs256']}x, {rr['cc_jwt_eddsa_vs_peer_rs256']}x; introspection/healthz "
              f"{rr['introspect_vs_healthz']}, bearer GET/healthz {rr['bearer_get_opaque_vs_healthz']} "
              f"(opaque) {rr['bearer_get_jwt_vs_healthz']} (JWT), healthz/bare axum "
              f"{rr['healthz_vs_bare_axum']}, peak RSS {rr['peak_rss_mb']} MB "
              f"(peer {results['peer_peak_rss_mb']} MB)")


if __name__ == "__main__":
    if sys.argv[1:] == ["--flood"]:
        # Only the flood case (needs target/release/gatehouse).
        with tempfile.TemporaryDirectory() as work:
            print_flood(flood_case(work))
        sys.exit(0)
    if sys.argv[1:] == ["--dpop"]:
        sys.stdout.reconfigure(line_buffering=True)
        # Only the DPoP-bound and device-polling cases with their unbound references, on SQLite
        # and at the peer (needs target/release/gatehouse).
        with tempfile.TemporaryDirectory() as work:
            proc, base, log = start_gatehouse("sqlite://" + os.path.join(work, "bench.db"),
                                              "sqlite", work, DPOP_TYPES)
            try:
                cc = "grant_type=client_credentials&scope=api"
                out = {}
                for tt in DPOP_TYPES:
                    url = f"{base}/oauth2/token/bench-{tt}"
                    out[f"cc_{tt}"] = measure(url, proc.pid, method="POST", body=cc, auth=BASIC)
                    out[f"cc_{tt}_dpop"] = dpop_case(url, proc.pid, work, tt, cc,
                                                     out[f"cc_{tt}"]["rps"])
                out["device_poll"] = device_poll(base, proc.pid, f"{base}/oauth2/device/bench-device",
                                                 f"{base}/oauth2/token/bench-device", work, "sqlite")
            finally:
                proc.terminate()
                proc.wait(timeout=30)
                log.close()
            print("Gatehouse (SQLite):", json.dumps(out))
            peer = peer_cases(work)
            for key, label in CASES:
                if key in out or key in peer:
                    print(f"{label}: Gatehouse {fmt(out.get(key))}"
                          f"{' (' + str(out[key].get('vs_unbound')) + ' of unbound)' if out.get(key, {}).get('vs_unbound') else ''}"
                          f" | peer {fmt(peer.get(key))}"
                          f"{' (' + str(peer[key].get('vs_unbound')) + ' of unbound)' if peer.get(key, {}).get('vs_unbound') else ''}")
        sys.exit(0)
    if sys.argv[1:] == ["--import"]:
        # Only the import at scale (needs target/release/gatehouse).
        with tempfile.TemporaryDirectory() as work:
            print_import(import_cases(work))
        sys.exit(0)
    if sys.argv[1:] == ["--report"]:
        # Prints the table of the last run again from bench/results.json.
        with open(os.path.join(ROOT, "bench", "results.json")) as f:
            sys.exit(report(json.load(f)))
    sys.exit(main())
