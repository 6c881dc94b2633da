"""Hostile input at the doors of a running Gatehouse for a bounded time: the token,
introspection, revocation, authorize, consent, logout, userinfo, keys and metadata endpoints,
the pages, the server functions and (lightly) the admin API, with random form and JSON bodies,
headers, queries and paths. Fails on any 5xx or a dropped connection.

Usage: fuzz_http.py URL SECONDS [SEED]   (or FUZZ_SEED=N; default: a random seed, printed)

Before fuzzing it sets up real targets through the server itself: it signs in as the first
administrator (GATEHOUSE_ADMIN_USER, default admin; password FUZZ_ADMIN_PASSWORD or
GATEHOUSE_ADMIN_PASSWORD, default the one scripts/fuzz.sh starts the server with), creates apps of
every kind (confidential client credentials, public authorization code with PKCE and consent,
opaque tokens with refresh, an OpenID/implicit app with a client list, one nobody may use), a
person, confidential clients and roles, and signs the person in. The fuzz then mostly aims at
those apps with a mix of valid values (client ids, secrets, redirect URIs, scopes, PKCE, the
session's form token, codes and tokens it obtained on the way) and nasty ones, and sends the
person's session cookie (with a matching Origin) on a good share of the browser doors, so the
input reaches the code behind "no such application" and "not signed in".

Every random choice goes through one Random seeded with the printed seed: the same seed sends
the same sequence of requests (modulo what the server answers: codes and tokens it issues).
The administrator's own user, its roles and the apps set up here are never targeted by a
deleting or changing request sent with the administrator's session.
On loopback the requests come from many 127.x.y.z source addresses (so per-address sign-in
throttling neither stops the fuzz nor the re-sign-ins of its sessions, which come from 127.0.0.1),
a share of them from one fixed address so the throttle itself is exercised
(FUZZ_SOURCE_SPREAD=0: everything from the default address).
"""

import base64
import hashlib
import http.client
import ipaddress
import json
import os
import random
import re
import socket
import string
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, defaultdict


def usage(msg):
    print(f"fuzz_http: {msg}\nusage: fuzz_http.py URL SECONDS [SEED]  (or env FUZZ_SEED)",
          file=sys.stderr)
    sys.exit(2)


if len(sys.argv) not in (3, 4):
    usage("wrong number of arguments")
URL = sys.argv[1].rstrip("/")
try:
    SECONDS = float(sys.argv[2])
except ValueError:
    usage(f"SECONDS is not a number: {sys.argv[2]!r}")
_seed_text = sys.argv[3] if len(sys.argv) == 4 else os.environ.get("FUZZ_SEED", "").strip()
if _seed_text:
    try:
        SEED = int(_seed_text, 0)
    except ValueError:
        usage(f"the seed must be an integer: {_seed_text!r}")
else:
    SEED = random.SystemRandom().randrange(1, 2**32)
rnd = random.Random(SEED)

ADMIN_USER = os.environ.get("GATEHOUSE_ADMIN_USER", "admin")
ADMIN_PASSWORD = (os.environ.get("FUZZ_ADMIN_PASSWORD")
                  or os.environ.get("GATEHOUSE_ADMIN_PASSWORD") or "fuzz-admin-password")
TIMEOUT = 20

NASTY = ["", " ", "\x00", "'", '"', "<script>", "%", "%zz", "../../etc/passwd", "a" * 5000,
         "é", "\u202e", "${jndi:x}", "{}", "[]", "null", "-1", "0", "99999999999999999999",
         "client_credentials", "authorization_code", "refresh_token", "password", "implicit",
         "code", "token", "S256", "plain", "openid", "admin", "Everybody", "http://127.0.0.1/cb",
         "id_token", "id_token token", "none", "login", "consent", "openid profile email",
         "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "e30.e30.", "eyJhbGciOiJub25lIn0.e30.",
         "eyJhbGciOiJFUzI1NiIsImtpZCI6IngifQ.eyJzdWIiOiJ4In0.AAAA", "true", "false", "1e309",
         "00000000-0000-0000-0000-000000000000", "/admin", "//evil.example", "/\\evil.example",
         "https://evil.example/cb", "http://127.0.0.1:1/cb", "javascript:alert(1)", "\r\nX-a: b",
         "a b", "\t", "ａｄｍｉｎ", "ad\u200bmin", "x" * 129, "A" * 65, "-" * 43, "approve", "deny"]
FIELDS = ["grant_type", "client_id", "client_secret", "scope", "code", "redirect_uri",
          "code_verifier", "username", "password", "refresh_token", "token", "token_type_hint",
          "response_type", "state", "nonce", "code_challenge", "code_challenge_method", "csrf",
          "decision", "scope_choice", "login_name", "return_to", "op", "app_id", "name",
          "prompt", "max_age", "login_hint", "id_token_hint", "post_logout_redirect_uri",
          "access_token", "client_assertion", "client_assertion_type", "id", "user_id",
          "role_id", "q", "offset", "limit", "category", "email", "display_name", "description"]
BOGUS_APPS = ["x", "unknown", "", "%2e%2e", "a" * 300, "admin", "..", "%00", "fz-code%00",
              "FZ-CODE", "fz-code ", "fz-code/../fz-cc", "%2F"]

