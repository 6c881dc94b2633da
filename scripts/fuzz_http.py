"""Hostile input at the doors of a running Gatehouse for a bounded time: the token,
introspection, revocation, authorize, consent, logout, userinfo, keys and metadata endpoints,
device authorization and pushed authorization requests, the pages (/device, the security page
and the second step among them), the passkey calls, the server functions and (lightly) the
admin API, with random form and JSON bodies, headers, queries and paths. Fails on any 5xx, a
dropped connection or a wrong answer (DPoP's, below).

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

The newer doors get the same treatment. The device authorization grant (RFC 8628): fz-device
takes it (the setup asks for a few device codes), the fuzz asks for more at
/oauth2/device/{app}, the person looks them up and approves or denies them on /device with the
session's form token, and devices poll the token endpoint with right, spent and made-up device
codes. Pushed authorization requests (RFC 9126): authorize parameters pushed to
/oauth2/par/{app} with client authentication as at the token endpoint (fz-par takes nothing
else), then the request URIs they got (and forged ones) at authorize and consent. Second
factors (SPEC §6a) on a person of their own (fuzz-factors, never the person or the
administrator the fuzz signs in with): the security page (an authenticator app set up and
turned on with codes computed from the secret it shows, recovery codes, passkeys), the second
step, the passkey ceremonies with made-up WebAuthn credentials, and the admin API's
/api/v1/users/{id}/factors. Its wrong codes count against it like wrong passwords, so at most
FACTOR_MISSES go out before a right code or a fresh sign-in resets its count. Client ID
metadata documents (SPEC §3b): fz-mcp takes them, and authorize, token and PAR requests name
https client ids on hosts refused without a connection or failing at once (CIMD_HOSTS; the fuzz
server has no network beyond loopback), and malformed ones; any other https client_id a request
to such an app would carry is rewritten onto those hosts.

DPoP (RFC 9449, SPEC §3c): the fuzz holds a few keys of its own (ES256, EdDSA, RS256; made at
start-up with the `cryptography` package, which scripts/fuzz.sh installs into tools/fuzz-venv)
and signs real proofs with them. fz-dpop requires a proof with every token request
(require_dpop, switched on through the admin API in setup; no other door needs a token from it,
and the administrator's password grant there is how the DPoP doors reach the admin API with
rights, with tokens that work only with a proof). Token requests (client credentials at the
confidential apps, password, code and refresh grants) go out with a valid proof about half of
the time, else with none, two, or one broken in one of many ways (replayed, another request's
method or URL, an old iat, a private key in its jwk, another typ or alg, another key's jwk,
garbage); the bound tokens they get (and the keys that bound them) are used on the admin API and
at UserInfo with a proof by their key, as Bearer tokens, without a proof, with a broken proof or
another key's, and unbound tokens with the DPoP scheme. Beyond 5xx, a wrong answer fails the run:
a token issued for a proof that cannot be valid (or at fz-dpop without one), a bound token
accepted without a valid proof by its key (as a Bearer token, with another key's proof, a
replayed one, ...), an unbound one accepted with the DPoP scheme, a bound refresh token of a
public client refreshed without its key, a bound token answered with the wrong token_type or
cnf.jkt (the token's own claims, introspection).

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
import hmac
import http.client
import ipaddress
import json
import os
import random
import re
import socket
import string
import struct
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, defaultdict

try:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
    from cryptography.hazmat.primitives.asymmetric import utils as asym_utils
except ImportError:
    print("fuzz_http: the DPoP proofs need the `cryptography` package (scripts/fuzz.sh installs it into "
          "tools/fuzz-venv: tools/fuzz-venv/bin/pip install cryptography)", file=sys.stderr)
    sys.exit(2)


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
         "a b", "\t", "ａｄｍｉｎ", "ad\u200bmin", "x" * 129, "A" * 65, "-" * 43, "approve", "deny",
         "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:request_uri:", "BCDF-GHJK",
         "totp_begin", "signin"]
FIELDS = ["grant_type", "client_id", "client_secret", "scope", "code", "redirect_uri",
          "code_verifier", "username", "password", "refresh_token", "token", "token_type_hint",
          "response_type", "state", "nonce", "code_challenge", "code_challenge_method", "csrf",
          "decision", "scope_choice", "login_name", "return_to", "op", "app_id", "name",
          "prompt", "max_age", "login_hint", "id_token_hint", "post_logout_redirect_uri",
          "access_token", "client_assertion", "client_assertion_type", "id", "user_id",
          "role_id", "q", "offset", "limit", "category", "email", "display_name", "description",
          "device_code", "user_code", "request_uri", "request", "resource", "credential", "ceremony",
          "mode"]
BOGUS_APPS = ["x", "unknown", "", "%2e%2e", "a" * 300, "admin", "..", "%00", "fz-code%00",
              "FZ-CODE", "fz-code ", "fz-code/../fz-cc", "%2F"]

# The targets set up before fuzzing (names fixed, so a seed replays the same requests).
PERSON = ("fuzz-person", "Fuzz-person-pass-8412!")
DECOY = ("fuzz-decoy", "Fuzz-decoy-pass-5521!")  # a real person whose password is guessed at
CLIENT = ("fuzz-client", "fuzz-client-secret-8c1d5e0f2a7b4b6e9d3c")
OUTSIDER = ("fuzz-outsider", "fuzz-outsider-secret-3f9a0b8c7d6e5f4a")  # a client in no app role
FACTOR = ("fuzz-factors", "Fuzz-factors-pass-7730!")  # the person the second-factor doors use
ROLES = {"fuzz-users": [PERSON[0], DECOY[0], CLIENT[0], FACTOR[0]], "fuzz-nobody": []}
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
    # The device authorization grant (RFC 8628): a device asks, the person approves on /device.
    {"app_id": "fz-device", "name": "Fuzz device", "client_id_type": "anything",
     "auth_methods": ["device_code"], "token_type": "jwt_es256", "issue_refresh_tokens": True,
     "scopes": [{"name": "tv", "description": "Watch"}, {"name": "record", "description": "Record"}],
     "resources": ["https://tv.fuzz.example/"], "user_access_roles": ["fuzz-users"]},
    # Pushed authorization requests only (RFC 9126): a confidential app like fz-opaque.
    {"app_id": "fz-par", "name": "Fuzz PAR only", "client_id_type": "confidential",
     "auth_methods": ["authorization_code", "client_credentials"], "token_type": "jwt_rs256",
     "issue_refresh_tokens": True, "require_par": True,
     "redirect_uris": ["https://par.fuzz.example/cb", "http://127.0.0.1:5556/cb"],
     "scopes": [{"name": "par.read", "description": "Read"}], "user_access_roles": ["fuzz-users"]},
    # DPoP required (RFC 9449; require_dpop is PATCHed on in setup): every token it issues is
    # bound. The administrator may use it (the password grant), so the DPoP doors reach the
    # admin API with rights; they only read with it (GET and HEAD).
    {"app_id": "fz-dpop", "name": "Fuzz DPoP required", "client_id_type": "confidential",
     "auth_methods": ["client_credentials", "password"], "token_type": "jwt_eddsa",
     "scopes": [{"name": "admin.read", "description": "Read the directory",
                 "rest_regexes": ["api/v1/(apps|users|roles)(/.*)?"]},
                {"name": "audit", "description": "Read the audit log", "rest_regexes": ["api/v1/audit"]}],
     "user_access_roles": ["fuzz-users", "System Administrator"]},
]
DEVICE_APP = "fz-device"
CIMD_APPS = ["fz-mcp"]  # PATCHed to take client ID metadata documents once set up
DPOP_APPS = ["fz-dpop"]  # PATCHed to require a DPoP proof with every token request once set up
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
# Wrong second-factor codes the fuzz sends at most before a right one or a fresh sign-in of the
# person (either resets the count): ten in ten minutes lock the account for a while.
FACTOR_MISSES = 6
# The hosts of https client ids (client ID metadata documents): each is refused before any
# connection (loopback, link-local, private) or fails at once (.invalid). Nothing else.
CIMD_HOSTS = ["127.0.0.1", "localhost:9", "169.254.169.254", "10.1.2.3", "[::1]", "nothing.invalid"]
CIMD_HOSTNAMES = {"127.0.0.1", "localhost", "169.254.169.254", "10.1.2.3", "::1", "nothing.invalid",
                  # loopback written otherwise (a client id a URL parser writes back differently is
                  # refused before any fetch)
                  "127.1", "0x7f000001", "2130706433", "::ffff:127.0.0.1"}
CIMD_PATHS = ["/client.json", "/oauth/client-metadata.json", "/.well-known/oauth-client", "/mcp/client?v=1"]
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
    "users/delete": ["id"], "users/reset_factors": ["id"],
    "device/view": ["user_code"], "security/view": ["return_to"], "security/second": ["return_to"],
    "security/passkeys": [],
}
SFN_READS = {"current_user", "account/consent", "account/apps", "apps/list", "apps/editor",
             "apps/changelog", "activity", "audit", "roles/list", "roles/get", "users/list",
             "users/get", "device/view", "security/view", "security/second", "security/passkeys"}


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


def send(method, path, data=None, headers=None, source=None, extra=()):
    """One request; raises for a dropped connection, ValueError for one urllib will not send.
    `extra` headers go out besides `headers`, under the same name as one of them too (urllib
    would fold them into one: such a request goes through http.client itself)."""
    url = URL + urllib.parse.quote(path, safe="/?=&%.:+,;@!$'()*~")
    if extra and url.startswith("http://"):
        return send_raw(method, url, data, headers or {}, source, extra)
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


def send_raw(method, url, data, headers, source, extra):
    split = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(split.hostname, split.port or 80, timeout=TIMEOUT,
                                      source_address=(source, 0) if source else None)
    try:
        named = {k.lower() for k, _ in list(headers.items()) + list(extra)}
        conn.putrequest(method, split.path + ("?" + split.query if split.query else ""),
                        skip_host="host" in named, skip_accept_encoding=True)
        for k, v in list(headers.items()) + list(extra) + [("Connection", "close")]:
            conn.putheader(k, v)
        if data is not None:
            conn.putheader("Content-Length", str(len(data)))
        conn.endheaders(data)
        res = conn.getresponse()
        return Answer(res.status, res.headers, res.read())
    finally:
        conn.close()


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
        # RFC 8628: device authorizations obtained (dicts: app, client_id, device_code, user_code,
        # state: pending, approved, denied, spent or expired, and when).
        self.devices = []
        # RFC 9126: pushed requests (the authorize request's info, as for `codes`, plus
        # request_uri, when, and whether an authorization ended with it).
        self.pars = []
        # The second-factor person: its sessions (signed in, or waiting for the second step),
        # and what the fuzz knows of its factors (the authenticator app's secret, whether it is
        # on (None: not known until the security page shows it again), the last time step a
        # right code went out for, recovery codes not used yet, and the wrong codes sent since
        # the last right one or sign-in).
        self.factor_slots = []  # the setup's two (signed in), then up to three later sign-ins
        self.factor_cookies = set()  # every session it had (to tell them apart in a failure)
        self.factor_relogin_after = 0.0
        self.factor = {"secret": None, "totp_on": False, "last_step": 0, "recovery": [], "misses": 0,
                       "confirming": False}
        # DPoP (RFC 9449): the fuzz's keys (DpopKey, made once in setup), the bound access tokens
        # it got (dicts: app, token, scope, key, who), bound refresh tokens (dicts: app, client_id,
        # refresh, key, public: whether the server binds it too), proofs sent (to replay: dicts
        # with proof, htm, htu, ok once the server took it), and the hashes of every bound access
        # token seen (the other tokens in `access` are unbound).
        self.dpop_keys = []
        self.dpop, self.dpop_refresh, self.dpop_sent = [], [], []
        self.dpop_bound = set()

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

    def page_csrf(self, cookie, path):
        """The session's form token, from a page that shows a form (the second step's)."""
        a = send("GET", path, headers={"Cookie": f"gatehouse_session={cookie}", "Accept": "text/html"})
        if a.status >= 500:
            raise SetupError(f"GET {path} answered {a.status}")
        m = CSRF_RE.search(a.body) if a.status == 200 else None
        if m:
            self.csrf[cookie] = (m.group(1) or m.group(2)).decode()

    def factor_sign_in(self, why):
        """A new session of the second-factor person (waiting for its second step when it has
        a factor) with its form token; its right password also resets its count of wrong codes."""
        cookie = self.sign_in(*FACTOR)
        if not cookie:
            self.counts["factor person sign-ins refused"] += 1
            self.factor_relogin_after = time.time() + 5
            return None
        self.counts[f"factor person sign-ins ({why})"] += 1
        self.factor["misses"] = 0
        self.fetch_csrf(cookie)
        if cookie not in self.csrf:
            self.page_csrf(cookie, "/login/second")
        self.add_factor_session(cookie)
        return cookie

    def add_factor_session(self, cookie):
        """The setup's two sessions stay; of the later ones the newest three."""
        self.factor_slots.append(cookie)
        self.factor_cookies.add(cookie)
        if len(self.factor_slots) > 5:
            del self.factor_slots[2]

    def factor_session(self, later=0.3):
        """A session of the second-factor person: one of the setup's (signed in), or (`later`
        of the time) one of a later sign-in (waiting for its second step once the person has an
        authenticator app); the same draws however many are live. Signed in again when none is
        left (when refused, in 5 s)."""
        first = [c for c in self.factor_slots[:2] if c]
        others = [c for c in self.factor_slots[2:] if c]
        if not first and not others and time.time() >= self.factor_relogin_after:
            cookie = self.factor_sign_in("none left")
            others = [cookie] if cookie else []
        which, draw = rnd.random(), rnd.random()
        live = others if others and (which < later or not first) else first
        return live[int(draw * len(live))] if live else None

    def setup(self):
        self.admin_cookie = self.sign_in(ADMIN_USER, ADMIN_PASSWORD)
        if not self.admin_cookie:
            raise SetupError(f"cannot sign in as {ADMIN_USER!r} (set FUZZ_ADMIN_PASSWORD)")
        me = self.api("GET", "/api/v1/users?" + urllib.parse.urlencode({"login_name": ADMIN_USER}))
        for u in me.json()["items"]:
            self.ids[u["login_name"].lower()] = u["id"]
        for name, secret, client in [PERSON + (False,), DECOY + (False,), CLIENT + (True,),
                                     OUTSIDER + (True,), FACTOR + (False,)]:
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
        for app_id in CIMD_APPS:  # client ID metadata documents: switched on through the admin API
            self.api("PATCH", f"/api/v1/apps/{app_id}", {"client_id_metadata_documents": True})
            self.counts["apps taking client ID metadata documents"] += 1
        for app_id in DPOP_APPS:  # DPoP required: switched on through the admin API
            self.api("PATCH", f"/api/v1/apps/{app_id}", {"require_dpop": True})
            self.counts["apps requiring DPoP"] += 1
        self.setup_clients()
        self.setup_devices()
        self.setup_dpop()
        self.protected_ids = ({v.lower() for v in self.ids.values()} | {a["id"].lower() for a in self.apps}
                              | {c["client_id"].lower() for c in self.reg_setup})
        self.protected_names = {n.lower() for n in (ADMIN_USER, PERSON[0], DECOY[0], CLIENT[0], OUTSIDER[0],
                                                    FACTOR[0])}
        # The second-factor person starts with none (a rerun may have left an authenticator app).
        self.api("DELETE", f"/api/v1/users/{self.ids[FACTOR[0]]}/factors", ok=(200, 204))
        for _ in range(2):
            if not self.factor_sign_in("setup"):
                raise SetupError(f"cannot sign in as {FACTOR[0]!r}")
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

    def setup_devices(self):
        """A few device authorizations (RFC 8628) of fz-device, for the fuzz to look up, approve,
        deny and poll; and one pushed request (RFC 9126) of fz-par, to know the door works."""
        for i in range(3):
            form = {"client_id": f"fuzz-tv-{i}", "scope": "openid tv" if i else "tv record"}
            a = send("POST", f"/oauth2/device/{DEVICE_APP}", urllib.parse.urlencode(form).encode(),
                     {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"})
            body = a.json()
            if a.status != 200 or not isinstance(body, dict) or not isinstance(body.get("device_code"), str):
                raise SetupError(f"POST /oauth2/device/{DEVICE_APP} answered {a.status}: {a.body[:300]!r}")
            self.devices.append({"app": DEVICE_APP, "client_id": form["client_id"], "at": time.time(),
                                 "device_code": body["device_code"], "user_code": body["user_code"],
                                 "state": "pending"})
            self.counts["device codes obtained in setup"] += 1
        _, challenge = pkce_pair("p" * 50)
        form = {"response_type": "code", "redirect_uri": "https://par.fuzz.example/cb", "scope": "par.read",
                "state": "s", "code_challenge": challenge, "code_challenge_method": "S256"}
        a = send("POST", "/oauth2/par/fz-par", urllib.parse.urlencode(form).encode(),
                 {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json",
                  "Authorization": "Basic " + base64.b64encode(f"{CLIENT[0]}:{CLIENT[1]}".encode()).decode()})
        body = a.json()
        if a.status != 201 or not isinstance(body, dict) or not str(body.get("request_uri")).startswith(
                REQUEST_URI_PREFIX):
            raise SetupError(f"POST /oauth2/par/fz-par answered {a.status}: {a.body[:300]!r}")
        self.pars.append({"app": "fz-par", "client_id": CLIENT[0], "redirect_uri": form["redirect_uri"],
                          "verifier": "p" * 50, "client": None, "resources": [], "spent": False,
                          "request_uri": body["request_uri"], "at": time.time()})
        self.counts["pushed requests stored in setup"] += 1

    def setup_dpop(self):
        """The fuzz's DPoP keys, and one bound token each for a client (client credentials at
        fz-cc) and the administrator (the password grant at fz-dpop), to know the doors work:
        the token's cnf.jkt and introspection name the key, the admin API takes it with a proof
        by the key and refuses it as a Bearer token, and fz-dpop refuses a request without a proof."""
        self.dpop_keys = dpop_keys()
        key = self.dpop_keys[0]
        basic = {"Authorization": "Basic " + base64.b64encode(f"{CLIENT[0]}:{CLIENT[1]}".encode()).decode()}
        for app_id, form, who in (("fz-cc", {"grant_type": "client_credentials"}, "client"),
                                  (DPOP_APPS[0], {"grant_type": "password", "username": ADMIN_USER,
                                                  "password": ADMIN_PASSWORD, "scope": "admin.read audit openid"},
                                   "admin")):
            path = f"/oauth2/token/{app_id}"
            headers = dict(basic, **{"Content-Type": "application/x-www-form-urlencoded",
                                     "Accept": "application/json"})
            data = urllib.parse.urlencode(form).encode()
            if app_id in DPOP_APPS:
                a = send("POST", path, data, headers)
                if a.status != 400 or (a.json() or {}).get("error") != "invalid_dpop_proof":
                    raise SetupError(f"POST {path} without a proof answered {a.status}: {a.body[:300]!r}")
            headers["DPoP"] = dpop_proof(key, "POST", URL + path)
            a = send("POST", path, data, headers)
            body = a.json()
            if a.status != 200 or not isinstance(body, dict) or body.get("token_type") != "DPoP":
                raise SetupError(f"POST {path} with a DPoP proof answered {a.status}: {a.body[:300]!r}")
            problem = bound_token_problem(body["access_token"], key)
            if problem:
                raise SetupError(f"POST {path} with a DPoP proof: {problem}")
            self.keep(self.dpop, {"app": app_id, "token": body["access_token"], "scope": str(body.get("scope", "")),
                                  "key": key, "who": who})
            self.dpop_bound.add(token_hash(body["access_token"]))
            self.counts["DPoP-bound tokens obtained in setup"] += 1
        tok = self.dpop[-1]["token"]
        a = send("POST", "/oauth2/introspect/fz-cc", urllib.parse.urlencode({"token": self.dpop[0]["token"]}).encode(),
                 dict(basic, **{"Content-Type": "application/x-www-form-urlencoded"}))
        j = a.json() if a.status == 200 else None
        if not isinstance(j, dict) or j.get("token_type") != "DPoP" or (j.get("cnf") or {}).get("jkt") != key.jkt:
            raise SetupError(f"introspection of a bound token answered {a.status}: {a.body[:300]!r}")
        a = send("GET", "/api/v1/apps", headers={"Authorization": "DPoP " + tok, "Accept": "application/json",
                                                 "DPoP": dpop_proof(key, "GET", URL + "/api/v1/apps", tok)})
        if a.status != 200:
            raise SetupError(f"GET /api/v1/apps with the administrator's bound token and a proof answered "
                             f"{a.status}: {a.body[:300]!r}")
        a = send("GET", "/api/v1/apps", headers={"Authorization": "Bearer " + tok, "Accept": "application/json"})
        if a.status != 401 or not a.headers.get("WWW-Authenticate", "").startswith("DPoP "):
            raise SetupError(f"GET /api/v1/apps with a bound token as a Bearer token answered {a.status} "
                             f"({a.headers.get('WWW-Authenticate')!r}): {a.body[:300]!r}")

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
        for slots, who in ((self.person_slots, "person"), (self.factor_slots, "factor person")):
            for i, c in enumerate(slots):
                if c == old:
                    slots[i] = new
                    self.counts[f"{who} sessions ended" if not new else f"{who} sessions renewed"] += 1
                    if new and slots is self.factor_slots:
                        self.factor_cookies.add(new)
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
        lambda: rnd.choice(T.devices)[rnd.choice(["device_code", "user_code"])] if T.devices else fake_user_code(),
        lambda: rnd.choice(T.pars)["request_uri"] if T.pars else REQUEST_URI_PREFIX + token(43),
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
    mine = {PERSON[0].lower(): PERSON[1], ADMIN_USER.lower(): ADMIN_PASSWORD, FACTOR[0].lower(): FACTOR[1]}
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
        self.live = False  # it carries a live value the server issued (a device or user code, a
        #                    request URI) or a right second-factor code (for the summary)
        self.unsent = False  # it would name a client id on a host outside CIMD_HOSTS: not sent
        self.extra = []  # (name, value) headers sent besides `headers` (a second DPoP header)
        self.check = None  # a function of the answer: what is wrong with it (a failure), or None

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
    if app and app["id"] == DEVICE_APP and rnd.random() < 0.8:
        return door_device_token(app)
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
        "user_code": [d["user_code"] for d in T.devices[-3:]] + [fake_user_code()],
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


# ---------------------------------------------------------------------------------------------
# The device authorization grant (RFC 8628): device codes asked for, looked up and decided on
# /device by the person, and polled for at the token endpoint.

def device_app():
    return app_by_id(DEVICE_APP)


def fake_user_code():
    raw = "".join(rnd.choice(USER_CODE_ALPHABET) for _ in range(8))
    return raw[:4] + "-" + raw[4:]


def user_code_variant(code):
    """A real user code as a person might type it (any case, without the dash, with spaces),
    or broken in one place."""
    x = rnd.random()
    raw = code.replace("-", "")
    if x < 0.55:
        return code
    if x < 0.65:
        return code.lower()
    if x < 0.72:
        return raw
    if x < 0.77:
        return " " + raw[:4] + " " + raw[4:] + "\t"
    i = rnd.randrange(len(raw) or 1)
    broken = rnd.choice([raw[:i] + rnd.choice(USER_CODE_ALPHABET) + raw[i + 1:], raw[:i] + raw[i + 1:],
                         raw + rnd.choice(USER_CODE_ALPHABET), raw[:i] + "A" + raw[i + 1:], raw[:i] + "0" + raw[i + 1:],
                         raw[:i] + "é" + raw[i + 1:], raw[:i] + "\x00" + raw[i + 1:], raw[:4] + "--" + raw[4:],
                         raw * 2, raw[:i] + "ｂ" + raw[i + 1:]])
    return broken[:4] + "-" + broken[4:] if rnd.random() < 0.5 else broken


def pick_user_code():
    """A device (mostly a pending one) and a user code typed for it, or none and a code
    that names nothing."""
    pending = [d for d in T.devices if d["state"] == "pending" and time.time() - d["at"] < 590]
    x = rnd.random()
    if pending and x < 0.7:
        d = rnd.choice(pending)
    elif T.devices and x < 0.82:
        d = rnd.choice(T.devices)
    else:
        return None, rnd.choice([fake_user_code(), fake_user_code(), text(), "", "AEIO-UAEI", "BCDF-GHJ",
                                 "BCDF-GHJKL", "bcdf ghjk", "0000-0000", "BCDF-GHJK" * 50])
    return d, user_code_variant(d["user_code"])


def keep_device(r, a):
    """A device authorization the server gave: its codes, and the client that asked."""
    body = a.json() if a.status == 200 else None
    if r.app and isinstance(body, dict) and isinstance(body.get("device_code"), str) and isinstance(
            body.get("user_code"), str):
        T.keep(T.devices, {"app": r.app["id"], "client_id": sent_client_id(r), "at": time.time(),
                           "device_code": body["device_code"], "user_code": body["user_code"],
                           "state": "pending"}, cap=30)
        T.counts["device codes obtained"] += 1


def door_device():
    """POST /oauth2/device/{app}: scope, resource and client authentication, mostly at
    fz-device (any client id), else at apps without the grant."""
    x = rnd.random()
    app = device_app() if x < 0.75 else pick_app()
    r = Req(door_label("POST /oauth2/device/{app}", app), "POST", f"/oauth2/device/{app_segment(app)}", app)
    scopes = (app["scopes"] if app else []) + ["openid", "profile", "email", "offline_access"]
    ps = []
    if rnd.random() < 0.85:
        ps.append(("scope", " ".join(rnd.sample(scopes, rnd.randint(1, min(3, len(scopes)))))))
    if rnd.random() < (0.3 if app and app["resources"] else 0.06):
        ps += resource_params(app)
    if app and app["kind"] == "registered":
        r.reg = pick_client(app)
        reg_client_auth(r.reg, ps, r.headers, "device")
    elif app and app["id"] == DEVICE_APP and rnd.random() < 0.85:
        ps.append(("client_id", rnd.choice(["fuzz-tv", "fuzz-cli", "tv.fuzz", CLIENT[0], "fuzz-tv-1"])))
        if rnd.random() < 0.08:
            ps.append(("client_secret", rnd.choice([CLIENT[1], text()])))
    else:
        client_auth(app, ps, r.headers)
    r.form(mutate(ps, calm=0.5) if rnd.random() < 0.92 else garbage_pairs(), kinds=(0.7, 0.9))
    r.after = lambda a: keep_device(r, a)
    return r


def door_device_token(app=None):
    """POST /oauth2/token/{app} with the device grant: a device polling with its device code
    (approved, pending, denied, spent; by the client that asked or another; too fast, as it
    mostly is), or a made-up one."""
    approved = [d for d in T.devices if d["state"] == "approved"]
    x = rnd.random()
    d = approved[-1] if approved and x < 0.4 else rnd.choice(T.devices) if T.devices and x < 0.9 else None
    if d and (app is None or app["id"] == d["app"]) and rnd.random() < 0.93:
        app = app_by_id(d["app"])
    elif app is None:
        app = device_app() if rnd.random() < 0.6 else pick_app()
    r = Req("POST /oauth2/token/{app} (device code)", "POST", f"/oauth2/token/{app_segment(app)}", app)
    grant = DEVICE_GRANT if rnd.random() < 0.93 else rnd.choice(
        [DEVICE_GRANT.upper(), "device_code", DEVICE_GRANT + " ", "urn:ietf:params:oauth:grant-type:device-code"])
    if d and rnd.random() < 0.9:
        code = d["device_code"]
    else:
        code = rnd.choice([token(43), text(), "", d["user_code"] if d else fake_user_code(),
                           d["device_code"][:-1] + "A" if d else token(43), (d["device_code"] if d else "x") * 3])
    ps = [("grant_type", grant), ("device_code", code)]
    if app and app["kind"] == "registered":
        r.reg = pick_client(app)
        reg_client_auth(r.reg, ps, r.headers)
    elif app and app["kind"] == "confidential":
        client_auth(app, ps, r.headers)
    elif rnd.random() < 0.95:
        ps.append(("client_id", d["client_id"] if d and d["client_id"] and rnd.random() < 0.85 else
                   rnd.choice((app["client_ids"] if app else []) + ["fuzz-tv", bogus_client_id()])))
    if rnd.random() < 0.1:
        ps.append(("scope", " ".join(rnd.sample(((app["scopes"] if app else []) + ["openid", "x"]), 1))))
    if rnd.random() < 0.08:
        ps += resource_params(app)
    r.live = bool(d and code == d["device_code"] and d["state"] in ("pending", "approved"))
    r.info = {"grant": grant}
    r.form(mutate(ps, calm=0.65 if r.live else 0.4) if rnd.random() < 0.93 else garbage_pairs(), kinds=(0.7, 0.9))

    def after(a):
        if not d or code != d["device_code"]:
            return
        body = a.json()
        err = body.get("error") if isinstance(body, dict) else None
        if a.status == 200 and isinstance(body, dict) and "access_token" in body:
            d["state"] = "spent"
        elif err in ("access_denied", "expired_token"):
            d["state"] = "denied" if err == "access_denied" else "expired"
    r.after = after
    return r


def door_device_page():
    """GET /device (look a user code up) and POST /device (approve or deny it), mostly with
    the person's session, its form token and a real user code typed in any of the ways the
    page reads."""
    method = rnd.choice(["GET", "GET", "POST"])
    d, code = pick_user_code()
    r = Req(f"{method} /device", method, "/device")
    r.cookie = T.live_person() if rnd.random() < 0.8 else None
    r.live = bool(d and d["state"] == "pending" and code == d["user_code"])
    r.browser = True
    if method == "GET":
        ps = [("user_code", code)] if rnd.random() < 0.9 else []
        if rnd.random() < 0.1:
            ps.append(("done", rnd.choice(["approved", "denied", "gone", "expired", "not_allowed", text()])))
        r.query(mutate(ps, calm=0.7))
        if rnd.random() < 0.5:
            r.headers["Accept"] = "text/html"
        r.after = lambda a: keep_csrf(r, a)
        return r
    csrf = T.csrf.get(r.cookie) if r.cookie else None
    decision = rnd.choice(["approve"] * 5 + ["deny"] * 2 + ["", "APPROVE", text()])
    ps = [("csrf", csrf if csrf and rnd.random() < 0.9 else value()), ("user_code", code),
          ("decision", decision)]
    r.form(mutate(ps, calm=0.7), kinds=(0.92, 0.96))

    def after(a):
        done = urllib.parse.parse_qs(urllib.parse.urlsplit(a.location).query).get("done", [""])[0]
        if d and done in ("approved", "denied"):
            d["state"] = done
            T.counts[f"device requests {done}"] += 1
    r.after = after
    return r


def keep_csrf(r, a):
    """The form token a page showed, for the session it was shown to."""
    if not (r.cookie and r.plain_cookie and a.status == 200):
        return None
    m = CSRF_RE.search(a.body)
    if m:
        T.csrf[a.session_cookie() or r.cookie] = (m.group(1) or m.group(2)).decode()
    return m


# ---------------------------------------------------------------------------------------------
# Pushed authorization requests (RFC 9126): the authorize parameters pushed with client
# authentication, then the request URI at authorize and consent.

def forged_request_uri(p=None):
    real = p["request_uri"] if p else REQUEST_URI_PREFIX + token(43)
    return rnd.choice([REQUEST_URI_PREFIX + token(43), REQUEST_URI_PREFIX, REQUEST_URI_PREFIX + text(),
                       "urn:ietf:params:oauth:request_uri", real[:-1] + ("A" if not real.endswith("A") else "B"),
                       real.upper(), real + " ", " " + real, real + real[-5:], real.replace(":", "%3A"),
                       "urn:ietf:params:oauth:request_uri:" + "a" * 3000, "https://127.0.0.1/request.jwt",
                       text(), ""])


def door_par():
    """POST /oauth2/par/{app}: authorize parameters (as the authorize door makes them, broken
    in a few places) with client authentication as at the token endpoint; mostly at fz-par."""
    x = rnd.random()
    aimed = [a for a in T.apps if a["redirects"] or a["kind"] == "registered"]
    app = app_by_id("fz-par") if x < 0.45 else rnd.choice(aimed) if x < 0.93 else pick_app()
    r = Req(door_label("POST /oauth2/par/{app}", app), "POST", f"/oauth2/par/{app_segment(app)}", app)
    ps, info = authorize_params(app)
    r.reg = info["client"]
    auth = []
    if app and app["kind"] == "registered":
        reg_client_auth(info["client"], auth, r.headers, "par", wrong=0.15)
    else:
        client_auth(app, auth, r.headers)
    # The client_id goes once: with the client authentication, or (Basic) in the parameters or not.
    if (any(k == "client_id" for k, _ in auth) and rnd.random() < 0.92) or (
            "Authorization" in r.headers and rnd.random() < 0.5):
        ps = [(k, v) for k, v in ps if k != "client_id"]
    if rnd.random() < 0.05:
        ps.append(("request_uri", forged_request_uri(rnd.choice(T.pars) if T.pars else None)))
    elif rnd.random() < 0.03:
        ps.append(("request", rnd.choice(["e30.e30.", "eyJhbGciOiJub25lIn0.e30.", text()])))
    r.form(mutate(ps + auth, calm=0.55) if rnd.random() < 0.93 else garbage_pairs(), kinds=(0.88, 0.94))

    def after(a):
        body = a.json() if a.status == 201 else None
        if app and isinstance(body, dict) and isinstance(body.get("request_uri"), str):
            cid = info["client"]["client_id"] if info["client"] else sent_client_id(r) or info["client_id"]
            T.keep(T.pars, dict(info, client_id=cid, request_uri=body["request_uri"], at=time.time(),
                                spent=False), cap=30)
            T.counts["pushed requests stored"] += 1
    r.after = after
    return r


def door_par_authorize():
    """GET /oauth2/authorize/{app} and POST /oauth2/consent/{app} with client_id and a
    request_uri: a live one (mostly the newest) by its own client, a spent or expired one,
    another client's, a forged one; now and then with authorize parameters beside it."""
    live = [p for p in T.pars if not p["spent"] and time.time() - p["at"] < 58]
    x = rnd.random()
    p = live[-1] if live and x < 0.45 else rnd.choice(live) if live and x < 0.65 else (
        rnd.choice(T.pars) if T.pars and x < 0.85 else None)
    app = app_by_id(p["app"]) if p and rnd.random() < 0.92 else pick_app(browser=True)
    consent = rnd.random() < 0.25
    what = "POST /oauth2/consent/{app}" if consent else "GET /oauth2/authorize/{app}"
    r = Req(door_label(what, app) + " (pushed)", "POST" if consent else "GET",
            f"/oauth2/{'consent' if consent else 'authorize'}/{app_segment(app)}", app)
    cid = p["client_id"] if p and rnd.random() < 0.9 else (
        rnd.choice(app["client_ids"]) if app and app["client_ids"] else bogus_client_id())
    uri = p["request_uri"] if p and rnd.random() < 0.88 else forged_request_uri(p)
    ps = [("client_id", cid), ("request_uri", uri)]
    if rnd.random() < 0.12:
        extra, _ = authorize_params(app)
        ps += rnd.sample([kv for kv in extra if kv[0] != "client_id"], rnd.randint(1, 3))
    r.cookie = T.live_person() if rnd.random() < 0.8 else None
    r.browser = True
    ours = bool(p and app and p["app"] == app["id"] and uri == p["request_uri"])
    r.live = ours and cid == p["client_id"] and not p["spent"] and time.time() - p["at"] < 60
    r.info = p if ours else None  # a code it brings back is the pushed request's
    r.reg = p["client"] if ours else None
    if consent:
        csrf = T.csrf.get(r.cookie) if r.cookie else None
        ps += [("csrf", csrf if csrf and rnd.random() < 0.88 else value()),
               ("decision", rnd.choice(["approve", "approve", "approve", "deny", text()]))]
        for sc in (app["scopes"] if app else []) + ["openid", "profile"]:
            if rnd.random() < 0.6:
                ps.append(("scope_choice", sc))
        r.form(mutate(ps, calm=0.55), kinds=(0.92, 0.96))
    else:
        r.query(mutate(ps, calm=0.6))

    def after(a):
        loc = a.location
        # An authorization that ends (a redirect to the client) spends its request URI.
        if ours and 300 <= a.status < 400 and loc and not loc.startswith("/"):
            p["spent"] = True
    r.after = after
    return r


# ---------------------------------------------------------------------------------------------
# Second factors (SPEC §6a), on the second-factor person only: the security page, the second
# step, passkey ceremonies, the admin API's factors of a person.

def totp_at(secret, step):
    """The authenticator app's code for time step `step` (RFC 6238: SHA-1, 6 digits, 30 s)."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    at = mac[-1] & 15
    return f"{(int.from_bytes(mac[at:at + 4], 'big') & 0x7FFFFFFF) % 1_000_000:06d}"


def wrong_factor_code():
    rec = "".join(rnd.choice(RECOVERY_ALPHABET) for _ in range(10))
    return rnd.choice([f"{rnd.randrange(10**6):06d}", f"{rnd.randrange(10**6):06d}", "000000", "123456",
                       f"{rnd.randrange(10**5):05d}", f"{rnd.randrange(10**7):07d}", rec, rec[:5] + "-" + rec[5:],
                       rec.upper(), rec[:9], "１２３４５６", "12345\x00", " " * 6, "", text()])


def factor_code(purpose):
    """A code for the second-factor person's `purpose` ("confirm": turning its authenticator
    app on; "second": the second step): (code, what it proves or None, the time step or
    recovery code used up). A right one is the app's code for a time step not used yet (or, in
    the second step, a recovery code not used yet); wrong ones go out while fewer than
    FACTOR_MISSES were sent since the last right one or sign-in, else the person signs in
    again first (which resets its count), else (None, None, None)."""
    F = T.factor
    step = int(time.time()) // 30
    right = None
    if F["secret"] and F["totp_on"] is (purpose == "second"):
        steps = [n for n in (step, step + 1) if n > F["last_step"]]
        right = ("totp", steps[0]) if steps else None
    if right is None and purpose == "second" and F["recovery"]:
        right = ("recovery", F["recovery"][0])
    if right and (F["misses"] >= FACTOR_MISSES or rnd.random() < 0.5):
        kind, used = right
        if kind == "totp":
            F["last_step"] = used
            if purpose == "confirm":
                F["totp_on"], F["confirming"] = None, True  # on, if this code went through: the page will tell
            try:
                code = totp_at(F["secret"], used)
            except ValueError:
                return wrong_factor_code(), None, None
            return (code if purpose == "confirm" or rnd.random() < 0.8 else code[:3] + " " + code[3:]), kind, used
        F["recovery"].remove(used)
        return rnd.choice([used, used, used.upper(), used.replace("-", "")]), kind, used
    if F["misses"] >= FACTOR_MISSES and not T.factor_sign_in("its wrong codes reset"):
        return None, None, None
    return wrong_factor_code(), None, None


def counts_against(r, csrf_right):
    """Whether the second-factor person's account counts this attempt (its live session and its
    form token: the server checks the code, right or wrong)."""
    return bool(r.cookie and r.cookie in T.factor_slots and csrf_right)


def return_to_value():
    return rnd.choice(["/account/apps", "/account/security", "/oauth2/authorize/fz-code?client_id=x",
                       "/device?user_code=BCDF-GHJK", "/admin", "//evil.example", "https://evil.example/",
                       "/\\evil.example", "/login/second", text()])


def read_security_page(r, a):
    """What the security page shows of the second-factor person's factors: the authenticator
    app (on, being set up with its secret, or none) and recovery codes shown this once."""
    m = keep_csrf(r, a)
    if not m or r.cookie not in T.factor_slots:
        return
    F, body = T.factor, a.body
    on = b'value="totp_remove"' in body
    secret = re.search(rb'id="totp-secret"[^>]*>(?:<!--[^>]*-->)*\s*([A-Z2-7=]{16,})', body)
    if on and F["confirming"]:
        F["misses"] = 0  # only a right code turns it on, and a right code resets the count
        T.counts["authenticator app turned on"] += 1
    F["totp_on"], F["confirming"] = on, False
    if secret:
        F["secret"] = secret.group(1).decode()
    elif not on:
        F["secret"] = None
    codes = re.search(rb'id="recovery-codes"[^>]*>(.*?)</ul>', body, re.S)
    if codes:
        found = re.findall(rb"<code>(?:<!--[^>]*-->)*([a-z0-9]{5}-[a-z0-9]{5})", codes.group(1))
        F["recovery"] = [c.decode() for c in found]
        T.counts["recovery codes seen"] += len(F["recovery"])


def door_security_page():
    """GET /account/security: the second-factor person's (mostly), anybody's, nobody's."""
    r = Req("GET /account/security", "GET", "/account/security")
    x = rnd.random()
    r.cookie = T.factor_session(later=0.15) if x < 0.75 else T.live_person() if x < 0.85 else None
    if rnd.random() < 0.25:
        r.query([("return_to", return_to_value())])
    if rnd.random() < 0.6:
        r.headers["Accept"] = "text/html"
    r.browser = True
    r.after = lambda a: read_security_page(r, a)
    return r


