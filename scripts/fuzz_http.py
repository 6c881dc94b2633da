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
person, confidential clients and roles, and signs the person in. Two apps take registered
clients (SPEC §3b): fz-mcp with open registration, fz-reg with registration by initial access
token (issued through the admin API); both list `resources`, as do fz-code and fz-opaque. The
setup registers clients for real (RFC 7591: a public `none` client with loopback redirect URIs,
a `client_secret_basic` one with client credentials, a `client_secret_post` one) and adds two
through the admin clients API (`private_key_jwt`, `client_secret_basic`). The fuzz then mostly
aims at those apps with a mix of valid values (client ids, secrets, redirect URIs, scopes, PKCE,
resources, the session's form token, codes and tokens it obtained on the way) and nasty ones,
and sends the person's session cookie (with a matching Origin) on a good share of the browser
doors, so the input reaches the code behind "no such application" and "not signed in". The
registration doors get valid metadata broken in one to three places, RFC 7592 calls with right
and wrong registration access tokens, token requests as registered clients (right and wrong
secrets and methods, grants they did and did not register), authorize requests with their ids
and loopback redirect URIs on any port, and `resource` parameters (listed, unlisted, repeated,
garbage) on authorize, token and refresh; the admin clients API is fuzzed with the admin session.

Every random choice goes through one Random seeded with the printed seed: the same seed sends
the same sequence of requests (modulo what the server answers: codes and tokens it issues).
The administrator's own user, its roles, the apps and the registered clients set up here are
never targeted by a deleting or changing request sent with the administrator's session, and a
setup client's registration access token never deletes or changes it (RFC 7592); the clients
the fuzz itself registers or adds are fair game.
On loopback the requests come from many 127.x.y.z source addresses (so per-address sign-in
throttling neither stops the fuzz nor the re-sign-ins of its sessions, which come from 127.0.0.1),
a share of them from one fixed address so the throttle itself is exercised
(FUZZ_SOURCE_SPREAD=0: everything from the default address). Registration requests come from
the fixed address less often, so most of them stay under GATEHOUSE_REGISTRATION_RATE (without
the spread most of them are refused with slow_down, unless the server allows more).
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
     "resources": ["https://api.fuzz.example/", "https://api.fuzz.example/v2"],
     "user_must_confirm": True, "issue_refresh_tokens": True, "user_access_roles": ["Everybody"]},
    {"app_id": "fz-opaque", "name": "Fuzz opaque", "client_id_type": "confidential",
     "auth_methods": ["authorization_code", "client_credentials", "password"],
     "token_type": "opaque", "issue_refresh_tokens": True, "token_lifetime_secs": 600,
     "redirect_uris": ["https://opaque.example/cb"], "scopes": [{"name": "files", "description": "Files"}],
     "resources": ["https://files.fuzz.example/"], "user_access_roles": ["fuzz-users"]},
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
    # Registered clients only (SPEC §3b): open RFC 7591 registration, an MCP server's app.
    {"app_id": "fz-mcp", "name": "Fuzz MCP, open registration", "client_id_type": "registered",
     "client_registration": "open", "auth_methods": ["authorization_code", "client_credentials"],
     "token_type": "jwt_rs256", "issue_refresh_tokens": True,
     "scopes": [{"name": "tools", "description": "Tools"}, {"name": "files", "description": "Files"}],
     "resources": ["https://mcp.fuzz.example/mcp", "https://mcp.fuzz.example/other"],
     "user_access_roles": ["Everybody"]},
    # Registration with an initial access token; consent; opaque tokens; Gatehouse's own API
    # among its resources.
    {"app_id": "fz-reg", "name": "Fuzz registration by token", "client_id_type": "registered",
     "client_registration": "token", "auth_methods": ["authorization_code", "client_credentials"],
     "token_type": "opaque", "issue_refresh_tokens": True, "user_must_confirm": True,
     "scopes": [{"name": "reports", "description": "Reports"}],
     "resources": ["https://reports.fuzz.example/", URL + "/api/v1"],
     "user_access_roles": ["fuzz-users"]},
]
# Public JWKs (RFC 7517 A.1, RFC 8037 A.2) for private_key_jwt clients; nobody holds their keys here.
EC_JWK = {"kty": "EC", "crv": "P-256", "x": "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
          "y": "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM", "kid": "1"}
OKP_JWK = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "ed"}
# The clients the setup makes: (app, metadata, how) with how "open" (RFC 7591 without a token),
# "token" (RFC 7591 with the app's initial access token) or "admin" (POST /api/v1/apps/{app}/clients).
SETUP_CLIENTS = [
    ("fz-mcp", {"client_name": "Fuzz MCP public", "token_endpoint_auth_method": "none",
                "redirect_uris": ["http://127.0.0.1/callback", "http://[::1]/callback",
                                  "http://localhost/callback"],
                "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
                "scope": "tools files"}, "open"),
    ("fz-mcp", {"client_name": "Fuzz MCP confidential", "token_endpoint_auth_method": "client_secret_basic",
                "redirect_uris": ["https://rc.fuzz.example/cb", "http://127.0.0.1:9999/rc"],
                "grant_types": ["client_credentials", "authorization_code", "refresh_token"]}, "open"),
    ("fz-reg", {"client_name": "Fuzz reg post", "token_endpoint_auth_method": "client_secret_post",
                "grant_types": ["client_credentials"], "software_id": "fuzz", "software_version": "1"},
     "token"),
    ("fz-reg", {"client_name": "Fuzz reg public", "token_endpoint_auth_method": "none",
                "redirect_uris": ["http://127.0.0.1:7777/cb"],
                "grant_types": ["authorization_code", "refresh_token"]}, "token"),
    ("fz-reg", {"client_name": "Fuzz reg keys", "token_endpoint_auth_method": "private_key_jwt",
                "grant_types": ["client_credentials"], "jwks": {"keys": [EC_JWK, OKP_JWK]}}, "admin"),
    ("fz-reg", {"client_name": "Fuzz reg admin basic", "token_endpoint_auth_method": "client_secret_basic",
                "redirect_uris": ["https://adm.fuzz.example/cb"],
                "grant_types": ["authorization_code", "client_credentials"],
                "client_uri": "https://adm.fuzz.example/", "contacts": ["ops@fuzz.example"]}, "admin"),
]
META_KEYS = ["redirect_uris", "token_endpoint_auth_method", "grant_types", "response_types",
             "client_name", "client_uri", "logo_uri", "policy_uri", "tos_uri", "scope", "contacts",
             "software_id", "software_version", "jwks"]
AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post", "private_key_jwt"]
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
        # Registered clients (dicts, see client_record): the setup's (never deleted, changed or
        # given a new secret) and those the fuzz registered or added (fair game).
        self.reg_setup, self.reg_pool = [], []
        self.iats = {}          # app id -> initial access tokens issued for it
        self.reg_codes = []     # codes obtained for registered clients (info as for `codes`)
        self.reg_refresh = []   # (app id, client, refresh token, resources)

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
        self.setup_clients()
        self.protected_ids = ({v.lower() for v in self.ids.values()} | {a["id"].lower() for a in self.apps}
                              | {c["client_id"].lower() for c in self.reg_setup})
        self.protected_names = {n.lower() for n in (ADMIN_USER, PERSON[0], DECOY[0], CLIENT[0], OUTSIDER[0])}
        for _ in range(3 if SPREAD else 6):
            cookie = self.person_session()
            if not cookie:
                raise SetupError(f"cannot sign in as {PERSON[0]!r}")
            self.person_slots.append(cookie)
        if not self.csrf:
            raise SetupError("no form token found on the consent page")

    def setup_clients(self):
        """Initial access tokens for the registered apps, and the setup's registered clients."""
        for app in self.apps:
            if app["kind"] == "registered":
                a = self.api("POST", f"/api/v1/apps/{app['id']}/initial-access-tokens",
                             {"expires_in": 86400}, ok=(201,))
                self.iats[app["id"]] = [a.json()["initial_access_token"]]
                self.counts["initial access tokens issued"] += 1
        for app_id, meta, how in SETUP_CLIENTS:
            if how == "admin":
                doc = self.api("POST", f"/api/v1/apps/{app_id}/clients", meta, ok=(201,)).json()
            else:
                headers = {"Content-Type": "application/json", "Accept": "application/json"}
                if how == "token":
                    headers["Authorization"] = "Bearer " + self.iats[app_id][0]
                a = send("POST", f"/oauth2/register/{app_id}", json.dumps(meta).encode(), headers)
                if a.status == 429 and how == "open":  # a rerun: the app is full, or this address
                    how = "admin, as open registration is refused"
                    a = self.api("POST", f"/api/v1/apps/{app_id}/clients", meta, ok=(201,))
                if a.status != 201:
                    raise SetupError(f"POST /oauth2/register/{app_id} answered {a.status}: {a.body[:300]!r}")
                doc = a.json()
            c = client_record(app_id, doc, setup=True)
            if not c or (c["auth"] in ("client_secret_basic", "client_secret_post") and not c["secret"]):
                raise SetupError(f"registering {meta['client_name']!r} with {app_id} answered {doc!r}")
            self.reg_setup.append(c)
            self.counts[f"clients registered in setup ({how})"] += 1
        for app in self.apps:
            if app["kind"] == "registered":
                mine = [c for c in self.reg_setup if c["app"] == app["id"]]
                app["client_ids"] = [c["client_id"] for c in mine if "authorization_code" in c["grants"]]
                app["redirects"] = sorted({u for c in mine for u in c["redirects"]})

    def setup_clients_changed(self):
        """The setup's registered clients that are gone or changed (through the admin API):
        nothing the fuzz sends may delete or change them, so any is a finding."""
        bad = []
        for c in self.reg_setup:
            a = self.api("GET", f"/api/v1/apps/{c['app']}/clients/{c['client_id']}", ok=None)
            now = a.json() if a.status == 200 else None
            if not isinstance(now, dict) or any(now.get(k) != v for k, v in c["meta"].items()):
                bad.append(f"{c['app']}/{c['client_id']} ({c['meta'].get('client_name')}): "
                           f"{a.status} {a.body[:300]!r}")
        return bad

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
        if kind == "registered":
            client_ids, rtypes = [], ["code"]  # filled in once the setup has registered some
        return {"id": spec["app_id"], "spec": spec, "kind": kind, "methods": methods,
                "client_ids": client_ids, "response_types": rtypes or ["code"],
                "redirects": spec.get("redirect_uris", []),
                "post_logout": spec.get("post_logout_redirect_uris", []),
                "scopes": [s["name"] for s in spec.get("scopes", [])],
                "resources": spec.get("resources", [])}

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


def client_record(app_id, doc, setup=False, secret=None):
    """A registered client as the fuzz aims at it, from an RFC 7591 answer or a ClientView."""
    if not isinstance(doc, dict) or not isinstance(doc.get("client_id"), str):
        return None
    meta = {k: doc[k] for k in META_KEYS if k in doc}
    return {"app": app_id, "client_id": doc["client_id"], "setup": setup,
            "secret": doc.get("client_secret") or secret,
            "rat": doc.get("registration_access_token"),
            "auth": str(doc.get("token_endpoint_auth_method", "client_secret_basic")),
            "grants": [g for g in doc.get("grant_types") or [] if isinstance(g, str)],
            "redirects": [u for u in doc.get("redirect_uris") or [] if isinstance(u, str)],
            "meta": meta}


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
        lambda: rnd.choice(T.reg_setup + T.reg_pool)["client_id"] if T.reg_setup else token(22),
        lambda: rnd.choice(app["resources"] or ["https://mcp.fuzz.example/mcp"]),
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
        return "application/json", json.dumps(json_params(ps)).encode()
    if r < 0.95:
        return rnd.choice(["application/json", "text/plain", "multipart/form-data",
                           "application/x-www-form-urlencoded"]), bytes(
            rnd.getrandbits(8) for _ in range(rnd.randint(0, 300)))
    return "application/json", json.dumps(rnd.choice([[1, 2], "x", 3, None, {"a": {"b": []}},
                                                      {"grant_type": ["x"]}, {"scope": 1}])).encode()


def json_params(ps):
    """Parameters as a JSON object: the last of a repeated name wins, except `resource`, which
    the server takes as a string or an array of strings (and is sent as something else now and then)."""
    out = {k: v for k, v in ps if k != "resource"}
    res = [v for k, v in ps if k == "resource"]
    if res:
        x = rnd.random()
        out["resource"] = (res if len(res) > 1 or x < 0.4 else res[0]) if x < 0.95 else rnd.choice(
            [[1], [res], {"r": res[0]}, None, [None], 5, []])
    return out


def resource_params(app, granted=None):
    """`resource` parameters (RFC 8707): the app's own, a grant's, repeated, another app's,
    unlisted ones and garbage."""
    listed = app["resources"] if app else []
    others = [r for a in T.apps for r in a["resources"] if a is not app]
    x = rnd.random()
    if granted and x < 0.25:
        vals = rnd.sample(granted, rnd.randint(1, len(granted)))
    elif listed and x < 0.55:
        vals = rnd.sample(listed, rnd.randint(1, len(listed)))
    elif listed and x < 0.65:
        vals = [rnd.choice(listed)] * rnd.randint(2, 3)  # the same one repeated
    elif x < 0.78:
        vals = [rnd.choice(others + ["https://evil.example/", URL + "/api/v1", URL])]
        if listed and rnd.random() < 0.5:
            vals.insert(rnd.randrange(2), rnd.choice(listed))  # one right, one wrong
    elif x < 0.97:
        vals = [garbage_resource(listed) for _ in range(rnd.randint(1, 3))]
    else:
        vals = [rnd.choice(listed or ["https://x.example/"]) for _ in range(rnd.randint(20, 200))]
    return [("resource", v) for v in vals]


