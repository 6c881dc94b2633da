"""Hostile input at every non-API door of a running Gatehouse for a bounded time: the token,
introspection, revocation, authorize, consent, keys and metadata endpoints, the pages and the
server functions, with random form and JSON bodies, headers, queries and paths. Fails on any
5xx or a dropped connection. Usage: fuzz_http.py URL SECONDS"""

import base64
import json
import random
import string
import sys
import time
import urllib.error
import urllib.request

URL, SECONDS = sys.argv[1], float(sys.argv[2])
rnd = random.Random(int(time.time()))
NASTY = ["", " ", "\x00", "'", '"', "<script>", "%", "%zz", "../../etc/passwd", "a" * 5000,
         "é", "\u202e", "${jndi:x}", "{}", "[]", "null", "-1", "99999999999999999999",
         "client_credentials", "authorization_code", "refresh_token", "password", "implicit",
         "code", "token", "S256", "plain", "openid", "admin", "Everybody", "http://127.0.0.1/cb",
         "id_token", "id_token token", "none", "login", "consent", "openid profile email",
         "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "e30.e30.", "eyJhbGciOiJub25lIn0.e30.",
         "eyJhbGciOiJFUzI1NiIsImtpZCI6IngifQ.eyJzdWIiOiJ4In0.AAAA"]
FIELDS = ["grant_type", "client_id", "client_secret", "scope", "code", "redirect_uri",
          "code_verifier", "username", "password", "refresh_token", "token", "token_type_hint",
          "response_type", "state", "nonce", "code_challenge", "code_challenge_method", "csrf",
          "decision", "scope_choice", "login_name", "return_to", "op", "app_id", "name",
          "prompt", "max_age", "login_hint", "id_token_hint", "post_logout_redirect_uri",
          "access_token", "client_assertion", "client_assertion_type"]
APPS = ["x", "unknown", "", "%2e%2e", "a" * 300, "admin", "..", "%00"]


def text():
    if rnd.random() < 0.6:
        return rnd.choice(NASTY)
    return "".join(rnd.choice(string.printable) for _ in range(rnd.randint(0, 40)))


def pairs():
    return [(rnd.choice(FIELDS + [text()]), text()) for _ in range(rnd.randint(0, 8))]


def body(ps):
    kind = rnd.random()
    if kind < 0.45:
        return "application/x-www-form-urlencoded", urllib.parse.urlencode(ps).encode()
    if kind < 0.8:
        return "application/json", json.dumps(dict(ps)).encode()
    if kind < 0.9:
        return rnd.choice(["application/json", "text/plain", "multipart/form-data"]), bytes(
            rnd.getrandbits(8) for _ in range(rnd.randint(0, 300)))
    return "application/json", json.dumps(rnd.choice([[1, 2], "x", 3, None, {"a": {"b": []}}])).encode()


def request():
    app = rnd.choice(APPS)
    method, path = rnd.choice([
        ("POST", f"/oauth2/token/{app}"), ("POST", f"/oauth2/introspect/{app}"),
        ("POST", f"/oauth2/revoke/{app}"), ("GET", f"/oauth2/authorize/{app}"),
        ("POST", f"/oauth2/consent/{app}"), ("GET", f"/oauth2/keys/{app}"),
        ("GET", f"/oauth2/{app}/.well-known/oauth-authorization-server"),
        ("GET", f"/.well-known/oauth-authorization-server/oauth2/{app}"),
        ("GET", f"/oauth2/{app}/.well-known/openid-configuration"),
        ("GET", f"/oauth2/userinfo/{app}"), ("POST", f"/oauth2/userinfo/{app}"),
        ("GET", f"/oauth2/logout/{app}"), ("POST", f"/oauth2/logout/{app}"),
        ("GET", "/login"), ("GET", "/admin"), ("GET", "/admin/apps/new"), ("POST", "/admin/apps/new"),
        ("POST", f"/admin/apps/{app}"), ("GET", "/account/apps"), ("POST", f"/account/apps/{app}/withdraw"),
        ("POST", "/sfn/login"), ("POST", "/sfn/logout"), ("POST", "/sfn/apps/save"),
        ("POST", "/sfn/apps/list"), ("POST", "/sfn/users/create"), ("POST", "/sfn/roles/create"),
        ("POST", "/CDirectoryService/CreateUser"), ("GET", "/healthz"), ("GET", "/readyz"),
        (rnd.choice(["PUT", "DELETE", "PATCH", "OPTIONS"]), f"/oauth2/token/{app}"),
    ])
    ps = pairs()
    if method == "GET":
        path += "?" + urllib.parse.urlencode(ps)
        data, ctype = None, None
    else:
        ctype, data = body(ps)
    req = urllib.request.Request(URL + urllib.parse.quote(path, safe="/?=&%.:"), data=data, method=method)
    if ctype:
        req.add_header("Content-Type", ctype)
    if rnd.random() < 0.3:
        cred = f"{text()}:{text()}".encode()
        req.add_header("Authorization", rnd.choice([
            "Basic " + base64.b64encode(cred).decode(), "Basic " + text(), "Bearer " + text(), text()]))
    if rnd.random() < 0.5:
        req.add_header("Origin", rnd.choice([URL, "https://evil.example", "null", text()]))
    if rnd.random() < 0.3:
        req.add_header("Accept", rnd.choice(["text/html", "application/json", "*/*"]))
    if rnd.random() < 0.2:
        req.add_header("X-Forwarded-For", text())
    return method, path, req


def main():
    import urllib.parse  # noqa: F401  (used above through urllib)
    deadline, sent, bad = time.time() + SECONDS, 0, []
    while time.time() < deadline:
        method, path, req = request()
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                status = res.status
        except urllib.error.HTTPError as e:
            status = e.code
        except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
            bad.append(f"{method} {path[:80]!r}: {e}")
            status = None
        except ValueError:
            continue  # a URL urllib itself refuses to send
        sent += 1
        if status is not None and status >= 500:
            bad.append(f"{method} {path[:80]!r}: {status}")
    print(f"hostile input: {sent} requests, {len(bad)} failures")
    for b in bad[:20]:
        print("  ", b)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    import urllib.parse
    main()