def door_security_form():
    """POST /account/security: op totp_begin, totp_confirm (a right or wrong code),
    totp_remove, recovery_regenerate, passkey_remove, or junk; the second-factor person's
    session (the person's never: a code there would count against its account)."""
    r = Req("POST /account/security", "POST", "/account/security")
    r.fixed_share = 0.1  # a code is counted against the address too: mostly not the throttled one
    r.cookie = T.factor_session(later=0.15) if rnd.random() < 0.88 else None
    F = T.factor
    op = rnd.choices(["totp_begin", "totp_confirm", "totp_remove", "recovery_regenerate", "passkey_remove", "junk"],
                     [3, 5, 0.25, 0.8, 1, 1])[0]
    csrf = T.csrf.get(r.cookie) if r.cookie else None
    right_csrf = bool(csrf and rnd.random() < 0.9)
    ps = [("csrf", csrf if right_csrf else token(32)),
          ("op", op if op != "junk" else rnd.choice(["", "TOTP_BEGIN", "totp_confirm ", "passkey_add", "totp_begin\x00",
                                                     "recovery", text()]))]
    proved = None
    if op == "totp_confirm":
        code, proved, _ = factor_code("confirm") if counts_against(r, right_csrf) else (wrong_factor_code(), None, None)
        if code is None:  # no right code and no fresh sign-in: the code is not checked
            code, ps[0] = wrong_factor_code(), ("csrf", token(32))
        ps.append(("code", code))
    elif op == "passkey_remove":
        ps.append(("credential", rnd.choice([b64url(bytes(rnd.getrandbits(8) for _ in range(16))), token(43), "",
                                             text(), "a" * 2000])))
    if rnd.random() < 0.15:
        ps.append(("return_to", return_to_value()))
    sent = mutate(ps, calm=0.7)
    r.form(sent, kinds=(0.93, 0.97))
    if op == "totp_confirm" and counts_against(r, right_csrf) and dict(sent).get("csrf") == csrf:
        F["misses"] += not (proved and sent == ps)
    r.live = bool(proved)
    if op == "recovery_regenerate" and right_csrf and r.cookie in T.factor_slots:
        F["recovery"] = []  # the old ones are gone; the page shows the new ones once
    elif op == "totp_remove" and right_csrf and r.cookie in T.factor_slots:
        F.update({"secret": None, "totp_on": None, "recovery": []})  # gone, if it went through
    r.browser = True
    return r