def garbage_resource(listed):
    base = rnd.choice(listed or ["https://mcp.fuzz.example/mcp"])
    return rnd.choice([
        base + "#frag", base + "?q=1", base.upper(), base.replace("https", "http"), base.rstrip("/") + "/",
        base.rstrip("/"), base + "/..", base + "%2F", base.replace("/", "%2F"), " " + base, base + " ",
        base + "\x00", "/mcp", "mcp", "urn:fuzz:resource", "https://", "https:", "//mcp.fuzz.example/mcp",
        "https://mcp.fuzz.example:443/mcp", "https://MCP.FUZZ.EXAMPLE/mcp", "https://xn--e1a.example/",
        "https://е.example/", base + "a" * 3000, "*", text(), value()])


LOOPBACK_HOSTS = ("127.0.0.1", "[::1]", "localhost")


def loopback_variant(uri):
    """A registered loopback redirect URI with another port (RFC 8252: any port matches), now
    and then another loopback host, a changed path, or no change at all."""
    split = urllib.parse.urlsplit(uri)
    host = split.hostname or ""
    if split.scheme != "http" or ("[" + host + "]" if ":" in host else host) not in LOOPBACK_HOSTS:
        return uri
    x = rnd.random()
    if x < 0.25:
        return uri
    h = "[" + host + "]" if ":" in host else host
    port = rnd.choice([rnd.randint(1024, 65535), rnd.randint(1024, 65535), 1, 65535, 80, 0, 65536, 99999])
    if x < 0.8:
        netloc = f"{h}:{port}"
    elif x < 0.9:
        netloc = f"{rnd.choice([v for v in LOOPBACK_HOSTS if v != h] + ['127.0.0.2', '127.1', '0.0.0.0', '[::ffff:127.0.0.1]'])}:{port}"
    else:
        return urllib.parse.urlunsplit((split.scheme, f"{h}:{port}", split.path + rnd.choice(
            ["/x", "/../cb", "?a=1", "#f", "%2e%2e", "/"]), split.query, split.fragment))
    return urllib.parse.urlunsplit((rnd.choice(["http"] * 9 + ["https"]), netloc, split.path,
                                    split.query, split.fragment))


def reg_apps():
    return [a for a in T.apps if a["kind"] == "registered"]


def app_by_id(app_id):
    return next((a for a in T.apps if a["id"] == app_id), None)


def pick_client(app=None, setup_share=0.5, bogus=0.1):
    """A registered client (of `app` mostly, when given): one of the setup's, one the fuzz made,
    or None (the caller then names one that does not exist)."""
    if rnd.random() < bogus:
        return None
    setup = [c for c in T.reg_setup if not app or c["app"] == app["id"]] or T.reg_setup
    pool = [c for c in T.reg_pool if not app or c["app"] == app["id"]] or T.reg_pool
    if pool and rnd.random() >= setup_share:
        return rnd.choice(pool)
    return rnd.choice(setup) if setup else None


def bogus_client_id():
    return rnd.choice([token(22), token(22), text(), CLIENT[0], "fuzz-spa", "..", "%2F", "a" * 300])