# The targets set up before fuzzing (names fixed, so a seed replays the same requests).
PERSON = ("fuzz-person", "Fuzz-person-pass-8412!")
DECOY = ("fuzz-decoy", "Fuzz-decoy-pass-5521!")  # a real person whose password is guessed at
CLIENT = ("fuzz-client", "fuzz-client-secret-8c1d5e0f2a7b4b6e9d3c")
OUTSIDER = ("fuzz-outsider", "fuzz-outsider-secret-3f9a0b8c7d6e5f4a")  # a client in no app role
ROLES = {"fuzz-users": [PERSON[0], DECOY[0], CLIENT[0]], "fuzz-nobody": []}
APP_SPECS = [
    {"app_id": "fz-cc", "name": "Fuzz client credentials", "client_id_type": "confidential",
     "auth_methods": ["client_credentials", "password"], "token_type": "jwt_rs256",
     "scopes": [{"name": "directory", "description": "Directory",
                 "rest_regexes": ["CDirectoryService/.*"]},
                {"name": "apps.read", "description": "Read apps", "rest_regexes": ["api/v1/apps.*"]}],
     "user_access_roles": ["fuzz-users"]},
    {"app_id": "fz-code", "name": "Fuzz code and PKCE", "client_id_type": "anything",
     "auth_methods": ["authorization_code"], "token_type": "jwt_es256",
     "redirect_uris": ["http://127.0.0.1/cb", "https://client.example/cb"],
     "post_logout_redirect_uris": ["https://client.example/bye"],
     "scopes": [{"name": "read", "description": "Read"}, {"name": "write", "description": "Write"}],
     "user_must_confirm": True, "issue_refresh_tokens": True, "user_access_roles": ["Everybody"]},
    {"app_id": "fz-opaque", "name": "Fuzz opaque", "client_id_type": "confidential",
     "auth_methods": ["authorization_code", "client_credentials", "password"],
     "token_type": "opaque", "issue_refresh_tokens": True, "token_lifetime_secs": 600,
     "redirect_uris": ["https://opaque.example/cb"], "scopes": [{"name": "files", "description": "Files"}],
     "user_access_roles": ["fuzz-users"]},
    {"app_id": "fz-oidc", "name": "Fuzz OpenID", "client_id_type": "list",
     "allowed_clients": ["fuzz-spa", "other-spa"], "auth_methods": ["authorization_code", "implicit"],
     "token_type": "jwt_eddsa", "redirect_uris": ["http://127.0.0.1:8080/cb", "https://rp.example/cb"],
     "post_logout_redirect_uris": ["https://rp.example/bye", "http://127.0.0.1/bye"],
     "scopes": [{"name": "api", "description": "The API"}], "user_must_confirm": True,
     "issue_refresh_tokens": True, "user_access_roles": ["Everybody"]},
    {"app_id": "fz-closed", "name": "Fuzz nobody may use", "client_id_type": "anything",
     "auth_methods": ["authorization_code", "implicit", "password"],
     "redirect_uris": ["https://closed.example/cb"], "scopes": [{"name": "x", "description": "X"}],
     "user_access_roles": ["fuzz-nobody"]},
]
SFN = {  # server function → its arguments (read: changes nothing)
    "login": ["login_name", "password", "return_to"], "logout": [], "current_user": [],
    "account/consent": [], "account/apps": [], "apps/list": ["q", "category", "offset"],
    "apps/editor": ["app_id"], "apps/save": None, "apps/changelog": ["app_id"],
    "apps/delete": ["app_id"], "activity": ["app_id", "window"],
    "audit": ["actor", "object", "action", "since", "until", "offset"],
    "roles/list": [], "roles/get": ["id"],
    "roles/create": ["name", "description", "right_apps", "right_users", "right_roles"],
    "roles/update": ["id", "name", "description", "right_apps", "right_users", "right_roles"],
    "roles/delete": ["id"], "roles/add_member": ["role_id", "login_name", "user_id"],
    "roles/remove_member": ["role_id", "user_id"], "users/list": ["q", "offset"],
    "users/get": ["id"],
    "users/create": ["login_name", "email", "display_name", "password", "confirm_password",
                     "is_oauth_confidential_client", "enabled", "return_to", "jwks"],
    "users/update": ["id", "login_name", "email", "display_name", "password", "confirm_password",
                     "is_oauth_confidential_client", "enabled", "jwks"],
    "users/delete": ["id"],
}
SFN_READS = {"current_user", "account/consent", "account/apps", "apps/list", "apps/editor",
             "apps/changelog", "activity", "audit", "roles/list", "roles/get", "users/list",
             "users/get"}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 3xx is an answer to look at, not to follow (it may lead off-site)


class SourceHTTPHandler(urllib.request.HTTPHandler):
    """Plain HTTP from the request's `source_ip` (a loopback alias), when it has one."""

    def http_open(self, req):
        src = getattr(req, "source_ip", None)
        kw = {"source_address": (src, 0)} if src else {}
        return self.do_open(http.client.HTTPConnection, req, **kw)


OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect, SourceHTTPHandler)
DROPPED = (urllib.error.URLError, ConnectionError, TimeoutError, socket.timeout,
           http.client.HTTPException, OSError)


class Answer:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    @property
    def location(self):
        return self.headers.get("Location", "") if self.headers else ""

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def session_cookie(self):
        """The session cookie this answer sets: None (no change), "" (ended) or the new id."""
        lines = (self.headers.get_all("Set-Cookie") if self.headers else None) or []
        for line in lines:
            name, _, rest = line.partition("=")
            if name.strip() == "gatehouse_session":
                value = rest.split(";", 1)[0].strip()
                return "" if (not value or "max-age=0" in rest.lower()) else value
        return None


def send(method, path, data=None, headers=None, source=None):
    """One request; raises for a dropped connection, ValueError for one urllib will not send."""
    url = URL + urllib.parse.quote(path, safe="/?=&%.:+,;@!$'()*~")
    req = urllib.request.Request(url, data=data, method=method)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    req.source_ip = source
    try:
        with OPENER.open(req, timeout=TIMEOUT) as res:
            return Answer(res.status, res.headers, res.read())
    except urllib.error.HTTPError as e:
        try:
            body = e.read()
        finally:
            e.close()
        return Answer(e.code, e.headers, body)


# ---------------------------------------------------------------------------------------------
# Setup: real apps, users, roles and signed-in sessions, made through the server's own doors.

class SetupError(Exception):
    pass


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def pkce_pair(verifier):
    return verifier, b64url(hashlib.sha256(verifier.encode()).digest())


CSRF_RE = re.compile(rb'name="csrf"[^>]*?value="([^"]+)"|value="([^"]+)"[^>]*?name="csrf"')