def door_second_step():
    """GET and POST /login/second (the second step: a code from the authenticator app, a
    recovery code, a wrong one), for a sign-in waiting for it or a session stepping up; and now
    and then the password step of the second-factor person that leads there (POST /sfn/login)."""
    x = rnd.random()
    if x < 0.12:
        r = Req("POST /sfn/login (second-factor person)", "POST", "/sfn/login")
        r.form(keep_person_unlocked(mutate([("login_name", FACTOR[0]), ("password", FACTOR[1]),
                                            ("return_to", return_to_value())], calm=0.8)), kinds=(0.95, 0.97))
        r.headers["Accept"] = rnd.choice(["text/html", "application/json"])
        r.browser = True

        def after(a):
            cookie = a.session_cookie()
            if cookie and a.status < 400:
                T.add_factor_session(cookie)
                T.factor["misses"] = 0
                T.counts["factor person sign-ins (fuzz)"] += 1
        r.after = after
        return r
    if x < 0.45:
        r = Req("GET /login/second", "GET", "/login/second")
        if rnd.random() < 0.85:
            r.query(mutate([("return_to", return_to_value())], calm=0.7))
        y = rnd.random()
        r.cookie = T.factor_session(later=0.5) if y < 0.8 else T.live_person() if y < 0.88 else None
        if rnd.random() < 0.5:
            r.headers["Accept"] = "text/html"
        r.browser = True
        r.after = lambda a: keep_csrf(r, a)
        return r
    r = Req("POST /login/second", "POST", "/login/second")
    r.fixed_share = 0.1  # a code is counted against the address too: mostly not the throttled one
    r.cookie = T.factor_session(later=0.5) if rnd.random() < 0.88 else None
    csrf = T.csrf.get(r.cookie) if r.cookie else None
    right_csrf = bool(csrf and rnd.random() < 0.9)
    code, proved, _ = factor_code("second") if counts_against(r, right_csrf) else (wrong_factor_code(), None, None)
    if code is None:
        code, right_csrf = wrong_factor_code(), False
    ps = [("csrf", csrf if right_csrf else token(32)), ("code", code), ("return_to", return_to_value())]
    sent = mutate(ps, calm=0.7)
    r.form(sent, kinds=(0.93, 0.97))
    if counts_against(r, right_csrf) and dict(sent).get("csrf") == csrf:
        T.factor["misses"] += not (proved and sent == ps)
    r.live = bool(proved)
    r.browser = True

    def after(a):
        if proved and 300 <= a.status < 400 and "error=" not in a.location and not a.location.startswith("/login?"):
            T.factor["misses"] = 0
            T.counts[f"second steps passed ({proved})"] += 1
    r.after = after
    return r