def reg_client_auth(c, ps, headers, endpoint="token", wrong=0.25):
    """Client authentication as a registered client: mostly the way it registered, with its
    secret; sometimes (`wrong` of the time) a wrong secret, another method, another client's
    secret or nothing."""
    if c is None:
        cid, secret, method = bogus_client_id(), token(43), rnd.choice(AUTH_METHODS)
    else:
        cid, secret, method = c["client_id"], c["secret"], c["auth"]
    x = rnd.random() * 0.25 / wrong
    if x < 0.1:
        secret = rnd.choice([token(43), text(), (secret or "x")[:-1] + "A",
                             rnd.choice(T.reg_setup + T.reg_pool)["secret"] or token(43)])
    elif x < 0.2:
        method = rnd.choice([m for m in AUTH_METHODS if m != method])
    elif x < 0.25:
        return  # no client authentication at all
    if method == "none":
        ps.append(("client_id", cid))
        if rnd.random() < 0.1:
            ps.append(("client_secret", secret or text()))
    elif method == "client_secret_basic":
        who = f"{urllib.parse.quote(cid, safe='')}:{urllib.parse.quote(secret or '', safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(who.encode()).decode()
    elif method == "client_secret_post":
        ps += [("client_id", cid), ("client_secret", secret or "")]
    else:
        ps += [("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
               ("client_assertion", fake_assertion(c, cid, endpoint)), ("client_id", cid)]


def fake_assertion(c, cid, endpoint):
    """A client assertion with the right claims and header but a signature nobody made."""
    app_id = c["app"] if c else "fz-reg"
    now = int(time.time())
    header = rnd.choice([{"alg": "ES256", "kid": "1", "typ": "JWT"}, {"alg": "EdDSA", "kid": "ed"},
                         {"alg": "none"}, {"alg": "HS256", "kid": "1"}, {"alg": "RS256"}, {"kid": text()}])
    claims = {"iss": cid, "sub": cid, "aud": rnd.choice([f"{URL}/oauth2/{endpoint}/{app_id}", f"{URL}/oauth2/{app_id}",
                                                         URL, text()]),
              "exp": now + rnd.choice([60, 299, 3600, -60]), "iat": now, "jti": token(16)}
    if rnd.random() < 0.2:
        claims[rnd.choice(list(claims))] = rnd.choice([None, 5, [], text()])
    sig = rnd.choice(["", b64url(bytes(64)), b64url(bytes(rnd.getrandbits(8) for _ in range(64))), "!!", "a" * 5000])
    return ".".join([b64url(json.dumps(header).encode()), b64url(json.dumps(claims).encode()), sig])


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
        self.reg = None  # the real registered client the request names (for the summary)
        self.after = None  # what to keep from the answer (a function of it), beyond `harvest`
        self.fixed_share = 0.3  # how often it comes from the one fixed source address

    def query(self, ps):
        self.path += ("&" if "?" in self.path else "?") + urllib.parse.urlencode(ps)

    def form(self, ps, kinds=(0.7, 0.9)):
        ctype, self.data = encode_body(ps, kinds)
        self.headers["Content-Type"] = ctype


def registered_target(app):
    """For an app of registered clients: a client (mostly one of the app's with the code
    grant), its id and one of its redirect URIs (a loopback one on any port)."""
    mine = [c for c in T.reg_setup + T.reg_pool if c["app"] == app["id"]]
    code = [c for c in mine if "authorization_code" in c["grants"]]
    x = rnd.random()
    c = (rnd.choice(code) if code and x < 0.85 else rnd.choice(mine) if mine and x < 0.9
         else rnd.choice(T.reg_setup) if x < 0.95 else None)
    cid = c["client_id"] if c else bogus_client_id()
    redirects = (c["redirects"] if c else []) or rnd.choice([a["redirects"] for a in T.apps if a["redirects"]])
    if rnd.random() < 0.07:  # another client's redirect URI
        redirects = [u for o in mine for u in o["redirects"]] or redirects
    return c, cid, loopback_variant(rnd.choice(redirects))


def authorize_params(app):
    client = None
    if app and app["kind"] == "registered":
        client, cid, ru = registered_target(app)
        rtype = "code" if rnd.random() < 0.92 else rnd.choice(["token", "id_token token", "code id_token"])
    else:
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
    resources = []
    if rnd.random() < (0.45 if app and app["resources"] else 0.1):
        res = resource_params(app)
        ps += res
        resources = [v for _, v in res if app and v in app["resources"]]
    info = {"app": app["id"] if app else None, "client_id": cid, "redirect_uri": ru,
            "verifier": verifier, "client": client, "resources": resources}
    return ps, info


def door_label(door, app):
    return door + (" (registered)" if app and app["kind"] == "registered" else "")


def door_authorize():
    app = pick_app(browser=True)
    r = Req(door_label("GET /oauth2/authorize/{app}", app), "GET", f"/oauth2/authorize/{app_segment(app)}", app)
    ps, r.info = authorize_params(app)
    r.reg = r.info["client"]
    r.query(mutate(ps, calm=0.45) if rnd.random() < 0.9 else garbage_pairs())
    r.cookie = T.live_person() if rnd.random() < 0.75 else None
    r.browser = True
    return r


def door_consent():
    app = pick_app(browser=True)
    r = Req(door_label("POST /oauth2/consent/{app}", app), "POST", f"/oauth2/consent/{app_segment(app)}", app)
    ps, r.info = authorize_params(app)
    r.reg = r.info["client"]
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
    if app and app["kind"] == "registered" and rnd.random() < 0.8:
        return door_reg_token(app)
    fresh = T.codes and rnd.random() < 0.3
    if fresh:  # the newest code, at its own app (codes live 60 s and are single use)
        app = next(a for a in T.apps if a["id"] == T.codes[-1]["app"])
    r = Req("POST /oauth2/token/{app}", "POST", f"/oauth2/token/{app_segment(app)}", app)
    methods = app["methods"] if app else ["client_credentials"]
    kinds = [m for m in methods if m != "implicit"] + ["refresh_token", "authorization_code", "junk"]
    grant = "authorization_code" if fresh else rnd.choice(kinds)
    ps, c = [], None
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
    if rnd.random() < (0.35 if app and app["resources"] else 0.08):
        granted = c.get("resources") if grant == "authorization_code" and c else None
        ps += resource_params(app, granted)
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
    r = Req(door_label(f"POST /oauth2/{what}/{{app}}", app), "POST", f"/oauth2/{what}/{app_segment(app)}", app)
    ps = [("token", any_token())]
    if app and app["kind"] == "registered":
        mine = [t for t in T.reg_refresh if t[0] == app["id"]]
        if mine and rnd.random() < 0.5:
            _, c, tok, _ = rnd.choice(mine)
            ps = [("token", tok)]
        else:
            c = pick_client(app)
            own = [t[1] for t in T.access if t[0] == app["id"]]
            if own and rnd.random() < 0.7:
                ps = [("token", rnd.choice(own))]
        r.reg = c
    if rnd.random() < 0.4:
        ps.append(("token_type_hint", rnd.choice(["access_token", "refresh_token", text()])))
    if app and app["kind"] == "registered":
        reg_client_auth(c, ps, r.headers, what)
    else:
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
                       "/oauth2/{app}/.well-known/openid-configuration", "/oauth2/{app}/.well-known/{x}",
                       "/.well-known/oauth-protected-resource/api/v1", "/.well-known/oauth-protected-resource/{x}",
                       "/.well-known/oauth-protected-resource"])
    r = Req(f"GET {tmpl}", "GET", tmpl.replace("{app}", seg).replace("{x}", text()), app if "{app}" in tmpl else None)
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


# ---------------------------------------------------------------------------------------------
# Registered clients (SPEC §3b): RFC 7591 registration, RFC 7592 management, token requests as a
# registered client, and the admin API's clients and initial access tokens.

BAD_URIS = ["http://evil.example/cb", "https://a.example/cb#frag", "javascript:alert(1)", "/relative", "cb",
            "", " ", "http://127.0.0.1.evil.example/cb", "http://localhost.evil.example/cb", "http://[::1",
            "https://", "https:///cb", "http://127.0.0.2/cb", "http://0.0.0.0/cb", "http://[::ffff:127.0.0.1]/cb",
            "com.example.app:/oauth2redirect", "urn:ietf:wg:oauth:2.0:oob", "file:///etc/passwd",
            "data:text/html,x", "https://exa mple.com/cb", "https://例え.jp/cb", "http://127.0.0.1:99999/cb",
            "http://127.0.0.1:-1/cb", "https://user:pass@host.example/cb", "https://a.example/" + "a" * 2100,
            "HTTP://127.0.0.1/cb", "https://a.example/cb\r\nX: y", "\\\\evil\\cb", "https://a.example/%zz",
            "https://a.example/cb?x=1&x=2", "http://localhost:0/cb", "http://LOCALHOST/cb", "http://127.1/cb",
            "https://a.example/cb#", "http:/127.0.0.1/cb", "http://[::1]:65536/cb", "https://[v1.x]/cb"]
GRANT_JUNK = ["password", "implicit", "urn:ietf:params:oauth:grant-type:device_code",
              "urn:ietf:params:oauth:grant-type:token-exchange", "urn:ietf:params:oauth:grant-type:jwt-bearer",
              "", "AUTHORIZATION_CODE", "refresh_token", "client_credentials", "authorization_code ", "x" * 300,
              "authorization_code\x00"]
AUTH_JUNK = ["client_secret_jwt", "tls_client_auth", "self_signed_tls_client_auth", "NONE", "", "none ",
             "private_key_jwt", "client_secret_basic\x00", "Basic", "x" * 100, "client_secret_post"]
WRONG_TYPES = [5, -1, 0, 1.5, 1e308, True, False, None, [], {}, [1, 2], [None], {"a": "b"}, [[["x"]]],
               "string", ["string"], 10 ** 30, [{}], ""]


def deep(n=None):
    """Nested junk: lists and objects `n` levels deep (past serde_json's limit now and then)."""
    n = n or rnd.choice([3, 10, 60, 127, 129, 300])
    v = rnd.choice(["x", 1, None, {}])
    for _ in range(n):
        v = [v] if rnd.random() < 0.5 else {"a": v}
    return v