class Targets:
    def __init__(self):
        self.apps = []          # dicts: the spec plus what the fuzz needs to aim at it
        self.admin_cookie = None
        self.person_slots = []  # person session cookies ("" = ended, signed in again on demand)
        self.csrf = {}          # cookie -> the session's form token
        self.relogin_after = 0.0
        self.ids = {}           # login name / role name -> id
        self.protected_ids = set()    # ids a changing request with the admin session must not name
        self.protected_names = set()  # login names it must not name in its body
        self.codes = []  # codes obtained: the authorize request's client, redirect URI, verifier
        self.access, self.refresh, self.id_tokens = [], [], []  # (app id, token, scope)
        self.created_ids = []   # ids the fuzz itself made (fair game)
        self.counts = Counter()

    def api(self, method, path, body=None, ok=(200, 201, 204)):
        headers = {"Cookie": f"gatehouse_session={self.admin_cookie}", "Origin": URL,
                   "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        a = send(method, path, data, headers)
        if a.status >= 500:
            raise SetupError(f"{method} {path} answered {a.status} during setup: {a.body[:300]!r}")
        if ok and a.status not in ok:
            raise SetupError(f"{method} {path} answered {a.status}: {a.body[:300]!r}")
        return a

    def sign_in(self, login, password):
        """A fresh session for `login` through the hosted login form's server function."""
        a = send("POST", "/sfn/login",
                 urllib.parse.urlencode({"login_name": login, "password": password,
                                         "return_to": "/account/apps"}).encode(),
                 {"Content-Type": "application/x-www-form-urlencoded", "Origin": URL,
                  "Accept": "text/html"})
        cookie = a.session_cookie()
        if a.status >= 500:
            raise SetupError(f"POST /sfn/login as {login} answered {a.status}")
        if a.status not in (200, 302, 303) or not cookie:
            return None
        return cookie

    def fetch_csrf(self, cookie):
        """The session's form token, from a consent page it is asked for (prompt=consent)."""
        _, challenge = pkce_pair("v" * 50)
        q = urllib.parse.urlencode({"response_type": "code", "client_id": "csrf-probe",
                                    "redirect_uri": "https://client.example/cb", "scope": "read",
                                    "state": "s", "code_challenge": challenge,
                                    "code_challenge_method": "S256", "prompt": "consent"})
        a = send("GET", f"/oauth2/authorize/fz-code?{q}",
                 headers={"Cookie": f"gatehouse_session={cookie}", "Accept": "text/html"})
        if a.status >= 500:
            raise SetupError(f"GET /oauth2/authorize/fz-code answered {a.status} during setup")
        m = CSRF_RE.search(a.body)
        if m:
            self.csrf[cookie] = (m.group(1) or m.group(2)).decode()

    def person_session(self):
        cookie = self.sign_in(*PERSON)
        if cookie:
            self.counts["person sign-ins"] += 1
            self.fetch_csrf(cookie)
        return cookie

    def setup(self):
        self.admin_cookie = self.sign_in(ADMIN_USER, ADMIN_PASSWORD)
        if not self.admin_cookie:
            raise SetupError(f"cannot sign in as {ADMIN_USER!r} (set FUZZ_ADMIN_PASSWORD)")
        me = self.api("GET", "/api/v1/users?" + urllib.parse.urlencode({"login_name": ADMIN_USER}))
        for u in me.json()["items"]:
            self.ids[u["login_name"].lower()] = u["id"]
        for name, secret, client in [PERSON + (False,), DECOY + (False,), CLIENT + (True,),
                                     OUTSIDER + (True,)]:
            a = self.api("POST", "/api/v1/users",
                         {"login_name": name, "email": f"{name}@fuzz.example",
                          "display_name": name.replace("-", " ").title(), "password": secret,
                          "is_oauth_confidential_client": client}, ok=(201, 409))
            if a.status == 409:  # there already (a rerun): find it and set what we need
                found = self.api("GET", "/api/v1/users?" + urllib.parse.urlencode(
                    {"login_name": name})).json()["items"]
                uid = next(u["id"] for u in found if u["login_name"].lower() == name)
                self.api("PATCH", f"/api/v1/users/{uid}",
                         {"password": secret, "enabled": True, "is_oauth_confidential_client": client})
            else:
                uid = a.json()["id"]
            self.ids[name] = uid
        roles = {r["name"]: r for r in self.api("GET", "/api/v1/roles?limit=500").json()["items"]}
        for name, members in ROLES.items():
            if name in roles:
                rid = roles[name]["id"]
            else:
                rid = self.api("POST", "/api/v1/roles",
                               {"name": name, "description": "fuzz", "admin_rights": []}).json()["id"]
            self.ids[name] = rid
            for m in members:
                self.api("PUT", f"/api/v1/roles/{rid}/members/{self.ids[m]}", ok=(200, 201, 204, 409))
        for name in ("System Administrator", "Everybody"):  # the built-in roles
            if name in roles:
                self.ids[name] = roles[name]["id"]
        for spec in APP_SPECS:
            a = self.api("POST", "/api/v1/apps", spec, ok=(201, 409))
            if a.status == 409:
                self.api("PATCH", f"/api/v1/apps/{spec['app_id']}",
                         {k: v for k, v in spec.items() if k != "app_id"})
            self.apps.append(self.aim(spec))
        self.protected_ids = {v.lower() for v in self.ids.values()} | {a["id"].lower() for a in self.apps}
        self.protected_names = {n.lower() for n in (ADMIN_USER, PERSON[0], DECOY[0], CLIENT[0], OUTSIDER[0])}
        for _ in range(3 if SPREAD else 6):
            cookie = self.person_session()
            if not cookie:
                raise SetupError(f"cannot sign in as {PERSON[0]!r}")
            self.person_slots.append(cookie)
        if not self.csrf:
            raise SetupError("no form token found on the consent page")

    @staticmethod
    def aim(spec):
        """What the fuzz needs to aim at an app: its valid client ids, response types, URIs."""
        kind = spec["client_id_type"]
        methods = spec["auth_methods"]
        if kind == "confidential":
            client_ids = [CLIENT[0]]
        elif kind == "list":
            client_ids = list(spec["allowed_clients"])
        else:
            client_ids = ["fuzz-app", "any.client-id", CLIENT[0]]
        rtypes = []
        if "authorization_code" in methods:
            rtypes.append("code")
        if "implicit" in methods:
            rtypes += ["token", "id_token", "id_token token"]
        return {"id": spec["app_id"], "spec": spec, "kind": kind, "methods": methods,
                "client_ids": client_ids, "response_types": rtypes or ["code"],
                "redirects": spec.get("redirect_uris", []),
                "post_logout": spec.get("post_logout_redirect_uris", []),
                "scopes": [s["name"] for s in spec.get("scopes", [])]}

    def live_person(self, disposable=False):
        """A signed-in person session. Slot 0 is never handed to a door that may end the session
        (`disposable`), so one person session lives through the whole run; the others are signed
        in again when they have all ended (unless the sign-in is throttled: then in 5 s)."""
        spare = range(1, len(self.person_slots))
        if not any(self.person_slots[i] for i in spare) and time.time() >= self.relogin_after:
            for i in spare:
                cookie = self.person_session()
                if not cookie:
                    self.counts["person sign-ins refused"] += 1
                    self.relogin_after = time.time() + 5
                    break
                self.person_slots[i] = cookie
        n = len(self.person_slots)
        start = rnd.randrange(n)  # the same draw however many are live
        order = [(start + k) % n for k in range(n)]
        if disposable:
            order = [i for i in order if i != 0]
        return next((self.person_slots[i] for i in order if self.person_slots[i]), None)

    def cookie_changed(self, old, new):
        """Follows what an answer did to a session: ended it ("") or gave it a new id."""
        if new is None or new == old:
            return
        if old == self.admin_cookie:
            self.counts["admin session " + ("renewed" if new else "ended")] += 1
            self.admin_cookie = new or self.sign_in(ADMIN_USER, ADMIN_PASSWORD)
            if not new:
                print(f"fuzz_http: note: the admin session ended ({LAST_REQUEST[0]}); "
                      f"signed in again: {bool(self.admin_cookie)}", flush=True)
            return
        for i, c in enumerate(self.person_slots):
            if c == old:
                self.person_slots[i] = new
                self.counts["person sessions ended" if not new else "person sessions renewed"] += 1
                if new and old in self.csrf:
                    self.csrf[new] = self.csrf[old]  # a new id keeps the session's data

    def keep(self, pool, item, cap=40):
        pool.append(item)
        if len(pool) > cap:
            del pool[0]


def loopback_spread():
    """Whether requests can come from other 127.x.y.z addresses (Linux loopback)."""
    host = urllib.parse.urlsplit(URL).hostname or ""
    if os.environ.get("FUZZ_SOURCE_SPREAD", "1") == "0":
        return False
    try:
        if not ipaddress.ip_address(host).is_loopback or URL.startswith("https"):
            return False
    except ValueError:
        return False
    try:
        with socket.create_connection((host, urllib.parse.urlsplit(URL).port or 80), timeout=2,
                                      source_address=("127.0.0.2", 0)):
            return True
    except OSError:
        return False


SPREAD = loopback_spread()
LAST_REQUEST = ["setup"]
T = Targets()


# ---------------------------------------------------------------------------------------------
# Values: nasty ones and real ones, each choice from the seeded Random.

def text():
    if rnd.random() < 0.6:
        return rnd.choice(NASTY)
    return "".join(rnd.choice(string.printable) for _ in range(rnd.randint(0, 40)))


def token(n=16):
    return "".join(rnd.choice(string.ascii_letters + string.digits + "-_") for _ in range(n))


def real_value():
    app = rnd.choice(T.apps)
    pools = [
        lambda: app["id"], lambda: rnd.choice(app["client_ids"]),
        lambda: rnd.choice(app["redirects"] or ["https://nowhere.example/cb"]),
        lambda: " ".join(rnd.sample(app["scopes"] + ["openid", "profile", "email"], 2)),
        lambda: rnd.choice(T.codes)["code"] if T.codes else token(43),
        lambda: rnd.choice(T.access)[1] if T.access else token(54),
        lambda: rnd.choice(T.refresh)[1] if T.refresh else token(54),
        lambda: rnd.choice(T.id_tokens)[1] if T.id_tokens else "e30.e30.",
        lambda: rnd.choice(list(T.csrf.values())) if T.csrf else token(32),
        lambda: rnd.choice(list(T.ids.values())), lambda: rnd.choice(list(T.ids)),
        lambda: rnd.choice([PERSON[0], DECOY[0], CLIENT[0], OUTSIDER[0], CLIENT[1]]),
        lambda: URL, lambda: rnd.choice(["S256", "code", "token", "approve", "deny", "on"]),
    ]
    return rnd.choice(pools)()


def value():
    return real_value() if rnd.random() < 0.35 else text()


def garbage_pairs():
    return [(rnd.choice(FIELDS + [text()]), value()) for _ in range(rnd.randint(0, 8))]


def mutate(ps, calm=0.35):
    """A valid parameter list, left alone (`calm` of the time) or broken in a few places."""
    out = list(ps)
    if rnd.random() < calm:
        return out
    for _ in range(rnd.randint(1, 3)):
        op = rnd.random()
        if op < 0.3 and out:
            i = rnd.randrange(len(out))
            out[i] = (out[i][0], text())
        elif op < 0.45 and out:
            del out[rnd.randrange(len(out))]
        elif op < 0.55 and out:
            out.append(rnd.choice(out))  # a repeated parameter
        elif op < 0.75:
            out.append((rnd.choice(FIELDS), value()))
        elif op < 0.82 and out:
            i = rnd.randrange(len(out))
            out[i] = (text(), out[i][1])
        elif out:
            i = rnd.randrange(len(out))
            out[i] = (out[i][0], real_value())
    return out


def keep_person_unlocked(ps):
    """The names the fuzz signs in with (the person, the admin) go out only with their right
    password: a wrong one counts towards locking the account (ten in ten minutes) and the
    run's sessions could not be renewed. The decoy takes those guesses instead."""
    fields = ("username", "login_name")
    mine = {PERSON[0].lower(): PERSON[1], ADMIN_USER.lower(): ADMIN_PASSWORD}
    named = {str(v).strip().lower() for k, v in ps if k in fields} & set(mine)
    if not named:
        return ps
    passwords = [v for k, v in ps if k == "password"]
    right = {n for n in named if passwords and all(p == mine[n] for p in passwords)}
    return [(k, DECOY[0] if k in fields and str(v).strip().lower() in named - right else v)
            for k, v in ps]


def encode_body(ps, kinds=(0.7, 0.9)):
    """Form (mostly), JSON, raw bytes or JSON of the wrong shape."""
    r = rnd.random()
    if r < kinds[0]:
        return "application/x-www-form-urlencoded", urllib.parse.urlencode(ps).encode()
    if r < kinds[1]:
        return "application/json", json.dumps(dict(ps)).encode()
    if r < 0.95:
        return rnd.choice(["application/json", "text/plain", "multipart/form-data",
                           "application/x-www-form-urlencoded"]), bytes(
            rnd.getrandbits(8) for _ in range(rnd.randint(0, 300)))
    return "application/json", json.dumps(rnd.choice([[1, 2], "x", 3, None, {"a": {"b": []}},
                                                      {"grant_type": ["x"]}, {"scope": 1}])).encode()


def pick_app(browser=False):
    """A real app (mostly) or a bogus id; for the browser doors mostly one with redirect URIs."""
    if rnd.random() < 0.85:
        apps = [a for a in T.apps if a["redirects"]] if browser and rnd.random() < 0.9 else T.apps
        return rnd.choice(apps)
    return None


def app_segment(app):
    return app["id"] if app else rnd.choice(BOGUS_APPS)


def client_auth(app, ps, headers):
    """Client authentication for the token, introspection and revocation endpoints."""
    who, secret = rnd.choice([CLIENT, CLIENT, CLIENT, OUTSIDER])
    if rnd.random() < 0.2:
        secret = text()
    if app and app["kind"] != "confidential" and rnd.random() < 0.6:
        ps.append(("client_id", rnd.choice(app["client_ids"])))  # a public client
        return
    r = rnd.random()
    if r < 0.5:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{who}:{secret}".encode()).decode()
    elif r < 0.85:
        ps += [("client_id", who), ("client_secret", secret)]
    elif r < 0.93:
        ps += [("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
               ("client_assertion", rnd.choice(NASTY[-25:] + ["e30.e30.sig"])), ("client_id", who)]


# ---------------------------------------------------------------------------------------------
# The doors. Each builds one request: (door, method, path, params or body, headers, session).

class Req:
    def __init__(self, door, method, path, app=None):
        self.door, self.method, self.path, self.app = door, method, path, app
        self.data, self.headers, self.cookie, self.info = None, {}, None, None
        self.plain_cookie = False  # the session cookie went out alone and unmangled
        self.browser = False  # a door a person's browser uses (session and Origin apply)

    def query(self, ps):
        self.path += ("&" if "?" in self.path else "?") + urllib.parse.urlencode(ps)

    def form(self, ps, kinds=(0.7, 0.9)):
        ctype, self.data = encode_body(ps, kinds)
        self.headers["Content-Type"] = ctype


def authorize_params(app):
    rtype = rnd.choice(app["response_types"]) if app else rnd.choice(["code", "token"])
    cid = rnd.choice(app["client_ids"]) if app else "x"
    redirects = (app["redirects"] if app else []) or ["https://nowhere.example/cb"]
    ru = rnd.choice(redirects)
    if ru.startswith("http://127.0.0.1") and rnd.random() < 0.3:  # loopback: any port
        ru = ru.replace("127.0.0.1:8080", "127.0.0.1").replace(
            "127.0.0.1", f"127.0.0.1:{rnd.randint(1, 65535)}", 1)
    scopes = (app["scopes"] if app else []) + ["openid", "profile", "email"]
    scope = " ".join(rnd.sample(scopes, rnd.randint(1, min(3, len(scopes)))))
    verifier, challenge = pkce_pair(token(rnd.randint(43, 64)))
    state = token(12)
    ps = [("response_type", rtype), ("client_id", cid), ("redirect_uri", ru), ("scope", scope),
          ("state", state)]
    if rtype == "code" or rnd.random() < 0.2:
        ps += [("code_challenge", challenge), ("code_challenge_method", "S256")]
    if "id_token" in rtype or rnd.random() < 0.4:
        ps.append(("nonce", token(10)))
    for k, v in [("prompt", lambda: rnd.choice(["none", "login", "consent", "select_account"])),
                 ("max_age", lambda: rnd.choice(["0", "60", "3600", "-1"])),
                 ("login_hint", lambda: rnd.choice([PERSON[0], DECOY[0], text()]))]:
        if rnd.random() < 0.1:
            ps.append((k, v()))
    info = {"app": app["id"] if app else None, "client_id": cid, "redirect_uri": ru,
            "verifier": verifier}
    return ps, info


def door_authorize():
    app = pick_app(browser=True)
    r = Req("GET /oauth2/authorize/{app}", "GET", f"/oauth2/authorize/{app_segment(app)}", app)
    ps, r.info = authorize_params(app)
    r.query(mutate(ps, calm=0.45) if rnd.random() < 0.9 else garbage_pairs())
    r.cookie = T.live_person() if rnd.random() < 0.75 else None
    r.browser = True
    return r


def door_consent():
    app = pick_app(browser=True)
    r = Req("POST /oauth2/consent/{app}", "POST", f"/oauth2/consent/{app_segment(app)}", app)
    ps, r.info = authorize_params(app)
    r.cookie = T.live_person() if rnd.random() < 0.8 else None
    csrf = T.csrf.get(r.cookie) if r.cookie else None
    ps.append(("csrf", csrf if csrf and rnd.random() < 0.85 else value()))
    ps.append(("decision", rnd.choice(["approve", "approve", "approve", "deny", text()])))
    for s in (app["scopes"] if app else []) + ["openid", "profile"]:
        if rnd.random() < 0.6:
            ps.append(("scope_choice", s))
    r.form(mutate(ps, calm=0.5) if rnd.random() < 0.9 else garbage_pairs(), kinds=(0.9, 0.95))
    r.browser = True
    return r


def door_token():
    app = pick_app()
    fresh = T.codes and rnd.random() < 0.3
    if fresh:  # the newest code, at its own app (codes live 60 s and are single use)
        app = next(a for a in T.apps if a["id"] == T.codes[-1]["app"])
    r = Req("POST /oauth2/token/{app}", "POST", f"/oauth2/token/{app_segment(app)}", app)
    methods = app["methods"] if app else ["client_credentials"]
    kinds = [m for m in methods if m != "implicit"] + ["refresh_token", "authorization_code", "junk"]
    grant = "authorization_code" if fresh else rnd.choice(kinds)
    ps = []
    if grant == "client_credentials":
        ps = [("grant_type", grant)]
    elif grant == "password":
        login, pw = rnd.choice([PERSON, DECOY, (DECOY[0], text())])
        ps = [("grant_type", grant), ("username", login), ("password", pw)]
    elif grant == "authorization_code":
        mine = [c for c in T.codes if app and c["app"] == app["id"]]
        c = T.codes.pop() if fresh else (
            rnd.choice(mine or T.codes) if (T.codes and rnd.random() < 0.9) else None)
        if c:
            ps = [("grant_type", rnd.choice(["authorization_code"] * 9 + ["implicit"])),
                  ("code", c["code"]), ("redirect_uri", c["redirect_uri"]),
                  ("code_verifier", c["verifier"])]
            if app and app["kind"] != "confidential":
                ps.append(("client_id", c["client_id"]))
        else:
            ps = [("grant_type", "authorization_code"), ("code", token(43)),
                  ("redirect_uri", real_value()), ("code_verifier", token(50))]
    elif grant == "refresh_token":
        mine = [t[1] for t in T.refresh if app and t[0] == app["id"]]
        ps = [("grant_type", grant),
              ("refresh_token", rnd.choice(mine or [t[1] for t in T.refresh] or [token(54)]))]
    else:
        ps = [("grant_type", text())]
    if app and app["scopes"] and rnd.random() < 0.5:
        ps.append(("scope", " ".join(rnd.sample(app["scopes"] + ["openid", "profile", "email"], 2))))
    if grant != "authorization_code" or not app or app["kind"] == "confidential" or rnd.random() < 0.2:
        client_auth(app, ps, r.headers)
    r.info = {"grant": grant}
    r.form(keep_person_unlocked(mutate(ps, calm=0.6 if fresh else 0.35) if rnd.random() < 0.9
                                else garbage_pairs()), kinds=(0.55, 0.9))
    if rnd.random() < 0.2:
        r.headers["X-CENTRIFY-NATIVE-CLIENT"] = "true"
    return r


def any_token():
    pools = [p for p in ([t[1] for t in T.access], [t[1] for t in T.refresh],
                         [t[1] for t in T.id_tokens]) if p]
    return rnd.choice(rnd.choice(pools)) if pools and rnd.random() < 0.85 else value()


def door_introspect_revoke():
    app = pick_app()
    what = rnd.choice(["introspect", "revoke"])
    r = Req(f"POST /oauth2/{what}/{{app}}", "POST", f"/oauth2/{what}/{app_segment(app)}", app)
    ps = [("token", any_token())]
    if rnd.random() < 0.4:
        ps.append(("token_type_hint", rnd.choice(["access_token", "refresh_token", text()])))
    client_auth(app, ps, r.headers)
    r.form(mutate(ps) if rnd.random() < 0.9 else garbage_pairs(), kinds=(0.6, 0.9))
    return r


def door_userinfo():
    app = pick_app()
    method = rnd.choice(["GET", "POST"])
    r = Req(f"{method} /oauth2/userinfo/{{app}}", method, f"/oauth2/userinfo/{app_segment(app)}", app)
    openid = [t[1] for t in T.access if "openid" in t[2].split()]
    tok = rnd.choice(openid) if openid and rnd.random() < 0.6 else any_token()
    if rnd.random() < 0.8:
        r.headers["Authorization"] = rnd.choice(["Bearer ", "Bearer ", "bearer ", "DPoP ", "Basic "]) + tok
    elif method == "POST":
        r.form([("access_token", tok)])
    if method == "GET" and rnd.random() < 0.3:
        r.query([("access_token", tok)])
    return r


def door_public():
    app = pick_app()
    seg = app_segment(app)
    tmpl = rnd.choice(["/oauth2/keys/{app}", "/oauth2/{app}/.well-known/oauth-authorization-server",
                       "/.well-known/oauth-authorization-server/oauth2/{app}",
                       "/oauth2/{app}/.well-known/openid-configuration", "/oauth2/{app}/.well-known/{x}"])
    r = Req(f"GET {tmpl}", "GET", tmpl.replace("{app}", seg).replace("{x}", text()), app)
    if rnd.random() < 0.3:
        r.query(garbage_pairs())
    return r


def door_logout():
    app = pick_app()
    method = rnd.choice(["GET", "GET", "POST"])
    r = Req(f"{method} /oauth2/logout/{{app}}", method, f"/oauth2/logout/{app_segment(app)}", app)
    r.cookie = T.live_person(disposable=True) if rnd.random() < 0.6 else None
    ps = []
    if T.id_tokens and rnd.random() < 0.6:
        mine = [t[1] for t in T.id_tokens if app and t[0] == app["id"]]
        ps.append(("id_token_hint", rnd.choice(mine or [t[1] for t in T.id_tokens])))
    if app and app["post_logout"] and rnd.random() < 0.7:
        ps.append(("post_logout_redirect_uri", rnd.choice(app["post_logout"])))
    if app and rnd.random() < 0.5:
        ps.append(("client_id", rnd.choice(app["client_ids"])))
    ps.append(("state", token(8)))
    if method == "POST":
        csrf = T.csrf.get(r.cookie) if r.cookie else None
        ps.append(("csrf", csrf if csrf and rnd.random() < 0.8 else value()))
        r.form(mutate(ps, calm=0.5), kinds=(0.9, 0.95))
    else:
        r.query(mutate(ps, calm=0.5))
    r.browser = True
    return r


def door_withdraw():
    app = pick_app()
    r = Req("POST /account/apps/{app}/withdraw", "POST", f"/account/apps/{app_segment(app)}/withdraw", app)
    r.cookie = T.live_person() if rnd.random() < 0.8 else None
    csrf = T.csrf.get(r.cookie) if r.cookie else None
    r.form(mutate([("csrf", csrf if csrf and rnd.random() < 0.85 else value())], calm=0.6), kinds=(0.9, 0.95))
    r.browser = True
    return r


def door_page():
    app = pick_app()
    uid = rnd.choice(list(T.ids.values()) + T.created_ids + [text()])
    pages = [
        ("/", "/"), ("/login", "/login"), ("/login?…", "/login?" + urllib.parse.urlencode(
            [("return_to", rnd.choice(["/admin", "/account/apps", "//evil.example", text()])),
             ("login_name", value()), ("error", rnd.choice(["invalid", "throttled", "busy", text()])),
             ("minutes", rnd.choice(["1", "-1", "99999999999999999999", text()]))])),
        ("/admin", "/admin"), ("/admin/apps", "/admin/apps"), ("/admin/apps/new", "/admin/apps/new"),
        ("/admin/apps/{app}", f"/admin/apps/{app_segment(app)}"),
        ("/admin/apps?…", "/admin/apps?" + urllib.parse.urlencode([("q", value()), ("category", value())])),
        ("/admin/users", "/admin/users"), ("/admin/users/new", "/admin/users/new"),
        ("/admin/users/{id}", f"/admin/users/{uid}"), ("/admin/roles", "/admin/roles"),
        ("/admin/roles/{id}", f"/admin/roles/{uid}"),
        ("/admin/audit?…", "/admin/audit?" + urllib.parse.urlencode(garbage_pairs())),
        ("/account/apps", "/account/apps"), ("/{random}", f"/{text()}"), ("/pkg/{random}", "/pkg/" + text()),
        ("/api/v1/docs/", "/api/v1/docs/"), ("/metrics", "/metrics"),
        ("/.well-known/oauth-protected-resource/api/v1", "/.well-known/oauth-protected-resource/api/v1"),
    ]
    door, path = rnd.choice(pages)
    r = Req(f"GET {door}", "GET", path, app if "{app}" in door else None)
    r.cookie = rnd.choice([T.live_person, lambda: T.admin_cookie, lambda: None])()
    if rnd.random() < 0.5:
        r.headers["Accept"] = "text/html"
    r.browser = True
    return r


def door_app_form():
    app = pick_app()
    seg = app_segment(app) if rnd.random() < 0.8 else "new"
    r = Req("POST /admin/apps/{app}", "POST", f"/admin/apps/{seg}", app)
    ps = [("op", rnd.choice(["add_redirect", "remove_redirect:0", "add_scope", "remove_scope:1",
                             "add_post_logout", "save", "remove_scope:99999999999", text()])),
          ("app_id", seg), ("name", value()), ("token_type", rnd.choice(["jwt_rs256", "opaque", text()])),
          ("client_id_type", rnd.choice(["anything", "list", "confidential", text()]))]
    for i in range(rnd.randint(0, 3)):
        ps += [(f"redirect_uris[{i}]", value()), (f"scopes[{i}].name", value())]
    r.cookie = rnd.choice([T.live_person, lambda: T.admin_cookie, lambda: T.admin_cookie, lambda: None])()
    r.form(mutate(ps), kinds=(0.85, 0.92))
    r.browser = True
    return r


def plausible(field):
    """A value that fits a server function's argument (most of the time), else anything."""
    if rnd.random() < 0.3:
        return value()
    ids = list(T.ids.values()) + T.created_ids
    choices = {
        "offset": ["0", "50", "-1"], "window": ["day", "week", "month", "24h", "7d"],
        "app_id": [a["id"] for a in T.apps] + ["fzx-1"], "id": ids, "role_id": ids, "user_id": ids,
        "login_name": [f"fzx-user-{rnd.randint(0, 99)}", DECOY[0], CLIENT[0]],
        "email": ["fuzz@example.com", "a@b"], "password": ["Fuzz-new-pass-1234!"],
        "confirm_password": ["Fuzz-new-pass-1234!"], "return_to": ["/admin", "/account/apps"],
        "right_apps": ["on"], "right_users": ["on"], "right_roles": ["on"],
        "is_oauth_confidential_client": ["on", "true"], "enabled": ["on", "true"],
        "jwks": ['{"keys": []}', '{"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}]}'],
        "name": [f"fzx-role-{rnd.randint(0, 99)}"], "since": ["0", "2026-01-01"], "until": ["4102444800"],
        "object": ["app", "user", "role"], "action": ["app.create", "session.sign_in"],
    }.get(field)
    return rnd.choice(choices) if choices else value()


def door_sfn():
    name = rnd.choice(list(SFN))
    r = Req(f"POST /sfn/{name}", "POST", f"/sfn/{name}")
    if name == "apps/save":
        spec = dict(rnd.choice(APP_SPECS))
        spec["app_id"] = rnd.choice([f"fzx-{rnd.randint(0, 99)}", spec["app_id"], text()])
        form = {"is_new": rnd.choice([True, False]), "app": spec,
                "token_lifetime": rnd.choice([{"value": 5, "unit": "hours"}, 5, text()]),
                "refresh_lifetime": rnd.choice([{"value": 30, "unit": "days"}, None, text()])}
        for k in rnd.sample(list(spec), rnd.randint(0, 3)):
            spec[k] = rnd.choice([text(), None, 0, [], [text()], {"x": text()}])
        r.data = json.dumps({"form": form} if rnd.random() < 0.8 else form).encode()
        r.headers["Content-Type"] = "application/json"
    else:
        ps = [(k, plausible(k)) for k in SFN[name] if rnd.random() < 0.9]
        if name == "login" and rnd.random() < 0.3:
            ps = [("login_name", PERSON[0]), ("password", PERSON[1]), ("return_to", value())]
        r.form(keep_person_unlocked(mutate(ps)), kinds=(0.85, 0.92))
    if name in ("login", "logout"):
        r.cookie = T.live_person(disposable=True) if rnd.random() < 0.5 else None  # never the admin's
    else:
        r.cookie = rnd.choice([T.live_person, lambda: T.admin_cookie, lambda: T.admin_cookie,
                               lambda: None])()
    if rnd.random() < 0.4:
        r.headers["Accept"] = rnd.choice(["text/html", "application/json"])
    r.browser = True
    return r


def new_app_json():
    spec = dict(rnd.choice(APP_SPECS))
    spec["app_id"] = f"fzx-{rnd.randint(0, 999)}"
    for k in rnd.sample(list(spec), rnd.randint(0, 3)):
        spec[k] = rnd.choice([text(), None, -1, 10**20, [], [text()], {"x": text()}, True])
    if rnd.random() < 0.2:
        spec[text()] = value()
    return spec


def door_admin_api():
    uid = rnd.choice(list(T.ids.values()) + T.created_ids + [text(), "00000000-0000-0000-0000-000000000000"])
    uid2 = rnd.choice(list(T.ids.values()) + T.created_ids + [text()])
    app = rnd.choice([a["id"] for a in T.apps] + [f"fzx-{rnd.randint(0, 999)}", text()])
    body = None
    method, path, door = rnd.choice([
        ("GET", "/api/v1/apps", None), ("POST", "/api/v1/apps", "new_app"),
        ("GET", f"/api/v1/apps/{app}", "/api/v1/apps/{app}"),
        ("PATCH", f"/api/v1/apps/{app}", "/api/v1/apps/{app}"),
        ("DELETE", f"/api/v1/apps/{app}", "/api/v1/apps/{app}"),
        ("GET", f"/api/v1/apps/{app}/changelog", "/api/v1/apps/{app}/changelog"),
        ("GET", "/api/v1/users", None), ("POST", "/api/v1/users", "new_user"),
        ("GET", f"/api/v1/users/{uid}", "/api/v1/users/{id}"),
        ("PATCH", f"/api/v1/users/{uid}", "/api/v1/users/{id}"),
        ("DELETE", f"/api/v1/users/{uid}", "/api/v1/users/{id}"),
        ("GET", "/api/v1/roles", None), ("POST", "/api/v1/roles", "new_role"),
        ("GET", f"/api/v1/roles/{uid}", "/api/v1/roles/{id}"),
        ("PATCH", f"/api/v1/roles/{uid}", "/api/v1/roles/{id}"),
        ("DELETE", f"/api/v1/roles/{uid}", "/api/v1/roles/{id}"),
        ("PUT", f"/api/v1/roles/{uid}/members/{uid2}", "/api/v1/roles/{id}/members/{user_id}"),
        ("DELETE", f"/api/v1/roles/{uid}/members/{uid2}", "/api/v1/roles/{id}/members/{user_id}"),
        ("GET", "/api/v1/audit", None), ("GET", "/api/v1/export", None),
        ("POST", "/api/v1/import", None), ("GET", "/api/v1/openapi.json", None),
        ("POST", "/CDirectoryService/CreateUser", None),
        ("POST", "/api/v1/keys/rotate", None) if rnd.random() < 0.05 else ("GET", "/api/v1/apps", None),
    ])
    kind = door if door in ("new_app", "new_user", "new_role") else None
    r = Req(f"{method} {path if door is None or kind else door}", method, path)
    if method == "GET":
        r.query([(k, value()) for k in rnd.sample(
            ["limit", "offset", "login_name", "category", "actor", "object", "action", "since",
             "until", "with_secrets"], rnd.randint(0, 3))])
    elif path == "/api/v1/import":
        r.query([("dry_run", rnd.choice(["true", "true", "false", text()])),
                 ("prune", rnd.choice(["true", "false"]))])
        body = rnd.choice([{}, {"apps": [new_app_json()]}, {"version": 1, "apps": [], "roles": []},
                           {"users": [{"login_name": text()}]}, [text()]])
    elif kind == "new_app" or path.startswith("/api/v1/apps/"):
        body = new_app_json()
        if method == "PATCH":
            body = {k: v for k, v in body.items() if rnd.random() < 0.3}
    elif kind == "new_user" or path.startswith("/api/v1/users/"):
        body = {"login_name": f"fzx-user-{rnd.randint(0, 999)}", "email": rnd.choice(["a@b.c", text()]),
                "display_name": value(), "password": value(),
                "is_oauth_confidential_client": rnd.choice([True, False, text()]),
                "enabled": rnd.choice([True, False]),
                "jwks": rnd.choice([None, {"keys": []}, {"keys": [{"kty": "RSA", "n": text(), "e": "AQAB"}]},
                                    {"keys": [{"kty": "EC", "crv": "P-256", "x": text(), "y": text()}]}, text()])}
        body = {k: v for k, v in body.items() if rnd.random() < 0.8}
    elif kind == "new_role" or path.startswith("/api/v1/roles/"):
        body = {"name": rnd.choice([f"fzx-role-{rnd.randint(0, 999)}", text()]), "description": value(),
                "admin_rights": rnd.choice([[], ["apps"], ["apps", "users", "roles"], [text()], text()])}
    elif path.startswith("/CDirectoryService"):
        body = {"Name": rnd.choice([f"fzx-{rnd.randint(0, 999)}@co", text()]), "Mail": value(),
                "Password": value(), "DisplayName": value()}
    if body is not None:
        r.data = json.dumps(body).encode() if rnd.random() < 0.9 else text().encode("utf-8", "replace")
        r.headers["Content-Type"] = rnd.choice(["application/json"] * 8 + ["text/plain", "application/x+json"])
    auth = rnd.random()
    if auth < 0.6:
        r.cookie = T.admin_cookie
    elif auth < 0.75:
        r.cookie = T.live_person()
    elif auth < 0.92:
        r.headers["Authorization"] = "Bearer " + any_token()
    r.browser = True
    return r


def door_odd_method():
    app = pick_app()
    method = rnd.choice(["PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "GET"])
    path = rnd.choice([f"/oauth2/token/{app_segment(app)}", f"/oauth2/introspect/{app_segment(app)}",
                       f"/oauth2/consent/{app_segment(app)}", "/sfn/login", "/healthz", "/readyz",
                       f"/oauth2/authorize/{app_segment(app)}"])
    r = Req(f"{method} (odd method)", method, path, app)
    if method in ("PUT", "PATCH", "DELETE") and rnd.random() < 0.7:
        r.form(garbage_pairs())
    return r


DOORS = [(16, door_authorize), (8, door_consent), (18, door_token), (8, door_introspect_revoke),
         (5, door_userinfo), (5, door_public), (6, door_logout), (3, door_withdraw), (8, door_page),
         (3, door_app_form), (10, door_sfn), (7, door_admin_api), (2, door_odd_method)]


# ---------------------------------------------------------------------------------------------
# One request: the common hostile headers, the guard for the admin's session, and what it got.

CHANGING_SFN = {f"/sfn/{n}" for n in SFN if n not in SFN_READS and n not in ("login", "logout")}


def harms_admin(r):
    """Whether a changing request sent with the admin's session could touch what the run needs
    (the admin, its roles, the fuzz's users, roles and apps) or wipe everything (an import)."""
    if r.cookie != T.admin_cookie or r.method in ("GET", "HEAD", "OPTIONS"):
        return False
    path = r.path.split("?")[0]
    changing = (path.startswith("/api/v1/") or path.lower() == "/cdirectoryservice/createuser"
                or path in CHANGING_SFN or path.startswith("/admin/apps/"))
    if not changing:
        return False
    if path == "/api/v1/import":
        return "dry_run=true" not in r.path
    in_path = set(re.split(r"[/?&=]", urllib.parse.unquote(r.path).lower()))
    in_body = set(re.findall(r"[\w.@-]+", urllib.parse.unquote((r.data or b"").decode("utf-8", "replace")).lower()))
    return bool(in_path & T.protected_ids or in_body & (T.protected_ids | T.protected_names))


def finish(r):
    if r.cookie and r.cookie == T.admin_cookie and harms_admin(r):
        r.cookie = T.live_person()
    if r.cookie and rnd.random() < 0.97:
        cookie = f"gatehouse_session={r.cookie}"
        r.plain_cookie = True
        if rnd.random() < 0.05:
            r.plain_cookie = False
            cookie = rnd.choice([f"a=b; {cookie}", f"{cookie}; gatehouse_session={text()}",
                                 f"gatehouse_session={text()}; {cookie}", f"{cookie};;", f" {cookie} "])
        r.headers["Cookie"] = cookie
    elif rnd.random() < 0.08:
        r.headers["Cookie"] = f"gatehouse_session={text()}"
    if r.browser and r.cookie and rnd.random() < 0.85:
        r.headers["Origin"] = URL
    elif rnd.random() < 0.4:
        r.headers[rnd.choice(["Origin", "Origin", "Referer"])] = rnd.choice(
            [URL, URL + "/admin", "https://evil.example", "null", text()])
    if "Authorization" not in r.headers and rnd.random() < 0.1:
        cred = f"{text()}:{text()}".encode()
        r.headers["Authorization"] = rnd.choice([
            "Basic " + base64.b64encode(cred).decode(), "Basic " + text(), "Bearer " + text(), text()])
    if rnd.random() < 0.2:
        r.headers["Accept"] = rnd.choice(["text/html", "application/json", "*/*", text()])
    if rnd.random() < 0.1:
        r.headers[rnd.choice(["X-Forwarded-For", "Forwarded", "X-Forwarded-Proto", "Host"])] = text()
    addr = rnd.random()
    source = "127.0.0.2" if addr < 0.3 else f"127.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.{rnd.randint(2, 254)}"
    return source if SPREAD else None


def outcome(r, a):
    """A short name for what the answer means, for the summary."""
    st, loc = a.status, a.location
    if 300 <= st < 400:
        if loc.startswith("/login"):
            return f"{st} to login"
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query + "&" + urllib.parse.urlsplit(loc).fragment)
        if "error" in q:
            return f"{st} error={q['error'][0][:30]}"
        for k in ("code", "access_token", "id_token"):
            if k in q:
                return f"{st} {k}"
        return f"{st} to {urllib.parse.urlsplit(loc).path[:30] or loc[:30]}"
    body = a.json()
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return f"{st} {body['error'][:30]}"
    if st == 200 and r.door.startswith("POST /oauth2/token"):
        return "200 issued"
    if st == 200 and b'name="csrf"' in a.body:
        return "200 form (consent/sign-out)"
    if st == 404 and "{app}" in r.door and not r.app and "/api/" not in r.door:
        return "404 unknown app"
    return str(st)


def harvest(r, a):
    """Codes, tokens and ID tokens the server gave out, to aim later requests with."""
    appid = r.app["id"] if r.app else None
    if 300 <= a.status < 400 and r.info and appid:
        split = urllib.parse.urlsplit(a.location)
        q = dict(urllib.parse.parse_qsl(split.query + "&" + split.fragment))
        if "code" in q:
            T.keep(T.codes, dict(r.info, code=q["code"]))
            T.counts["codes obtained"] += 1
        if "access_token" in q:
            T.keep(T.access, (appid, q["access_token"], q.get("scope", "")))
            T.counts["implicit tokens obtained"] += 1
        if "id_token" in q:
            T.keep(T.id_tokens, (appid, q["id_token"], q.get("scope", "")))
    body = a.json() if a.status == 200 and r.door.startswith("POST /oauth2/token") else None
    if isinstance(body, dict) and appid:
        T.counts[f"tokens issued ({r.info['grant'] if r.info else '?'})"] += 1
        for k, pool in (("access_token", T.access), ("refresh_token", T.refresh), ("id_token", T.id_tokens)):
            if isinstance(body.get(k), str):
                T.keep(pool, (appid, body[k], str(body.get("scope", ""))))
    if a.status == 201 and r.path.startswith("/api/v1/"):
        body = a.json()
        if isinstance(body, dict) and isinstance(body.get("id"), str):
            T.keep(T.created_ids, body["id"], cap=30)
    if 300 <= a.status < 400 and r.info and r.door.startswith("POST /oauth2/consent") and "code" in a.location:
        T.counts["consents approved"] += 1


def shorten(b, n=200):
    if b is None:
        return "-"
    s = repr(b[:n])
    return s + (f"…({len(b)} bytes)" if len(b) > n else "")


def describe(r, seq, source):
    hdrs = ", ".join(f"{k}: {v[:60]!r}" for k, v in r.headers.items()
                     if k in ("Content-Type", "Origin", "Referer", "Authorization", "Accept"))
    who = ("admin session" if r.cookie == T.admin_cookie else "person session") if r.cookie else "no session"
    if "Cookie" in r.headers and not r.plain_cookie:
        who += f"; Cookie: {r.headers['Cookie'][:80]!r}"
    return (f"seed={SEED} request #{seq}: {r.method} {r.path[:200]!r} [{who}; from {source or 'default'}]"
            f"\n      headers: {hdrs or '-'}\n      body: {shorten(r.data)}")


def main():
    print(f"fuzz_http: seed {SEED} (replay: FUZZ_SEED={SEED} python3 scripts/fuzz_http.py {URL} {SECONDS:g})",
          flush=True)
    started = time.time()
    try:
        T.setup()
    except (SetupError, KeyError, StopIteration, TypeError) as e:
        print(f"fuzz_http: setup failed (seed {SEED}): {e}")
        sys.exit(1)
    except DROPPED as e:
        print(f"fuzz_http: setup failed, the server dropped the connection (seed {SEED}): {e!r}")
        sys.exit(1)
    print(f"fuzz_http: set up {len(T.apps)} apps, {len(T.person_slots)} person sessions, "
          f"{len(T.csrf)} form tokens in {time.time() - started:.1f}s; loopback source spread: {SPREAD}",
          flush=True)
    weights = [w for w, _ in DOORS]
    doors = [d for _, d in DOORS]
    stats = defaultdict(lambda: {"n": 0, "real": 0, "past": 0, "session": 0, "signed_in": 0,
                                 "out": Counter()})
    deadline, sent, refused, bad = time.time() + SECONDS, 0, 0, []
    seq = 0
    while time.time() < deadline:
        seq += 1
        try:
            r = rnd.choices(doors, weights)[0]()  # may sign a session in again
            source = finish(r)
        except (SetupError, *DROPPED) as e:
            msg = f"FAIL seed={SEED} request #{seq}: signing a session in again failed: {e!r}"
            print(msg, flush=True)
            bad.append(msg)
            continue
        LAST_REQUEST[0] = f"request #{seq}: {r.method} {r.path[:80]!r}"
        try:
            a = send(r.method, r.path, r.data, r.headers, source)
        except ValueError:
            refused += 1  # a URL or header urllib itself refuses to send
            continue
        except DROPPED as e:
            msg = f"FAIL {describe(r, seq, source)}\n      → dropped: {e!r}"
            print(msg, flush=True)
            bad.append(msg)
            continue
        sent += 1
        s = stats[r.door]
        s["n"] += 1
        label = outcome(r, a)
        s["out"][label] += 1
        if r.app:
            s["real"] += 1
            s["past"] += label != "404 unknown app" and a.status != 404
        if r.cookie and "Cookie" in r.headers:
            s["session"] += 1
            ended = a.session_cookie() == ""
            s["signed_in"] += not (ended or a.status == 401 or label.endswith("to login"))
            if r.plain_cookie:  # a mangled header may make the server drop a cookie it made up
                try:
                    T.cookie_changed(r.cookie, a.session_cookie())
                except (SetupError, *DROPPED) as e:
                    msg = f"FAIL seed={SEED} request #{seq}: signing the admin in again failed: {e!r}"
                    print(msg, flush=True)
                    bad.append(msg)
        harvest(r, a)
        if a.status >= 500:
            msg = f"FAIL {describe(r, seq, source)}\n      → {a.status}: {shorten(a.body, 300)}"
            print(msg, flush=True)
            bad.append(msg)
    print(f"\nhostile input summary (seed {SEED}): {sent} requests in {time.time() - started:.0f}s, "
          f"{refused} not sendable, {len(bad)} failures")
    print("  door: requests | at a real app (past 'unknown app') | with a session (signed in) | outcomes")
    for door in sorted(stats):
        s = stats[door]
        outs = ", ".join(f"{k}:{v}" for k, v in s["out"].most_common(7))
        print(f"  {door}: {s['n']} | {s['real']} ({s['past']}) | {s['session']} ({s['signed_in']}) | {outs}")
    print("  " + ", ".join(f"{k}: {v}" for k, v in sorted(T.counts.items())))
    if bad:
        print(f"\n{len(bad)} failures (seed {SEED}; replay with FUZZ_SEED={SEED}):")
        for b in bad[:20]:
            print("  " + b)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