def webauthn_credential(kind):
    """A WebAuthn credential shaped as navigator.credentials answers ("get": an assertion;
    "create": an attestation) with bytes nobody signed, broken in a place now and then; or
    garbage."""
    if rnd.random() < 0.2:
        return rnd.choice([None, "", 5, [], {}, {"id": text()}, deep(), text(), {"type": "public-key"},
                           {"id": "", "rawId": "", "type": "public-key", "response": {}}])
    raw = bytes(rnd.getrandbits(8) for _ in range(rnd.choice([16, 32, 64])))
    client_data = {"type": "webauthn." + kind, "challenge": token(43), "crossOrigin": False,
                   "origin": rnd.choice([URL, "https://evil.example"])}
    cred = {"id": b64url(raw), "rawId": b64url(raw), "type": "public-key", "extensions": {},
            "response": {"clientDataJSON": b64url(json.dumps(client_data).encode())}}
    if rnd.random() < 0.15:  # what some browsers' toJSON() adds
        cred.update(rnd.choice([{"clientExtensionResults": {}}, {"authenticatorAttachment": "platform"}]))
    if kind == "get":
        cred["response"].update({"authenticatorData": b64url(bytes(32) + bytes([5]) + bytes(4)),
                                 "signature": b64url(bytes(rnd.getrandbits(8) for _ in range(70))),
                                 "userHandle": rnd.choice([None, b64url(bytes(16)), ""])})
    else:
        cred["response"].update({"attestationObject": b64url(b"\xa3cfmtdnonegattStmt\xa0hauthData" + bytes(37)),
                                 "transports": ["internal", "hybrid"]})
    if rnd.random() < 0.3:
        where = rnd.choice([cred, cred["response"]])
        where[rnd.choice(list(where))] = rnd.choice(WRONG_TYPES + [text(), "!!!", "a" * 5000])
    return cred


def door_passkeys():
    """The JSON calls of /passkeys.js: POST /login/passkey/begin {mode}, /login/passkey/finish
    {ceremony, credential, return_to}, /account/passkeys/begin {}, /account/passkeys/finish
    {ceremony, name, credential}; the second-factor person's session, or none."""
    path = rnd.choice(["/login/passkey/begin", "/login/passkey/finish", "/login/passkey/finish",
                       "/account/passkeys/begin", "/account/passkeys/finish", "/account/passkeys/finish"])
    r = Req(f"POST {path}", "POST", path)
    r.cookie = T.factor_session() if rnd.random() < 0.7 else None
    ceremony = rnd.choice([token(43), token(22), "", text(), "00000000-0000-0000-0000-000000000000"])
    if path == "/login/passkey/begin":
        body = {"mode": rnd.choice(["signin", "signin", "second", "second", "", "SIGNIN", None, 5, text()])}
    elif path == "/login/passkey/finish":
        body = {"ceremony": ceremony, "credential": webauthn_credential("get"), "return_to": return_to_value()}
    elif path == "/account/passkeys/begin":
        body = rnd.choice([{}, {}, {"name": text()}, []])
    else:
        body = {"ceremony": ceremony, "credential": webauthn_credential("create"),
                "name": rnd.choice(["Passkey", "Laptop", "", " ", "a" * 65, "tab\there", text()])}
    if isinstance(body, dict) and body and rnd.random() < 0.3:
        body[rnd.choice(list(body))] = rnd.choice(WRONG_TYPES + [text(), deep(), "a" * 5000])
    x = rnd.random()
    if x < 0.85:
        r.data, r.headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    elif x < 0.93:
        fields = body.items() if isinstance(body, dict) else []
        r.form([(k, v if isinstance(v, str) else json.dumps(v)) for k, v in fields], kinds=(1.0, 1.0))
    else:
        r.data = rnd.choice([b"", b"{", b"null", b"[]", bytes(rnd.getrandbits(8) for _ in range(100))])
        r.headers["Content-Type"] = rnd.choice(["application/json", "text/plain"])
    r.browser = True
    return r


def door_admin_factors():
    """GET and DELETE /api/v1/users/{id}/factors: mostly with the admin session, for the
    second-factor person, the fuzz's other people, ids the fuzz made and made-up ones (never
    the administrator's own)."""
    method = rnd.choice(["GET", "GET", "DELETE"])
    fid = T.ids[FACTOR[0]]
    others = [T.ids[n] for n in (PERSON[0], DECOY[0], CLIENT[0])] + T.created_ids
    # A reset of the second-factor person's now and then (it undoes what the other doors set up).
    uid = fid if rnd.random() < (0.5 if method == "GET" else 0.1) else rnd.choice(
        others + [text(), "00000000-0000-0000-0000-000000000000"])
    r = Req(f"{method} /api/v1/users/{{id}}/factors", method,
            f"/api/v1/users/{urllib.parse.quote(uid, safe='')}/factors")
    x = rnd.random()
    if x < 0.72:
        r.cookie = T.admin_cookie
    elif x < 0.82:
        r.cookie = T.factor_session()
    elif x < 0.87:
        r.cookie = T.live_person()
    elif x < 0.95:
        r.headers["Authorization"] = "Bearer " + any_token()
    if method == "DELETE" and rnd.random() < 0.1:
        r.data, r.headers["Content-Type"] = b"{}", "application/json"
    r.browser = True

    def after(a):
        if method == "DELETE" and uid == fid and a.status in (200, 204):
            T.factor.update({"secret": None, "totp_on": False, "recovery": []})
            T.counts["second factors reset by the admin API"] += 1
    r.after = after
    return r


# ---------------------------------------------------------------------------------------------
# Client ID metadata documents (SPEC §3b): https client ids at an app that takes them, only on
# hosts that are refused without a connection or fail at once.