def jwks_junk():
    return rnd.choice([
        {"keys": "x"}, {"keys": [{}]}, {"keys": [{"kty": "EC"}]},
        {"keys": [{"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}]},
        {"keys": [dict(EC_JWK, d="jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI")]},
        {"keys": [{"kty": "oct", "k": "AAAA"}]}, {"keys": []}, {"keys": [EC_JWK] * 11}, EC_JWK, [EC_JWK],
        "jwks", 5, {"keys": [{"kty": "RSA", "n": "!!!", "e": "AQAB"}]},
        {"keys": [{"kty": "OKP", "crv": "X25519", "x": "AAAA"}]}, {"keys": [dict(EC_JWK, crv="P-521")]},
        {"keys": [{"kty": "EC", "crv": "P-256", "x": {"nested": []}, "y": 1}]}, {"keys": [EC_JWK], "x": deep()},
        {"keys": [dict(OKP_JWK, alg="HS256")]}, {"keys": [dict(EC_JWK, use=text(), key_ops=[text()])]},
        {"keys": [{"kty": text(), "x": text()}]}, {"keys": None}, {"keys": deep()}])


def valid_metadata(app):
    """Client metadata the app takes (mostly): a public client with loopback redirect URIs, a
    confidential one with client credentials, one that posts its secret, one with keys."""
    scopes = app["scopes"] if app else []
    port = rnd.randint(1024, 65535)
    kind = rnd.choice(["public", "public", "basic", "post", "keys"])
    m = {"client_name": rnd.choice(["Claude", "VS Code", "fuzz client", f"fzx-{rnd.randint(0, 999)}"])}
    if kind == "public":
        m.update({"token_endpoint_auth_method": "none",
                  "redirect_uris": rnd.sample([f"http://127.0.0.1:{port}/callback", "http://127.0.0.1/callback",
                                               "http://[::1]/cb", f"http://localhost:{port}/cb",
                                               "https://app.fuzz.example/cb"], rnd.randint(1, 3)),
                  "grant_types": rnd.choice([["authorization_code", "refresh_token"], ["authorization_code"]]),
                  "response_types": ["code"]})
    elif kind == "basic":
        m.update({"token_endpoint_auth_method": "client_secret_basic",
                  "grant_types": rnd.choice([["client_credentials"], ["client_credentials", "authorization_code"],
                                             ["authorization_code", "refresh_token"]])})
    elif kind == "post":
        m.update({"token_endpoint_auth_method": "client_secret_post", "grant_types": ["client_credentials"]})
    else:
        m.update({"token_endpoint_auth_method": "private_key_jwt", "grant_types": ["client_credentials"],
                  "jwks": {"keys": rnd.sample([EC_JWK, OKP_JWK], rnd.randint(1, 2))}})
    if "authorization_code" in m["grant_types"] and "redirect_uris" not in m:
        m["redirect_uris"] = [rnd.choice(["https://app.fuzz.example/cb", f"http://127.0.0.1:{port}/cb"])]
    extras = {"client_uri": "https://app.fuzz.example/", "logo_uri": "https://app.fuzz.example/logo.png",
              "policy_uri": "https://app.fuzz.example/policy", "tos_uri": "https://app.fuzz.example/tos",
              "contacts": ["ops@fuzz.example"], "software_id": "fuzz-" + token(6), "software_version": "1.0",
              "scope": " ".join(rnd.sample(scopes + ["openid", "profile"], min(2, len(scopes) + 1))),
              "x_unknown_extension": {"any": [1, "two"]}}
    for k in rnd.sample(list(extras), rnd.randint(0, 4)):
        m[k] = extras[k]
    return m


def as_list(v):
    return list(v) if isinstance(v, list) else []


def break_metadata(m, calm=0.35, keep=()):
    """Valid metadata broken in one to three places (left alone `calm` of the time): wrong
    types, huge strings, bad URIs, unknown grant types and methods, jwks garbage, nested junk.
    The keys in `keep` are not touched."""
    m = dict(m)
    if rnd.random() < calm:
        return m
    for _ in range(rnd.randint(1, 3)):
        keys = [k for k in list(m) + META_KEYS if k not in keep]
        k = rnd.choice(keys)
        op = rnd.randrange(16)
        if op == 0:
            m[k] = rnd.choice(WRONG_TYPES)
        elif op == 1:
            # Huge, but the whole body stays well under ~400 KB: a server that answers before
            # reading the body (403 for a missing Origin) closes the connection while urllib
            # is still sending a bigger one, which would look like a dropped connection.
            huge = rnd.choice(["a", "é", "\u202e", "%", "\x00"]) * rnd.choice([65, 129, 257, 2001, 20_000])
            m[k] = [huge] if isinstance(m.get(k), list) else huge
        elif op == 2:
            bad = rnd.choice(BAD_URIS + [text()])
            if rnd.random() < 0.7:
                uris = as_list(m.get("redirect_uris"))
                uris.insert(rnd.randint(0, len(uris)), bad)
                m["redirect_uris"] = uris if rnd.random() < 0.8 else [bad]
            else:
                m[rnd.choice(["client_uri", "logo_uri", "policy_uri", "tos_uri"])] = bad
        elif op == 3:
            grants = as_list(m.get("grant_types"))
            g = rnd.choice(GRANT_JUNK)
            m["grant_types"] = grants + [g] if rnd.random() < 0.6 else [g]
        elif op == 4:
            m["token_endpoint_auth_method"] = rnd.choice(AUTH_JUNK + AUTH_METHODS + [text()])
        elif op == 5:
            m["jwks"] = jwks_junk()
            if rnd.random() < 0.5:
                m["token_endpoint_auth_method"] = "private_key_jwt"
        elif op == 6:
            m[rnd.choice([k, text(), "x_ext"])] = deep()
        elif op == 7:
            m.pop(k, None)
        elif op == 8:
            m["response_types"] = rnd.choice([["token"], ["code", "token"], [], ["id_token"], "code",
                                              ["code", "code"], ["CODE"]])
        elif op == 9:
            m["scope"] = rnd.choice(["nope", "tools nope", "", "   ", "openid", "a" * 2001, "tools\ttools",
                                     " ".join(["tools"] * 500), text()])
        elif op == 10:
            many = rnd.choice(["redirect_uris", "contacts", "grant_types", "response_types"])
            item = {"redirect_uris": "https://a.example/cb", "contacts": "a@b.c",
                    "grant_types": "authorization_code", "response_types": "code"}[many]
            m[many] = [item + (str(i) if many != "grant_types" and many != "response_types" else "")
                       for i in range(rnd.choice([11, 21, 1000]))]
        elif op == 11:
            m["jwks_uri"] = rnd.choice(["https://keys.fuzz.example/jwks", None, text(), 5])
        elif op == 12:
            m[rnd.choice([f for f in ["client_id", "client_secret", "registration_access_token", "client_id_issued_at",
                                      "client_secret_expires_at", "registration_client_uri"] if f not in keep])] = value()
        elif op == 13:
            m[rnd.choice(["client_name", "software_id", "software_version"])] = rnd.choice(
                ["a\x00b", "line\nbreak", "\x7f", "\u202eevil", "<script>alert(1)</script>", "a" * 129])
        elif op == 14:
            m["contacts"] = rnd.choice([["a" * 257], [5], "a@b.c", [["a@b.c"]], [text()]])
        else:
            m[text()] = value()
    return m


def metadata_body(m):
    """The JSON body of a registration: mostly the metadata, now and then the wrong shape or
    broken JSON."""
    x = rnd.random()
    if x < 0.9:
        return json.dumps(m, ensure_ascii=rnd.random() < 0.5).encode()
    if x < 0.93:
        return json.dumps(rnd.choice([[m], {"metadata": m}, json.dumps(m), None, 5, deep(), []])).encode()
    raw = json.dumps(m)
    return rnd.choice([
        raw[: rnd.randint(0, len(raw))].encode(), b"\xef\xbb\xbf" + raw.encode(), raw.encode() + b" trailing",
        raw[:-1].encode() + b', "redirect_uris": 5}', raw[:-1].encode() + b', "redirect_uris": [NaN]}',
        b"[" * 10000, b"", b"{" + b'"a":' * 200 + b"1", bytes(rnd.getrandbits(8) for _ in range(200)),
        raw.replace('"', "'").encode(), raw.encode("utf-16")])


def register_path(app):
    return f"/oauth2/register/{app_segment(app)}"


def keep_registered(a, app_id, r):
    """Adds the client a 201 answer made to the fuzz's own pool."""
    if a.status == 201:
        c = client_record(app_id, a.json())
        if c:
            T.keep(T.reg_pool, c, cap=40)
            T.counts["clients registered by the fuzz"] += 1
            r.reg = c


def door_register():
    """RFC 7591: POST /oauth2/register/{app} with valid metadata broken in a few places."""
    regs = {a["id"]: a for a in reg_apps()}
    x = rnd.random()
    app = (regs["fz-reg"] if x < 0.55 else regs["fz-mcp"] if x < 0.77 else
           rnd.choice([a for a in T.apps if a["kind"] != "registered"]) if x < 0.9 else None)
    r = Req("POST /oauth2/register/{app}", "POST", register_path(app), app)
    r.fixed_share = 0.05  # most registrations stay under the per-address rate
    r.data = metadata_body(break_metadata(valid_metadata(app)))
    r.headers["Content-Type"] = rnd.choice(["application/json"] * 12 + [
        "application/json; charset=utf-8", "APPLICATION/JSON", "text/plain", "application/x-www-form-urlencoded",
        "application/jsonx", ""])
    iats = T.iats.get(app["id"], []) if app else []
    other_iats = [t for k, v in T.iats.items() if not app or k != app["id"] for t in v]
    y = rnd.random()
    if app and app["spec"].get("client_registration") == "token":
        if y < 0.75 and iats:
            r.headers["Authorization"] = rnd.choice(["Bearer ", "Bearer ", "Bearer ", "bearer ", "BEARER "]) + rnd.choice(iats)
        elif y < 0.85:
            pass  # no initial access token
        else:
            r.headers["Authorization"] = rnd.choice(["Bearer ", "Basic ", "DPoP "]) + rnd.choice(
                other_iats + [c["rat"] for c in T.reg_setup if c["rat"]] + [any_token(), text(), ""])
    elif y < 0.2:
        r.headers["Authorization"] = "Bearer " + rnd.choice(other_iats + [text()])
    if app:
        r.after = lambda a: keep_registered(a, app["id"], r)
    return r


def wrong_rat(c):
    others = [o["rat"] for o in T.reg_setup + T.reg_pool if o["rat"] and o is not c]
    return rnd.choice(others + [t for v in T.iats.values() for t in v] + [
        token(43), text(), (c["rat"] or "x")[:-1] + ("A" if not (c["rat"] or "x").endswith("A") else "B")])


def door_register_manage():
    """RFC 7592: GET, PUT, DELETE /oauth2/register/{app}/{client_id} with the client's
    registration access token (right or wrong) and PUT bodies built from its metadata."""
    method = rnd.choice(["GET", "GET", "PUT", "PUT", "DELETE"])
    c = pick_client(setup_share=0.35, bogus=0.12)
    x = rnd.random()
    app = (app_by_id(c["app"]) if c and x < 0.85 else rnd.choice(reg_apps()) if x < 0.93
           else rnd.choice(T.apps) if x < 0.97 else None)
    cid = c["client_id"] if c and rnd.random() < 0.95 else bogus_client_id()
    r = Req(f"{method} /oauth2/register/{{app}}/{{client_id}}", method,
            f"/oauth2/register/{app_segment(app)}/{urllib.parse.quote(cid, safe='')}", app)
    right = bool(c and c["rat"] and cid == c["client_id"] and app and app["id"] == c["app"])
    r.reg = c if right or (c and app and app["id"] == c["app"] and cid == c["client_id"]) else None
    y = rnd.random()
    tok = c["rat"] if c and c["rat"] and y < 0.65 else (wrong_rat(c) if c else token(43)) if y < 0.9 else None
    protect = bool(c and c["setup"])
    if protect and right and tok == c["rat"] and method == "DELETE":
        tok = wrong_rat(c)  # the setup's clients are never deleted
    if tok is not None:
        r.headers["Authorization"] = rnd.choice(["Bearer "] * 8 + ["bearer ", "Bearer  ", "Basic ", "Token "]) + tok
    if method == "PUT":
        base = dict(c["meta"]) if c else valid_metadata(app)
        base["client_id"] = cid
        if c and c["secret"] and rnd.random() < 0.3:
            base["client_secret"] = c["secret"] if rnd.random() < 0.7 else token(43)
        if protect and right and tok == c["rat"]:
            # A setup client's metadata stays as it is: sent back unchanged, or broken with a
            # client_id that is not the client's, which the server refuses before anything else.
            if rnd.random() >= 0.4:
                base["client_id"] = rnd.choice([cid + "x", cid.upper() if cid.upper() != cid else cid + "y",
                                                5, None, [cid], ""])
                base = break_metadata(base, calm=0.2, keep=("client_id",))
            elif base.get("client_secret") not in (None, c["secret"]):
                base.pop("client_secret")
        else:
            base = break_metadata(base, calm=0.4)
        r.data = metadata_body(base)
        r.headers["Content-Type"] = rnd.choice(["application/json"] * 10 + ["text/plain", ""])
    elif method == "DELETE" and rnd.random() < 0.1:
        r.data, r.headers["Content-Type"] = b"{}", "application/json"

    def after(a):
        if not c or c["setup"]:
            return
        if a.status == 204 and method == "DELETE" and c in T.reg_pool:
            T.reg_pool.remove(c)
            T.counts["clients deleted (RFC 7592)"] += 1
        elif a.status == 200 and method == "PUT":
            n = client_record(c["app"], a.json(), secret=c["secret"] if not a.json().get("client_secret") else None)
            if n:
                c.update({k: n[k] for k in ("auth", "grants", "redirects", "meta")})
                if n["auth"] in ("none", "private_key_jwt"):
                    c["secret"] = None
                elif a.json().get("client_secret"):
                    c["secret"] = a.json()["client_secret"]
                T.counts["clients changed (RFC 7592)"] += 1
    r.after = after
    return r


def door_reg_token(app=None):
    """POST /oauth2/token/{app} as a registered client: its grants and others, right and wrong
    secrets and methods, codes it got at authorize, its refresh tokens, resources."""
    fresh = None
    if app is None and T.reg_codes and rnd.random() < 0.35:
        fresh = T.reg_codes.pop()  # the newest code, by its own client (single use, 60 s)
        c, app = fresh["client"], app_by_id(fresh["app"])
    elif app is None and T.reg_refresh and rnd.random() < 0.2:
        c = T.reg_refresh[-1][1]  # the newest refresh token's client (it refreshes below)
        app = app_by_id(c["app"])
    else:
        c = pick_client(app, setup_share=0.6)
        if app is None:
            app = (app_by_id(c["app"]) if c and rnd.random() < 0.88 else rnd.choice(reg_apps())
                   if rnd.random() < 0.5 else pick_app())
    r = Req("POST /oauth2/token/{app} (registered client)", "POST", f"/oauth2/token/{app_segment(app)}", app)
    r.reg = c if c and app and c["app"] == app["id"] else None
    mine_codes = [k for k in T.reg_codes if c and k["client"] is c]
    if fresh or (mine_codes and rnd.random() < 0.4):
        grant = "authorization_code"
    elif any(t[1] is c for t in T.reg_refresh) and rnd.random() < 0.4:
        grant = "refresh_token"
    elif c and c["grants"] and rnd.random() < 0.65:
        grant = rnd.choice(c["grants"])
    else:
        grant = rnd.choice(["client_credentials", "authorization_code", "refresh_token", "password",
                            "urn:ietf:params:oauth:grant-type:device_code", "implicit",
                            "urn:ietf:params:oauth:grant-type:token-exchange", text()])
    ps, granted, real = [("grant_type", grant)], None, bool(fresh)
    if grant == "authorization_code":
        k = fresh or (mine_codes.pop() if mine_codes and rnd.random() < 0.8 else
                      rnd.choice(T.reg_codes) if T.reg_codes and rnd.random() < 0.5 else None)
        if k in T.reg_codes:
            T.reg_codes.remove(k)
        if k:
            ps += [("code", k["code"]), ("redirect_uri", k["redirect_uri"]), ("code_verifier", k["verifier"])]
            granted = k["resources"]
        else:
            ps += [("code", token(43)), ("redirect_uri", real_value()), ("code_verifier", token(50))]
    elif grant == "refresh_token":
        mine = [t for t in T.reg_refresh if t[1] is c]
        pick = rnd.choice(mine) if mine and rnd.random() < 0.85 else (
            rnd.choice(T.reg_refresh) if T.reg_refresh and rnd.random() < 0.7 else None)
        ps.append(("refresh_token", pick[2] if pick else any_token()))
        granted = pick[3] if pick else None
        real = bool(pick and pick[1] is c)
        if pick and pick in T.reg_refresh and rnd.random() < 0.9:
            T.reg_refresh.remove(pick)  # single use (a reuse now and then revokes the family)
    elif grant == "password":
        login, pw = rnd.choice([PERSON, DECOY, (DECOY[0], text())])
        ps += [("username", login), ("password", pw)]
    elif grant.endswith("token-exchange"):
        ps += [("subject_token", any_token()),
               ("subject_token_type", "urn:ietf:params:oauth:token-type:access_token")]
    if app and rnd.random() < 0.3:
        ps.append(("scope", " ".join(rnd.sample(app["scopes"] + ["openid", "profile"] + (
            ["nope"] if rnd.random() < 0.2 else []), rnd.randint(1, 2)))))
    if rnd.random() < (0.25 if real else 0.4 if app and app["resources"] else 0.1):
        ps += resource_params(app, granted)
    reg_client_auth(c, ps, r.headers, wrong=0.12 if real else 0.25)
    r.info = {"grant": grant, "client": c, "resources": granted}
    r.form(mutate(ps, calm=0.65 if real else 0.45) if rnd.random() < 0.92 else garbage_pairs(),
           kinds=(0.6, 0.9))

    def after(a):
        body = a.json() if a.status == 200 else None
        if isinstance(body, dict) and isinstance(body.get("refresh_token"), str) and app and c:
            res = [v for k, v in ps if k == "resource" and v in app["resources"]] or granted or []
            T.keep(T.reg_refresh, (app["id"], c, body["refresh_token"], res))
        if isinstance(body, dict) and "access_token" in body:
            T.counts[f"registered clients' tokens ({sent_grant(r)})"] += 1
    r.after = after
    return r


def door_admin_clients():
    """The admin API's clients of an app and its initial access tokens, mostly with the admin
    session (which never changes or deletes the setup's clients: see harms_admin)."""
    x = rnd.random()
    app = rnd.choice(reg_apps()) if x < 0.8 else rnd.choice(T.apps) if x < 0.92 else None
    seg = app_segment(app) if app or rnd.random() < 0.5 else f"fzx-{rnd.randint(0, 999)}"
    op = rnd.choices(["list", "create", "read", "patch", "delete", "secret", "iat"], [3, 4, 3, 4, 2, 2, 2])[0]
    c = None
    if op in ("read", "patch", "delete", "secret"):
        c = pick_client(app, setup_share=0.3 if op == "read" else 0.12, bogus=0.12)
        if c and rnd.random() < 0.9:
            app, seg = app_by_id(c["app"]), c["app"]
    cid = c["client_id"] if c else bogus_client_id()
    base = f"/api/v1/apps/{seg}"
    item = f"{base}/clients/{urllib.parse.quote(cid, safe='')}"
    method, path, door, body = {
        "list": ("GET", f"{base}/clients", "GET /api/v1/apps/{app}/clients", None),
        "create": ("POST", f"{base}/clients", "POST /api/v1/apps/{app}/clients",
                   break_metadata(valid_metadata(app), calm=0.45)),
        "read": ("GET", item, "GET /api/v1/apps/{app}/clients/{client_id}", None),
        "patch": ("PATCH", item, "PATCH /api/v1/apps/{app}/clients/{client_id}",
                  break_metadata({k: v for k, v in valid_metadata(app).items() if rnd.random() < 0.4},
                                 calm=0.4)),
        "delete": ("DELETE", item, "DELETE /api/v1/apps/{app}/clients/{client_id}", None),
        "secret": ("POST", item + "/secret", "POST /api/v1/apps/{app}/clients/{client_id}/secret", None),
        "iat": ("POST", f"{base}/initial-access-tokens", "POST /api/v1/apps/{app}/initial-access-tokens",
                rnd.choice([{"expires_in": rnd.choice([60, 3600, 86400, 2592000, 59, 2592001, 0, -1, 10 ** 20,
                                                       "3600", 1.5, None, text()])}, {},
                            {"expires_in": 600, "scope": "x"}, [600], None])),
    }[op]
    r = Req(door, method, path, app)
    r.reg = c if c and app and c["app"] == app["id"] and cid == c["client_id"] else None
    if op == "list" and rnd.random() < 0.3:
        r.query([(k, value()) for k in rnd.sample(["limit", "offset", "q"], rnd.randint(1, 2))])
    if body is not None or (method != "GET" and rnd.random() < 0.2):
        r.data = metadata_body(body) if body is not None else text().encode("utf-8", "replace")
        r.headers["Content-Type"] = rnd.choice(["application/json"] * 9 + ["text/plain"])
    auth = rnd.random()
    if auth < 0.72:
        r.cookie = T.admin_cookie
    elif auth < 0.82:
        r.cookie = T.live_person()
    elif auth < 0.92:
        r.headers["Authorization"] = "Bearer " + any_token()
    r.browser = True

    def after(a):
        j = a.json() if a.status in (200, 201) else None
        if op == "iat" and a.status == 201 and isinstance(j, dict) and app:
            if isinstance(j.get("initial_access_token"), str):
                T.keep(T.iats.setdefault(app["id"], []), j["initial_access_token"], cap=5)
            T.counts["initial access tokens issued"] += 1
        elif op == "create" and a.status == 201 and app:
            n = client_record(app["id"], j)
            if n:
                T.keep(T.reg_pool, n, cap=40)
                T.counts["clients added by the admin API"] += 1
        if not c or c["setup"] or c not in T.reg_pool:
            return
        if op == "delete" and a.status == 204:
            T.reg_pool.remove(c)
            T.counts["clients deleted by the admin API"] += 1
        elif op == "secret" and a.status == 200 and isinstance(j, dict):
            c["secret"] = j.get("client_secret")
            T.counts["client secrets rotated"] += 1
        elif op == "patch" and a.status == 200:
            n = client_record(c["app"], j)
            if n:
                c.update({k: n[k] for k in ("auth", "grants", "redirects", "meta")})
                if n["secret"]:
                    c["secret"] = n["secret"]
                elif n["auth"] in ("none", "private_key_jwt"):
                    c["secret"] = None
                T.counts["clients changed by the admin API"] += 1
    r.after = after
    return r


DOORS = [(16, door_authorize), (8, door_consent), (18, door_token), (8, door_introspect_revoke),
         (5, door_userinfo), (5, door_public), (6, door_logout), (3, door_withdraw), (8, door_page),
         (3, door_app_form), (10, door_sfn), (7, door_admin_api), (2, door_odd_method),
         (6, door_register), (4, door_register_manage), (6, door_reg_token), (5, door_admin_clients)]


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
    if re.match(r"^/api/v1/apps/[^/]+/(clients|initial-access-tokens)(/|$)", path):
        # An app's clients and initial access tokens: its id only says where; what must not be
        # changed are the setup's clients (named by their ids).
        in_path.discard(urllib.parse.unquote(path.split("/")[4]).lower())
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
    source = "127.0.0.2" if addr < r.fixed_share else f"127.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.{rnd.randint(2, 254)}"
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


def sent_grant(r):
    """The grant_type a token request sent (a mutation may have changed the intended one)."""
    try:
        if r.headers.get("Content-Type") == "application/json":
            g = json.loads(r.data).get("grant_type")
        else:
            g = urllib.parse.parse_qs((r.data or b"").decode()).get("grant_type", [None])[0]
    except (ValueError, AttributeError, UnicodeDecodeError):
        g = None
    return str(g)[:40] if g is not None else "?"


def harvest(r, a):
    """Codes, tokens and ID tokens the server gave out, to aim later requests with."""
    appid = r.app["id"] if r.app else None
    if 300 <= a.status < 400 and r.info and appid:
        split = urllib.parse.urlsplit(a.location)
        q = dict(urllib.parse.parse_qsl(split.query + "&" + split.fragment))
        if "code" in q and r.app["kind"] == "registered":
            T.keep(T.reg_codes, dict(r.info, code=q["code"]))
            T.counts["codes obtained (registered clients)"] += 1
        elif "code" in q:
            T.keep(T.codes, dict(r.info, code=q["code"]))
            T.counts["codes obtained"] += 1
        if "access_token" in q:
            T.keep(T.access, (appid, q["access_token"], q.get("scope", "")))
            T.counts["implicit tokens obtained"] += 1
        if "id_token" in q:
            T.keep(T.id_tokens, (appid, q["id_token"], q.get("scope", "")))
    body = a.json() if a.status == 200 and r.door.startswith("POST /oauth2/token") else None
    if isinstance(body, dict) and appid:
        T.counts[f"tokens issued ({sent_grant(r)})"] += 1
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


RESOURCE_PARAM = re.compile(rb'[?&]resource=|"resource"\s*:')


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
                                 "client": 0, "resource": 0, "out": Counter()})
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
        s["client"] += r.reg is not None
        s["resource"] += bool(RESOURCE_PARAM.search(r.path.encode(errors="replace") + b"&" + (r.data or b"")))
        harvest(r, a)
        if r.after:
            r.after(a)
        if a.status >= 500:
            msg = f"FAIL {describe(r, seq, source)}\n      → {a.status}: {shorten(a.body, 300)}"
            print(msg, flush=True)
            bad.append(msg)
    try:
        for b in T.setup_clients_changed():
            msg = f"FAIL seed={SEED}: a registered client of the setup was deleted or changed: {b}"
            print(msg, flush=True)
            bad.append(msg)
    except (SetupError, *DROPPED) as e:
        msg = f"FAIL seed={SEED}: checking the setup's registered clients failed: {e!r}"
        print(msg, flush=True)
        bad.append(msg)
    print(f"\nhostile input summary (seed {SEED}): {sent} requests in {time.time() - started:.0f}s, "
          f"{refused} not sendable, {len(bad)} failures")
    print("  door: requests | at a real app (past 'unknown app') | with a session (signed in) | outcomes"
          " [naming a real registered client; with a resource parameter]")
    for door in sorted(stats):
        s = stats[door]
        outs = ", ".join(f"{k}:{v}" for k, v in s["out"].most_common(7))
        extra = "; ".join(f"{what} {s[k]}" for k, what in (("client", "registered client"), ("resource", "resource"))
                          if s[k])
        print(f"  {door}: {s['n']} | {s['real']} ({s['past']}) | {s['session']} ({s['signed_in']}) | {outs}"
              + (f" [{extra}]" if extra else ""))
    print("  " + ", ".join(f"{k}: {v}" for k, v in sorted(T.counts.items())))
    if bad:
        print(f"\n{len(bad)} failures (seed {SEED}; replay with FUZZ_SEED={SEED}):")
        for b in bad[:20]:
            print("  " + b)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