def cimd_client_id():
    """An https client id on CIMD_HOSTS: one the server would fetch (and refuse or fail at
    once), or one it refuses before any fetch (http, no path, a fragment, user and password,
    dot segments, not written as a URL parser writes it)."""
    host, path = rnd.choice(CIMD_HOSTS), rnd.choice(CIMD_PATHS)
    if rnd.random() < 0.6:
        return f"https://{host}{path}"
    return rnd.choice([f"http://{host}{path}", f"https://{host}", f"https://{host}/", f"https://{host}{path}#frag",
                       f"https://user:pass@{host}{path}", f"https://fuzz@{host}{path}",
                       f"https://{host}/a/../client.json",
                       f"https://{host}/./client.json", f"https://{host}/a/%2e%2e/client.json", f"HTTPS://{host}{path}",
                       f"https://{host.upper()}{path}", f"https://{host}:443{path}", f"https://{host}{path}?",
                       f"https://{host}{path} ", f" https://{host}{path}", f"https://{host}" + "/a" * 1100,
                       f"https://{host}/%zz", f"https://{host}/client.json\x00", "https://",
                       "https://127.1/client.json", "https://0x7f000001/client.json", "https://2130706433/client.json",
                       "https://[::ffff:127.0.0.1]/client.json", "https://127.0.0.1./client.json",
                       "https://nothing.invalid./client.json", "https://LOCALHOST:9/client.json"])


def outside_host(v):
    """Whether client id `v` could make a server that takes client ID metadata documents reach
    a host that is not one of CIMD_HOSTS (the fuzz server has no network beyond loopback)."""
    if not isinstance(v, str) or not v.startswith("https://") or v == "https://":
        return False
    try:
        host = urllib.parse.urlsplit(v).hostname
    except ValueError:
        return True
    return (host or "").rstrip(".") not in CIMD_HOSTNAMES


def assertion_subjects(a):
    """The iss and sub of a client assertion, as far as it decodes."""
    try:
        claims = json.loads(base64.urlsafe_b64decode(a.split(".")[1] + "=" * (-len(a.split(".")[1]) % 4)))
        return [claims.get(k) for k in ("sub", "iss")] if isinstance(claims, dict) else []
    except (ValueError, IndexError, TypeError, AttributeError, RecursionError):
        return []


def client_ids_named(r):
    """The client ids a request names: client_id parameters (query, form or JSON body), the
    Basic user, a client assertion's subject and issuer."""
    out, assertions = [], []
    pairs = urllib.parse.parse_qsl(r.path.partition("?")[2], keep_blank_values=True)
    data = r.data or b""
    pairs += urllib.parse.parse_qsl(data.decode("utf-8", "replace"), keep_blank_values=True)
    try:
        j = json.loads(data)
    except (ValueError, RecursionError):
        j = None
    if isinstance(j, dict):
        pairs += [(k, v) for k, v in j.items() if isinstance(v, str)]
    for k, v in pairs:
        if k == "client_id":
            out.append(v)
        elif k == "client_assertion":
            assertions.append(v)
            out += assertion_subjects(v)
    auth = r.headers.get("Authorization", "")
    if auth.startswith("Basic "):
        try:
            out.append(urllib.parse.unquote(base64.b64decode(auth[6:], validate=True).decode().partition(":")[0]))
        except (ValueError, UnicodeDecodeError):
            pass
    return out, assertions


def keep_documents_local(r):
    """A request to an app that takes client ID metadata documents names no https client id
    outside CIMD_HOSTS: each such one (from a nasty or real value a mutation put there) is
    rewritten onto them; False when one is left (the request is then not sent)."""
    path = r.path.split("?")[0].lower()
    if not any(f"/{a}" in path for a in CIMD_APPS):
        return True
    ids, assertions = client_ids_named(r)
    for v in {v for v in ids if outside_host(v)}:
        new = f"https://{rnd.choice(CIMD_HOSTS)}{rnd.choice(CIMD_PATHS)}"
        for old_enc, new_enc in ((urllib.parse.quote_plus(v), urllib.parse.quote_plus(new)),
                                 (json.dumps(v)[1:-1], json.dumps(new)[1:-1]), (v, new)):
            r.path = r.path.replace(old_enc, new_enc)
            r.data = r.data.replace(old_enc.encode(), new_enc.encode()) if r.data else r.data
        T.counts["client ids moved onto the document hosts"] += 1
    for a in assertions:
        if r.data and any(outside_host(v) for v in assertion_subjects(a)):
            new = fake_assertion(None, f"https://{rnd.choice(CIMD_HOSTS)}/client.json", "token")
            r.data = r.data.replace(urllib.parse.quote_plus(a).encode(), urllib.parse.quote_plus(new).encode())
            r.data = r.data.replace(a.encode(), new.encode())
    auth = r.headers.get("Authorization", "")
    if auth.startswith("Basic ") and any(outside_host(v) for v in client_ids_named(r)[0]):
        r.headers["Authorization"] = "Basic " + base64.b64encode(
            f"{urllib.parse.quote(cimd_client_id(), safe='')}:{token(20)}".encode()).decode()
    return not any(outside_host(v) for v in client_ids_named(r)[0])


def door_cimd():
    """Authorize, token, PAR and revocation requests naming an https client id at fz-mcp
    (which takes client ID metadata documents) and now and then at apps that do not."""
    x = rnd.random()
    app = app_by_id(rnd.choice(CIMD_APPS)) if x < 0.85 else rnd.choice(T.apps)
    what = rnd.choices(["authorize", "token", "par", "revoke"], [5, 3, 2, 1])[0]
    cid = cimd_client_id()
    ps, info = authorize_params(app)
    ps = [(k, v) for k, v in ps if k != "client_id"]
    if rnd.random() < 0.7:  # a loopback redirect URI, as a document would list
        ps = [(k, loopback_variant("http://127.0.0.1/callback") if k == "redirect_uri" else v) for k, v in ps]
    label = {"authorize": "GET /oauth2/authorize/{app}", "token": "POST /oauth2/token/{app}",
             "par": "POST /oauth2/par/{app}", "revoke": "POST /oauth2/revoke/{app}"}[what]
    r = Req(label + " (client ID metadata document)", "GET" if what == "authorize" else "POST",
            f"/oauth2/{what}/{app_segment(app)}", app)
    auth = []
    y = rnd.random()
    if y < 0.7:
        auth = [("client_id", cid)]
    elif y < 0.85:
        auth = [("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                ("client_assertion", fake_assertion(None, cid, what))]
        if rnd.random() < 0.5:
            auth.append(("client_id", cid))
    elif y < 0.95:
        r.headers["Authorization"] = "Basic " + base64.b64encode(
            f"{urllib.parse.quote(cid, safe='')}:{token(20)}".encode()).decode()
    if what == "authorize":
        r.query(mutate(ps + [("client_id", cid)], calm=0.5))
        r.cookie = T.live_person() if rnd.random() < 0.6 else None
        r.browser = True
        return r
    if what == "token":
        grant = rnd.choice(["authorization_code", "authorization_code", "client_credentials", "refresh_token",
                            DEVICE_GRANT])
        ps = [("grant_type", grant)]
        if grant == "authorization_code":
            ps += [("code", rnd.choice(T.reg_codes)["code"] if T.reg_codes and rnd.random() < 0.3 else token(43)),
                   ("redirect_uri", "http://127.0.0.1/callback"), ("code_verifier", token(50))]
        elif grant == "refresh_token":
            ps.append(("refresh_token", any_token()))
        elif grant == DEVICE_GRANT:
            ps.append(("device_code", rnd.choice(T.devices)["device_code"] if T.devices else token(43)))
    elif what == "revoke":
        ps = [("token", any_token())]
    r.form(mutate(ps + auth, calm=0.5), kinds=(0.85, 0.93))
    return r


# ---------------------------------------------------------------------------------------------
# DPoP (RFC 9449): proofs signed with the fuzz's own keys at the token endpoint, and the bound
# tokens they got on the admin API and at UserInfo, with and without a proof by their key. The
# keys (and so the signatures) are not drawn from the seed; everything else is.

def int_b64(n, size=None):
    return b64url(n.to_bytes(size or (n.bit_length() + 7) // 8, "big"))


class DpopKey:
    """A key pair for DPoP proofs: ES256 (P-256), EdDSA (Ed25519) or RS256 (`bits`; the server
    refuses one under 2048). `jwk` is its public JWK, `private` the members only the private
    key has, `jkt` its RFC 7638 thumbprint (what a token bound to it names in cnf.jkt)."""

    def __init__(self, alg, bits=2048):
        self.alg, self.short = alg, bits < 2048
        if alg == "ES256":
            self.priv = ec.generate_private_key(ec.SECP256R1())
            pub = self.priv.public_key().public_numbers()
            self.jwk = {"kty": "EC", "crv": "P-256", "x": int_b64(pub.x, 32), "y": int_b64(pub.y, 32)}
            self.private = {"d": int_b64(self.priv.private_numbers().private_value, 32)}
            members = ("crv", "kty", "x", "y")
        elif alg == "EdDSA":
            self.priv = ed25519.Ed25519PrivateKey.generate()
            raw = serialization.Encoding.Raw
            self.jwk = {"kty": "OKP", "crv": "Ed25519",
                        "x": b64url(self.priv.public_key().public_bytes(raw, serialization.PublicFormat.Raw))}
            self.private = {"d": b64url(self.priv.private_bytes(raw, serialization.PrivateFormat.Raw,
                                                                serialization.NoEncryption()))}
            members = ("crv", "kty", "x")
        else:
            self.priv = rsa.generate_private_key(public_exponent=65537, key_size=bits)
            nums = self.priv.private_numbers()
            self.jwk = {"kty": "RSA", "n": int_b64(nums.public_numbers.n), "e": int_b64(nums.public_numbers.e)}
            self.private = {"d": int_b64(nums.d), "p": int_b64(nums.p), "q": int_b64(nums.q),
                            "dp": int_b64(nums.dmp1), "dq": int_b64(nums.dmq1), "qi": int_b64(nums.iqmp)}
            members = ("e", "kty", "n")
        canonical = json.dumps({k: self.jwk[k] for k in members}, separators=(",", ":"), sort_keys=True)
        self.jkt = b64url(hashlib.sha256(canonical.encode()).digest())

    def sign(self, data):
        if self.alg == "ES256":  # JWS wants r || s, 32 bytes each, not DER
            r, s = asym_utils.decode_dss_signature(self.priv.sign(data, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        if self.alg == "EdDSA":
            return self.priv.sign(data)
        return self.priv.sign(data, padding.PKCS1v15(), hashes.SHA256())


def dpop_keys():
    """The fuzz's keys, made once: two of each kind the server takes, and a short RSA key."""
    return [DpopKey("ES256"), DpopKey("EdDSA"), DpopKey("RS256"), DpopKey("ES256"), DpopKey("EdDSA"),
            DpopKey("RS256"), DpopKey("RS256", bits=1024)]


def good_keys():
    return [k for k in T.dpop_keys if not k.short]


def other_key(key):
    """A good key other than `key` (of the same kind half of the time)."""
    others = [k for k in good_keys() if k is not key]
    same = [k for k in others if k.alg == key.alg]
    return rnd.choice(same if same and rnd.random() < 0.5 else others)


def jws(header, claims, key, sig=None, ascii_only=True):
    """A compact JWS of `header` and `claims` (dicts, or JSON text sent as it is) signed by
    `key`, or carrying the signature bytes `sig`."""
    def enc(v):
        return b64url((v if isinstance(v, str) else json.dumps(v, ensure_ascii=ascii_only)).encode())
    signing_input = enc(header) + "." + enc(claims)
    return signing_input + "." + b64url(key.sign(signing_input.encode()) if sig is None else sig)


def ath_of(access_token):
    return b64url(hashlib.sha256(access_token.encode()).digest())


def proof_parts(key, htm, htu, access_token=None, nonce=None):
    """The header and claims of a valid proof: a fresh iat (now, or a few seconds either way:
    the server takes 60), a random jti, the token's hash as ath."""
    header = {"typ": "dpop+jwt", "alg": key.alg, "jwk": key.jwk}
    claims = {"jti": token(rnd.choice([16, 22, 43])), "htm": htm, "htu": htu,
              "iat": int(time.time()) + rnd.choice([0] * 8 + [-20, -3, 2, 15])}
    if access_token is not None:
        claims["ath"] = ath_of(access_token)
    if nonce is not None:
        claims["nonce"] = nonce
    if rnd.random() < 0.3:  # the members in another order
        claims = dict(rnd.sample(list(claims.items()), len(claims)))
    return header, claims


def dpop_proof(key, htm, htu, access_token=None, nonce=None):
    """A valid proof by `key` for the request `htm htu` (for a token: with its ath)."""
    return jws(*proof_parts(key, htm, htu, access_token, nonce), key)


# How a proof is broken → whether the server must refuse it (False: it may well take it; None:
# it depends, see broken_proof).
DPOP_BREAKS = {
    "replay": None, "htm": True, "htu": True, "htu spelled otherwise": False, "old iat": True,
    "future iat": True, "iat as a float": False, "iat as a string": True, "huge iat": True,
    "private key in jwk": True, "typ": True, "typ in another case": False, "alg none": True, "alg HS256": True,
    "another alg": True, "garbage": True, "very long": True, "long": False, "non-ASCII claim": False,
    "non-ASCII header": True, "wrong JSON type": True, "missing claim": True, "missing header member": True,
    "kty not fitting alg": True, "jwk member not base64url": True, "x of the wrong length": True,
    "another key's jwk": True, "bad signature": True, "DER signature": True, "short RSA key": True,
    "bad jti": True, "longest jti": False, "ath": None, "padded base64": True, "parts": True,
    "extra members": False, "duplicate member": False, "claims not an object": True,
}


def broken_proof(key, htm, htu, access_token=None):
    """A proof by `key` for `htm htu` broken in one way: (the header value, how, whether the
    server must refuse it, the key a token would be bound to if it took it)."""
    how = rnd.choice(list(DPOP_BREAKS))
    sure = DPOP_BREAKS[how]
    header, claims = proof_parts(key, htm, htu, access_token)
    now = int(time.time())
    signer, sig, ascii_only = key, None, True
    if how == "replay":
        old = rnd.choice(T.dpop_sent) if T.dpop_sent else None
        if old:
            # Surely refused when the server took it before (its jti is spent), or it names
            # another request, token or key.
            want_ath = ath_of(access_token) if access_token is not None else old["ath"]
            return old["proof"], how, bool(old["ok"] or old["htm"] != htm or old["htu"] != htu
                                           or old["ath"] != want_ath), old["key"]
        how, sure = "garbage", True
    if how == "htm":
        claims["htm"] = rnd.choice([m for m in ("GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", htm.lower(),
                                                htm + " ", "", "*") if m != htm])
    elif how == "htu":
        split = urllib.parse.urlsplit(htu)
        other = rnd.choice([a["id"] for a in T.apps if not htu.endswith("/" + a["id"])])
        claims["htu"] = rnd.choice([
            f"{URL}/oauth2/token/{other}", f"{URL}/oauth2/userinfo/{other}", htu + "/", htu + "x", htu[:-1],
            htu.replace("http://", "https://", 1), htu.replace(split.netloc, f"{split.hostname}:{(split.port or 80) + 1}", 1),
            htu.replace(split.netloc, "evil.example", 1), split.path, "", URL, URL + "/api/v1", f"{URL}/api/v1/apps/x",
            "urn:x:" + htu, "http://", htu.replace("/oauth2/", "/oauth3/").replace("/api/v1/", "/api/v2/")])
        if claims["htu"] == htu:
            claims["htu"] = htu + "/x"
    elif how == "htu spelled otherwise":  # the same URL after normalisation, or very nearly
        split = urllib.parse.urlsplit(htu)
        claims["htu"] = rnd.choice([
            htu + "?a=1", htu + "#frag", htu + "?", "HTTP://" + htu[len("http://"):], htu.replace(split.netloc, split.netloc.upper(), 1),
            htu.replace(split.path, "/x/.." + split.path, 1), htu.replace(split.path, "/." + split.path, 1),
            htu.replace(split.path, split.path.replace("/", "//", 1), 1), htu.replace("/v1/", "/%76%31/").replace("/oauth2/", "/%6Fauth2/"),
            htu.replace("/fz-", "/%66z-")])
    elif how == "old iat":
        claims["iat"] = now - rnd.choice([75, 120, 600, 3600, 86400 * 400])
    elif how == "future iat":
        claims["iat"] = now + rnd.choice([75, 120, 3600, 10 ** 6])
    elif how == "iat as a float":
        claims["iat"] = now + rnd.choice([0.5, -0.25, 0.999, 1e-9])
    elif how == "iat as a string":
        claims["iat"] = rnd.choice([str(now), f"{now}.0", "now", "", f"{now}Z"])
    elif how == "huge iat":
        claims["iat"] = rnd.choice([10 ** 30, -10 ** 30, 1e300, -1e300, 2 ** 63, 2 ** 64, -2 ** 63, 0, 1, now * 1000])
    elif how == "private key in jwk":
        if rnd.random() < 0.7:
            header["jwk"] = dict(key.jwk, **key.private)
        else:
            header["jwk"] = dict(key.jwk, **{rnd.choice(["d", "p", "q", "dp", "dq", "qi", "oth", "k"]):
                                             b64url(bytes(rnd.getrandbits(8) for _ in range(32)))})
    elif how == "typ":
        v = rnd.choice(["JWT", "dpop", "dpop+jwt ", " dpop+jwt", "at+jwt", "", None, 5, ["dpop+jwt"],
                        "application/dpop+jwt", "dpop+jwt\x00", "DROP"])
        if rnd.random() < 0.2:
            del header["typ"]
        else:
            header["typ"] = v
    elif how == "typ in another case":
        header["typ"] = rnd.choice(["DPoP+JWT", "DPOP+JWT", "dpop+JWT"])
    elif how == "alg none":
        header["alg"], sig = rnd.choice(["none", "None", "NONE"]), b""
    elif how == "alg HS256":
        header["alg"] = "HS256"
        secret = json.dumps(key.jwk).encode() if rnd.random() < 0.5 else key.jwk.get("x", key.jwk.get("n", "")).encode()
        sig = b""  # filled in below, over the signing input
    elif how == "another alg":
        header["alg"] = rnd.choice([a for a in ("ES384", "ES512", "RS384", "RS512", "PS256", "Ed25519", "ES256K",
                                                "es256", "eddsa", "RS256 ", "", None, 5, "ES256", "EdDSA", "RS256")
                                    if a != key.alg])
    elif how == "garbage":
        return rnd.choice([text(), b64url(bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 300)))), "a.b.c",
                           "e30.e30.", "e30.e30.e30", "..", ".", "", "Bearer x", "eyJ" * 100, "null", "{}",
                           dpop_proof(key, htm, htu, access_token).replace(".", "")]), how, True, key
    elif how == "very long":
        claims["pad"] = "a" * rnd.choice([9000, 20000])
    elif how == "long":
        claims["pad"] = "a" * rnd.choice([1000, 4000])
    elif how == "non-ASCII claim":
        claims[rnd.choice(["jti", "nonce", "pad"])] = rnd.choice(["jé☃-", "ｊｔｉ", "\u202e", "😀"]) + token(8)
        ascii_only = rnd.random() < 0.5
    elif how == "non-ASCII header":
        p = jws(header, claims, key)
        i = rnd.randrange(len(p))
        return rnd.choice([p + "é", p[:i] + "é" + p[i:], (p + "☃").encode(), ("☃" + p).encode()]), how, True, key
    elif how == "wrong JSON type":
        field = rnd.choice(["jti", "htm", "htu", "iat", "nonce"] + (["ath"] if access_token is not None else []))
        claims[field] = rnd.choice(["123", [], {}, True, None, [now]] if field == "iat" else
                                   [5, 1.5, [], {}, True, [claims.get(field, "x")]])
    elif how == "missing claim":
        del claims[rnd.choice(["jti", "htm", "htu", "iat"] + (["ath"] if access_token is not None else []))]
    elif how == "missing header member":
        k = rnd.choice(["typ", "alg", "jwk", "jwk"])
        if rnd.random() < 0.7:
            del header[k]
        else:
            header[k] = rnd.choice([{}, "jwk", None, [key.jwk]]) if k == "jwk" else None
    elif how == "kty not fitting alg":
        misfit = [k.jwk for k in good_keys() if k.alg != key.alg]
        header["jwk"] = rnd.choice([rnd.choice(misfit), dict(key.jwk, kty=rnd.choice(["EC", "OKP", "RSA", "oct", "", "ec"])),
                                    dict(key.jwk, crv=rnd.choice(["P-384", "P-521", "secp256k1", "X25519", "Ed448", "p-256"]))
                                    if key.alg != "RS256" else dict(key.jwk, kty="EC")])  # an RSA key has no crv
        if header["jwk"] == key.jwk:
            header["jwk"] = dict(key.jwk, kty="oct")
    elif how == "jwk member not base64url":
        name = rnd.choice([m for m in ("x", "y", "n", "e") if m in key.jwk])
        v = key.jwk[name]
        header["jwk"] = dict(key.jwk, **{name: rnd.choice([v + "=", v.replace("-", "+").replace("_", "/") + "+",
                                                           v[:10] + " " + v[10:], v + "\x00", 5, "", None, [v], "+" + v[1:]])})
    elif how == "x of the wrong length":
        name = "n" if key.alg == "RS256" else rnd.choice(["x", "y"] if key.alg == "ES256" else ["x"])
        raw = base64.urlsafe_b64decode(key.jwk[name] + "=" * (-len(key.jwk[name]) % 4))
        header["jwk"] = dict(key.jwk, **{name: b64url(rnd.choice([raw[:-1], raw + b"\x01", raw[1:], b"\x00" + raw[:-1],
                                                                  raw * 2, b""]))})
    elif how == "another key's jwk":
        header["jwk"] = other_key(key).jwk
    elif how == "bad signature":
        good = jws(header, claims, key).rsplit(".", 1)[1]
        i = len(good) // 2
        return jws(header, claims, key).rsplit(".", 1)[0] + "." + rnd.choice([
            good[:i] + ("A" if good[i] != "A" else "B") + good[i + 1:], good[:i], good[::-1], "", good + good,
            jws(header, claims, other_key(key)).rsplit(".", 1)[1]]), how, True, key
    elif how == "DER signature":
        if key.alg == "ES256":
            sig = b""  # filled in below
        else:  # another signing input: the header alone
            sig = key.sign(b64url(json.dumps(header).encode()).encode())
    elif how == "short RSA key":
        signer = next((k for k in T.dpop_keys if k.short), key)
        header = dict(header, alg=signer.alg, jwk=signer.jwk)
    elif how == "bad jti":
        claims["jti"] = rnd.choice(["", token(257), "a" * 1000])
    elif how == "longest jti":
        claims["jti"] = token(256)
    elif how == "ath":
        if access_token is None:
            claims["ath"] = rnd.choice([token(43), "", 5])  # ignored at the token endpoint... but 5 is a wrong type
            sure = claims["ath"] == 5
        else:
            right = ath_of(access_token)
            others = [d["token"] for d in T.dpop if d["token"] != access_token]
            claims["ath"] = rnd.choice([ath_of(rnd.choice(others)) if others else right + "x", ath_of(access_token + "x"),
                                        access_token, right + "=", right.upper(), "", b64url(hashlib.sha256(
                                            access_token.encode()).hexdigest().encode())])
            sure = claims["ath"] != right
    elif how == "padded base64":
        p = jws(header, claims, key)
        h, c, s = p.split(".")
        which = rnd.randrange(3)
        parts = [h, c, s]
        parts[which] += rnd.choice(["=", "==", "==="])
        return ".".join(parts), how, True, key
    elif how == "parts":
        p = jws(header, claims, key)
        h, c, s = p.split(".")
        return rnd.choice([p + ".x", p + ".", f"{h}.{c}", f"{h}..{s}", f".{c}.{s}", f"{h}.{c}.{s}.{s}", h]), how, True, key
    elif how == "extra members":
        header.update(rnd.choice([{"kid": token(8)}, {"jku": "https://evil.example/jwks"}, {"x5c": ["AAAA"]}, {"cty": "JWT"},
                                  {"crit": []}]))
        claims.update(rnd.choice([{"exp": now + 60}, {"sub": PERSON[0]}, {"cnf": {"jkt": key.jkt}}, {"aud": URL},
                                  {"extra": deep(3)}]))
    elif how == "duplicate member":
        name = rnd.choice(["htm", "htu", "jti", "iat"])
        claims = json.dumps(claims)[:-1] + f', "{name}": ' + json.dumps(rnd.choice(["x", 1, None, claims[name]])) + "}"
    elif how == "claims not an object":
        claims = rnd.choice(["[]", "null", '"x"', "5", "[" + json.dumps(claims) + "]", ""])
    if how == "alg HS256":
        signing_input = jws(header, claims, key).rsplit(".", 1)[0]
        sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    elif how == "DER signature" and key.alg == "ES256":
        signing_input = jws(header, claims, key).rsplit(".", 1)[0]
        sig = key.priv.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    return jws(header, claims, signer, sig, ascii_only), how, sure, signer


def dpop_header(r, key, htm, htu, access_token=None, valid=0.5, none=0.08, twice=0.04):
    """The DPoP header(s) of a request by `key` for `htm htu`: a valid proof (`valid` of the
    time), none, two valid ones (never taken), or one broken. Returns what was sent: kind
    (valid, none, twice, broken), how it was broken, whether the server must refuse it, the
    key it would bind, and the record of a valid one among the proofs sent (to replay)."""
    x = rnd.random()
    sent = {"kind": "valid", "how": None, "refuse": False, "signer": key, "entry": None}
    if x < valid:
        proof = dpop_proof(key, htm, htu, access_token, nonce=token(22) if rnd.random() < 0.05 else None)
        sent["entry"] = {"proof": proof, "htm": htm, "htu": htu, "key": key, "ok": False,
                         "ath": ath_of(access_token) if access_token is not None else None}
        T.keep(T.dpop_sent, sent["entry"], cap=30)
    elif x < valid + none:
        sent["kind"] = "none"
        return sent
    elif x < valid + none + twice and URL.startswith("http://"):
        sent.update(kind="twice", refuse=True)
        proof = dpop_proof(key, htm, htu, access_token)
        r.extra.append(("DPoP", dpop_proof(key, htm, htu, access_token) if rnd.random() < 0.7 else text()))
    else:
        proof, how, refuse, signer = broken_proof(key, htm, htu, access_token)
        sent.update(kind="broken", how=how, refuse=refuse, signer=signer)
    r.headers["DPoP"] = proof
    return sent


def jwt_claims(tok):
    """The claims of a JWT (unverified), or None for anything else (an opaque token)."""
    parts = tok.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, RecursionError):
        return None
    return claims if isinstance(claims, dict) else None


def bound_token_problem(tok, key):
    """What is wrong with a token bound to `key`: a JWT must name its thumbprint in cnf.jkt."""
    claims = jwt_claims(tok)
    if claims is None:
        return None  # opaque: its binding shows in introspection and on the API
    cnf = claims.get("cnf")
    if not isinstance(cnf, dict) or cnf.get("jkt") != key.jkt:
        return f"the bound token's cnf is {cnf!r}, not the key's thumbprint {key.jkt!r}"
    return None


def token_hash(tok):
    return hashlib.sha256(tok.encode()).hexdigest()


def right_client_auth(ps, headers):
    """The confidential client's right credentials, in the Authorization header or the body."""
    if rnd.random() < 0.6:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{CLIENT[0]}:{CLIENT[1]}".encode()).decode()
    else:
        ps += [("client_id", CLIENT[0]), ("client_secret", CLIENT[1])]


def door_dpop_token():
    """POST /oauth2/token/{app} with a DPoP header (a valid proof about half of the time, else
    none, two or a broken one): client credentials at the confidential apps that take them
    (fz-dpop among them) and as registered clients, the password grant (the administrator's at
    fz-dpop now and then), codes the authorize doors got, refresh tokens (bound ones with their
    key, another key or none). The client authenticates rightly (mostly), else as door_token's
    clients do. A token for a proof that cannot be valid, one from fz-dpop without a proof, a
    public client's bound refresh token refreshed without its key and a bound token with the
    wrong token_type or cnf.jkt are wrong answers."""
    x = rnd.random()
    dpop_app = app_by_id(DPOP_APPS[0])
    cc_apps = [a for a in T.apps if a["kind"] == "confidential" and "client_credentials" in a["methods"]]
    reg_cc = [c for c in T.reg_setup + T.reg_pool if "client_credentials" in c["grants"] and c["secret"]]
    ps, who, bound_rt, c, key = [], "client", None, None, rnd.choice(good_keys())
    if T.codes and x < 0.15:
        code = T.codes.pop()  # the newest (codes live 60 s and are single use)
        app, grant, who = app_by_id(code["app"]), "authorization_code", "person"
        ps = [("grant_type", grant), ("code", code["code"]), ("redirect_uri", code["redirect_uri"]),
              ("code_verifier", code["verifier"])]
        if app and app["kind"] != "confidential":
            ps.append(("client_id", code["client_id"]))
    elif T.dpop_refresh and x < 0.27:
        bound_rt = T.dpop_refresh[-1] if rnd.random() < 0.5 else rnd.choice(T.dpop_refresh)
        app, grant, who = app_by_id(bound_rt["app"]), "refresh_token", "person"
        ps = [("grant_type", grant), ("refresh_token", bound_rt["refresh"])]
        if app and app["kind"] != "confidential" and bound_rt["client_id"]:
            ps.append(("client_id", bound_rt["client_id"]))
        key = bound_rt["key"] if rnd.random() < 0.8 else other_key(bound_rt["key"])
    elif T.refresh and x < 0.32:  # an unbound refresh token: the new tokens are bound
        app_id, rt, _ = rnd.choice(T.refresh)
        app, grant, who = app_by_id(app_id), "refresh_token", "person"
        ps = [("grant_type", grant), ("refresh_token", rt)]
    elif x < 0.5:
        pw_apps = [a for a in cc_apps if "password" in a["methods"]]
        app, grant = (dpop_app if rnd.random() < 0.7 else rnd.choice(pw_apps)), "password"
        y = rnd.random()
        login, pw = ((ADMIN_USER, ADMIN_PASSWORD) if y < 0.5 and app is dpop_app else PERSON if y < 0.88
                     else (DECOY[0], text()))
        who = "admin" if login == ADMIN_USER else "person"
        ps = [("grant_type", grant), ("username", login), ("password", pw)]
    elif x < 0.58 and reg_cc:
        c = rnd.choice(reg_cc)
        app, grant = app_by_id(c["app"]), "client_credentials"
        ps = [("grant_type", grant)]
    else:
        app, grant = (dpop_app if rnd.random() < 0.35 else rnd.choice(cc_apps)), "client_credentials"
        ps = [("grant_type", grant)]
    app = app or dpop_app
    r = Req("POST /oauth2/token/{app} (DPoP)", "POST", f"/oauth2/token/{app['id']}", app)
    r.fixed_share = 0.05  # mostly not from the address other doors' wrong secrets throttle
    if app["scopes"] and grant != "refresh_token" and rnd.random() < 0.5:
        pool = app["scopes"] + (["openid", "profile"] if grant != "client_credentials" else [])
        ps.append(("scope", " ".join(rnd.sample(pool, rnd.randint(1, min(3, len(pool)))))))
    if c:
        r.reg = c
        reg_client_auth(c, ps, r.headers, wrong=0.05)
    elif app["kind"] == "confidential":
        if rnd.random() < 0.8:
            right_client_auth(ps, r.headers)
        else:
            client_auth(app, ps, r.headers)
    elif app["kind"] != "registered" and not any(k == "client_id" for k, _ in ps) and app["client_ids"]:
        ps.append(("client_id", rnd.choice(app["client_ids"])))
    htu = f"{URL}/oauth2/token/{app['id']}"
    h = dpop_header(r, key, "POST", htu, valid=0.75 if bound_rt else 0.5)
    sent = keep_person_unlocked(mutate(ps, calm=0.85) if rnd.random() < 0.95 else garbage_pairs())
    r.form(sent, kinds=(0.9, 0.97))
    r.info = {"grant": grant}
    public = app["kind"] in ("anything", "list") or bool(c and c["auth"] == "none")

    def issued(a):
        body = a.json() if a.status == 200 else None
        return body if isinstance(body, dict) and isinstance(body.get("access_token"), str) else None

    def check(a):
        body = issued(a)
        if not body:
            return None
        if h["refuse"]:
            return f"a token for a DPoP proof the server must refuse ({h['kind']}{': ' + h['how'] if h['how'] else ''})"
        if h["kind"] == "none" and app["id"] in DPOP_APPS:
            return "a token without a DPoP proof from an app that requires one"
        if (bound_rt and bound_rt["public"] and sent_param(r, "refresh_token") == bound_rt["refresh"]
                and (h["kind"] == "none" or h["signer"].jkt != bound_rt["key"].jkt)):
            return "a public client's bound refresh token refreshed without a proof by its key"
        want = "Bearer" if h["kind"] == "none" else "DPoP"
        if body.get("token_type") != want:
            return f"token_type {body.get('token_type')!r} for a request {'without' if want == 'Bearer' else 'with'} a proof"
        return bound_token_problem(body["access_token"], h["signer"]) if want == "DPoP" else None
    r.check = check

    def after(a):
        body = issued(a)
        err = (a.json() or {}).get("error") if a.status == 400 and isinstance(a.json(), dict) else None
        if h["entry"]:
            h["entry"]["ok"] = a.status == 200
        if err == "invalid_dpop_proof":
            T.counts["DPoP token requests refused with invalid_dpop_proof"] += 1
        if bound_rt and (body or err == "invalid_grant" and "DPoP" not in str(a.json().get("error_description"))):
            if bound_rt in T.dpop_refresh:
                T.dpop_refresh.remove(bound_rt)  # spent (rotated), or dead
        if not body or body.get("token_type") != "DPoP":
            return
        # Whose token it is, as sent (a mutation may have changed the user or the grant).
        by = "admin" if sent_param(r, "username") == ADMIN_USER else "person" if who == "admin" else who
        T.keep(T.dpop, {"app": app["id"], "token": body["access_token"], "scope": str(body.get("scope", "")),
                        "key": h["signer"], "who": by})
        T.dpop_bound.add(token_hash(body["access_token"]))
        if len(T.dpop_bound) > 20000:
            T.dpop_bound = {token_hash(d["token"]) for d in T.dpop}
        T.counts[f"DPoP-bound tokens obtained ({sent_grant(r)})"] += 1
        if by == "admin":
            T.counts["DPoP-bound tokens obtained by the administrator"] += 1
        if bound_rt:
            T.counts["bound refresh tokens refreshed with their key"] += 1
        if h["kind"] == "broken":
            T.counts[f"DPoP proofs taken though changed ({h['how']})"] += 1
        if isinstance(body.get("refresh_token"), str):
            T.keep(T.dpop_refresh, {"app": app["id"], "refresh": body["refresh_token"], "key": h["signer"],
                                    "client_id": sent_client_id(r) or "", "public": public}, cap=20)
    r.after = after
    return r


DPOP_API_PATHS = ["/api/v1/apps", "/api/v1/users", "/api/v1/roles", "/api/v1/audit", "/api/v1/apps/{app}",
                  "/api/v1/apps/{app}/changelog", "/api/v1/apps/{app}/clients", "/api/v1/users/{id}",
                  "/api/v1/users/{id}/factors", "/api/v1/roles/{id}", "/api/v1/export"]
DPOP_MODES = {"valid": 45, "bearer": 9, "no proof": 6, "broken": 17, "another key": 7, "replay": 5,
              "another request": 6, "twice": 3}


def door_dpop_use():
    """A DPoP-bound token (mostly) on the admin API (GET or HEAD of a path its scope may or may
    not allow), at UserInfo (GET or POST) or at introspection: with the DPoP scheme and a valid
    proof by its key (its ath, for this method and URL), as a Bearer token, with no proof, a
    broken proof, another key's, one for another request, two; an earlier call taken with a
    valid proof sent again as it was (a replay); or an unbound token with the DPoP scheme. Only a
    valid proof by its key may get a bound token past the binding (anything else is 401, with
    DPoP's challenge when the binding refused it), an unbound one only as a Bearer token;
    introspection names the key (cnf.jkt) of a bound token only."""
    mode = rnd.choices(list(DPOP_MODES), list(DPOP_MODES.values()))[0]
    taken = [e for e in T.dpop_sent if e["ok"] and e.get("call")]
    if mode == "replay" and taken:
        return dpop_replay(rnd.choice(taken))
    where = rnd.choices(["api", "userinfo", "introspect"], [60, 30, 10])[0]
    # Mostly a token that can get somewhere: the administrator's on the API, one with openid at
    # UserInfo.
    fit = [e for e in T.dpop if (e["who"] == "admin" if where == "api" else "openid" in e["scope"].split())]
    pool = fit if fit and rnd.random() < (0.5 if where == "api" else 0.6 if where == "userinfo" else 0) else T.dpop
    d = pool[-1] if pool and rnd.random() < 0.3 else rnd.choice(pool) if pool else None
    unbound = [t for t in T.access if token_hash(t[1]) not in T.dpop_bound]
    if d and (rnd.random() < 0.85 or not unbound):
        tok, key, app = d["token"], d["key"], app_by_id(d["app"])
    else:
        d = None
        app_id, tok, _ = rnd.choice(unbound) if unbound else (None, token(54), "")
        key, app = rnd.choice(good_keys()), app_by_id(app_id)
    if where == "introspect":
        return dpop_introspect(d, tok, app)
    if where == "userinfo":
        method = rnd.choice(["GET", "GET", "POST"])
        target = app if app and rnd.random() < 0.9 else pick_app()
        path = f"/oauth2/userinfo/{app_segment(target)}"
        r = Req(f"{method} /oauth2/userinfo/{{app}} (DPoP)", method, path, target)
        base = path
    else:
        method = "GET" if rnd.random() < 0.9 else "HEAD"
        tmpl = rnd.choice(DPOP_API_PATHS)
        path = tmpl.replace("{app}", rnd.choice([a["id"] for a in T.apps] + ["fzx-1"])).replace(
            "{id}", rnd.choice(list(T.ids.values()) + ["00000000-0000-0000-0000-000000000000"]))
        r = Req(f"{method} {tmpl} (DPoP)", method, path)
        base = path
        if rnd.random() < 0.3:
            r.query([(k, rnd.choice(["0", "1", "5", "500"])) for k in rnd.sample(["limit", "offset"], rnd.randint(1, 2))])
    # The proof names the URL without its query, now and then with it (the server drops it).
    htu = URL + (r.path if rnd.random() < 0.1 else base)
    if mode == "replay":  # nothing taken yet to replay
        mode = "broken"
    scheme = rnd.choice(["DPoP "] * 8 + ["dpop ", "DPOP "]) if mode != "bearer" else rnd.choice(["Bearer "] * 4 + ["bearer "])
    r.headers["Authorization"] = scheme + tok
    # A bound token gets past the binding only with a valid proof by its key, an unbound one
    # only as a Bearer token.
    how, refuse, entry = None, mode != "valid" if d else mode != "bearer", None
    if mode == "valid":
        r.headers["DPoP"] = dpop_proof(key, method, htu, tok, nonce=token(22) if rnd.random() < 0.05 else None)
        entry = {"proof": r.headers["DPoP"], "htm": method, "htu": htu, "key": key, "ok": False, "ath": ath_of(tok)}
        T.keep(T.dpop_sent, entry, cap=30)
    elif mode == "bearer":
        if rnd.random() < 0.5:
            r.headers["DPoP"] = dpop_proof(key, method, htu, tok)
    elif mode == "broken":
        r.headers["DPoP"], how, sure, signer = broken_proof(key, method, htu, tok)
        refuse = bool(sure or signer.jkt != key.jkt) if d else True
    elif mode == "another key":
        r.headers["DPoP"] = dpop_proof(other_key(key), method, htu, tok)
    elif mode == "another request":
        other_path = rnd.choice([p for p in ("/api/v1/apps", "/api/v1/users", f"/oauth2/userinfo/{app_segment(app)}",
                                             f"/oauth2/token/{app_segment(app)}") if p != base])
        if rnd.random() < 0.5:
            how = "another URL"
            r.headers["DPoP"] = dpop_proof(key, method, URL + other_path, tok)
        else:
            how = "another method"
            r.headers["DPoP"] = dpop_proof(key, rnd.choice([m for m in ("GET", "POST", "PUT", "DELETE", "HEAD") if m != method]),
                                           htu, tok)
    elif mode == "twice" and URL.startswith("http://"):
        r.headers["DPoP"] = dpop_proof(key, method, htu, tok)
        r.extra.append(("DPoP", dpop_proof(key, method, htu, tok)))
    elif mode == "twice":
        mode, refuse = "no proof", True
    userinfo = where == "userinfo"
    api = "the admin API" if not userinfo else "UserInfo"

    r.check = lambda a: refusal_problem(a, refuse, d, not userinfo, mode + (f" ({how})" if how else ""))

    def after(a):
        if entry:
            entry["ok"] = past_binding(a, not userinfo)
            entry["call"] = (where, method, r.path, d)  # to replay as it was
        if refuse:
            T.counts[f"DPoP presentations refused on {api}"] += a.status == 401
            return
        if mode != "valid" or not d:
            return
        if past_binding(a, not userinfo):
            T.counts[f"DPoP calls accepted on {api}"] += 1
            T.counts[f"DPoP calls accepted on {api} ({a.status})"] += 1
        elif a.status == 401:
            T.counts[f"DPoP calls with a valid proof refused on {api} ({challenge_of(a)[1][:60].replace(',', '')})"] += 1
    r.after = after
    return r


def dpop_replay(e):
    """An earlier call on the admin API or at UserInfo that got past the binding with a valid
    proof, sent again as it was: the proof's jti is spent, so it must be refused."""
    where, method, path, d = e["call"]
    userinfo = where == "userinfo"
    tmpl = re.sub(r"/api/v1/(apps|users|roles)/[^/?]+", lambda m: f"/api/v1/{m.group(1)}/{{{'app' if m.group(1) == 'apps' else 'id'}}}",
                  path.split("?")[0])
    door = f"{method} /oauth2/userinfo/{{app}} (DPoP)" if userinfo else f"{method} {tmpl} (DPoP)"
    r = Req(door, method, path, app_by_id(path.rsplit("/", 1)[1]) if userinfo else None)
    r.headers["Authorization"] = "DPoP " + (d["token"] if d else "")
    r.headers["DPoP"] = e["proof"]
    r.check = lambda a: refusal_problem(a, True, d, not userinfo, "replay (the same call again)")
    r.after = lambda a: T.counts.update([f"DPoP replays refused on {'UserInfo' if userinfo else 'the admin API'}"]
                                        if a.status == 401 else [])
    return r


def challenge_of(a):
    """The scheme of an answer's WWW-Authenticate and its error_description."""
    ch = (a.headers.get("WWW-Authenticate") if a.headers else None) or ""
    m = re.search(r'error_description="([^"]*)"', ch)
    return ch.split(" ", 1)[0], (m.group(1) if m else "")


def refusal_problem(a, refuse, d, api, what):
    """What is wrong with the answer to a presentation the server must refuse (`refuse`): a
    bound token (`d`) or an unbound one past the binding; a bound one refused for its binding
    (invalid_dpop_proof, or a proof needed) with Bearer's challenge rather than DPoP's."""
    if not refuse:
        return None
    if past_binding(a, api):
        return (f"{'a bound' if d else 'an unbound'} token ({d['who'] + ', ' + d['app'] if d else 'with the DPoP scheme'}) "
                f"not refused on {'the admin API' if api else 'UserInfo'}: {what}")
    scheme, why = challenge_of(a)
    binding = "invalid_dpop_proof" in (a.headers.get("WWW-Authenticate", "") if a.headers else "") or "DPoP-bound: send" in why
    if d and a.status == 401 and binding and scheme != "DPoP":
        return f"a bound token refused for its binding with {scheme or 'no'} challenge: {what}"
    return None


def past_binding(a, api):
    """Whether an answer on the admin API (`api`) or at UserInfo came from past the token's
    binding: a success, a refusal for scope or rights (403), an API object not found (a 404 with
    an error body; the paths the DPoP door names all have a route). The binding's refusals are
    401; a 400 without a body is the server refusing a mangled header before any of that."""
    if a.status < 400 or a.status == 403:
        return True
    return api and a.status == 404 and isinstance(a.json(), dict)


def dpop_introspect(d, tok, app):
    """POST /oauth2/introspect/{app} of a bound (or unbound) token by the confidential client:
    an active bound token is token_type DPoP with cnf.jkt its key's thumbprint; an unbound one
    Bearer without cnf."""
    app = app if app and rnd.random() < 0.9 else pick_app()
    r = Req("POST /oauth2/introspect/{app} (DPoP-bound token)" if d else "POST /oauth2/introspect/{app} (unbound token)",
            "POST", f"/oauth2/introspect/{app_segment(app)}", app)
    r.fixed_share = 0.05
    ps = [("token", tok)]
    if rnd.random() < 0.2:
        ps.append(("token_type_hint", "access_token"))
    right_client_auth(ps, r.headers)
    r.form(ps, kinds=(1.0, 1.0))

    def check(a):
        j = a.json() if a.status == 200 else None
        if not isinstance(j, dict) or j.get("active") is not True:
            return None
        cnf = j.get("cnf")
        if d and (j.get("token_type") != "DPoP" or not isinstance(cnf, dict) or cnf.get("jkt") != d["key"].jkt):
            return f"introspection of a bound token: token_type {j.get('token_type')!r}, cnf {cnf!r} (key {d['key'].jkt})"
        if not d and (j.get("token_type") != "Bearer" or cnf is not None):
            return f"introspection of an unbound token: token_type {j.get('token_type')!r}, cnf {cnf!r}"
        return None
    r.check = check
    r.after = lambda a: T.counts.update(["bound tokens introspected (active)"] if d and a.status == 200 and (
        a.json() or {}).get("active") is True else [])
    return r


DOORS = [(16, door_authorize), (8, door_consent), (18, door_token), (8, door_introspect_revoke),
         (5, door_userinfo), (5, door_public), (6, door_logout), (3, door_withdraw), (8, door_page),
         (3, door_app_form), (10, door_sfn), (7, door_admin_api), (2, door_odd_method),
         (6, door_register), (4, door_register_manage), (6, door_reg_token), (5, door_admin_clients),
         # The newer doors: about a fifth of the requests together.
         (3, door_device), (3, door_device_token), (3, door_device_page), (4, door_par),
         (3, door_par_authorize), (3, door_security_page), (2, door_security_form), (3, door_second_step),
         (2, door_passkeys), (1, door_admin_factors), (3, door_cimd),
         # DPoP (RFC 9449): token requests with proofs, and the bound tokens they got in use.
         (3, door_dpop_token), (3, door_dpop_use)]


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
    factors = re.match(r"^/api/v1/users/([^/]+)/factors$", path)
    if factors:  # anybody's second factors may be reset, but the administrator's own
        return urllib.parse.unquote(factors.group(1)).strip().lower() in (T.ids.get(ADMIN_USER.lower(), "").lower(),
                                                                          ADMIN_USER.lower())
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
    r.unsent = not keep_documents_local(r)
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
        if loc.startswith("/login") and not loc.startswith("/login/second"):
            return f"{st} to login"
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query + "&" + urllib.parse.urlsplit(loc).fragment)
        if "error" in q:
            return f"{st} error={q['error'][0][:30]}"
        if "done" in q:
            return f"{st} done={q['done'][0][:20]}"
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
        return "200 form" + (" (consent/sign-out)" if "/oauth2/" in r.door else "")
    if st == 404 and "{app}" in r.door and not r.app and "/api/" not in r.door:
        return "404 unknown app"
    return str(st)


def sent_param(r, name):
    """The value of `name` a request's body sent (form or JSON), or None."""
    try:
        if r.headers.get("Content-Type") == "application/json":
            return json.loads(r.data).get(name)
        return urllib.parse.parse_qs((r.data or b"").decode()).get(name, [None])[0]
    except (ValueError, AttributeError, TypeError, RecursionError):
        return None


def sent_grant(r):
    """The grant_type a token request sent (a mutation may have changed the intended one)."""
    g = sent_param(r, "grant_type")
    return str(g)[:40] if g is not None else "?"


def sent_client_id(r):
    """The client a request authenticated as: the Basic user, else its client_id parameter."""
    auth = r.headers.get("Authorization", "")
    if auth.startswith("Basic "):
        try:
            return urllib.parse.unquote(base64.b64decode(auth[6:], validate=True).decode().partition(":")[0])
        except (ValueError, UnicodeDecodeError):
            return None
    v = sent_param(r, "client_id")
    return v if isinstance(v, str) else None


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
                     if k in ("Content-Type", "Origin", "Referer", "Authorization", "Accept", "DPoP"))
    hdrs += "".join(f", {k} (again): {v[:60]!r}" for k, v in r.extra)
    who = ("admin session" if r.cookie == T.admin_cookie else "second-factor person's session"
           if r.cookie in T.factor_cookies else "person session") if r.cookie else "no session"
    if "Cookie" in r.headers and not r.plain_cookie:
        who += f"; Cookie: {r.headers['Cookie'][:80]!r}"
    return (f"seed={SEED} request #{seq}: {r.method} {r.path[:200]!r} [{who}; from {source or 'default'}]"
            f"\n      headers: {hdrs or '-'}\n      body: {shorten(r.data)}")


RESOURCE_PARAM = re.compile(rb'[?&]resource=|"resource"\s*:')


def main():
    print(f"fuzz_http: seed {SEED} (replay: FUZZ_SEED={SEED} tools/fuzz-venv/bin/python scripts/fuzz_http.py "
          f"{URL} {SECONDS:g})",
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
                                 "client": 0, "resource": 0, "live": 0, "out": Counter()})
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
        if r.unsent:
            T.counts["requests not sent (a client id outside CIMD_HOSTS)"] += 1
            continue
        LAST_REQUEST[0] = f"request #{seq}: {r.method} {r.path[:80]!r}"
        try:
            a = send(r.method, r.path, r.data, r.headers, source, r.extra)
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
        s["live"] += r.live
        s["resource"] += bool(RESOURCE_PARAM.search(r.path.encode(errors="replace") + b"&" + (r.data or b"")))
        harvest(r, a)
        if r.after:
            r.after(a)
        if a.status >= 500:
            msg = f"FAIL {describe(r, seq, source)}\n      → {a.status}: {shorten(a.body, 300)}"
            print(msg, flush=True)
            bad.append(msg)
        wrong = r.check(a) if r.check and a.status < 500 else None
        if wrong:
            challenge = a.headers.get("WWW-Authenticate") if a.headers else None
            msg = (f"FAIL {describe(r, seq, source)}\n      → wrong answer ({wrong}): {a.status}"
                   f"{f' [WWW-Authenticate: {challenge[:160]!r}]' if challenge else ''}: {shorten(a.body, 300)}")
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
          " [naming a real registered client; with a resource parameter; with a live device code, user"
          " code or request URI, or a right second-factor code]")
    for door in sorted(stats):
        s = stats[door]
        outs = ", ".join(f"{k}:{v}" for k, v in s["out"].most_common(7))
        extra = "; ".join(f"{what} {s[k]}" for k, what in (("client", "registered client"), ("resource", "resource"),
                                                           ("live", "live code or URI")) if s[k])
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
