// OpenID Connect as a real relying party sees it: `openid-client` (the OpenID-certified
// library from npm) discovers each app, runs code + PKCE with `openid profile email` while the
// person signs in through the hosted page in Chromium, validates the ID token (signature
// against the JWKS, nonce, issuer, audience), calls UserInfo, refreshes, and logs out; then
// `prompt=none` answers `login_required`. Once per signing algorithm. A private_key_jwt client
// gets tokens, and the same assertion sent again is refused.
const { test, expect } = require("@playwright/test");
const http = require("node:http");
const crypto = require("node:crypto");
const { signIn, hydrated, unique } = require("./helpers");

let target;
let targetPort;

test.beforeAll(async () => {
  target = http.createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/html" });
    res.end("<!DOCTYPE html><title>Relying party</title><h1>Relying party</h1>");
  });
  await new Promise((r) => target.listen(0, "127.0.0.1", r));
  targetPort = target.address().port;
});

test.afterAll(async () => {
  await new Promise((r) => target.close(r));
});

const PERSON = { login: unique("oidc-person"), password: "oidc-person-password-1", name: "Olive Dale" };
const RP = { login: unique("oidc-rp"), secret: "oidc-rp-secret-0123" };
const ROLE = unique("OIDC People");
const ALGS = [
  { tokenType: "jwt_rs256", alg: "RS256", app: unique("oidc-rs") },
  { tokenType: "jwt_es256", alg: "ES256", app: unique("oidc-es") },
  { tokenType: "jwt_eddsa", alg: "EdDSA", app: unique("oidc-ed") },
];
let roleId;

/** An admin API call with the signed-in page's session. */
async function api(page, method, path, data) {
  const res = await page.request.fetch(path, { method, data, headers: { Origin: new URL(page.url()).origin } });
  expect(res.ok(), `${method} ${path}: ${await res.text()}`).toBeTruthy();
  return res.status() === 204 ? null : res.json();
}

async function setup(page) {
  await signIn(page);
  const role = await api(page, "POST", "/api/v1/roles", { name: ROLE });
  roleId = role.id;
  const person = await api(page, "POST", "/api/v1/users", {
    login_name: PERSON.login, email: `${PERSON.login}@example.com`, display_name: PERSON.name, password: PERSON.password,
  });
  const rp = await api(page, "POST", "/api/v1/users", {
    login_name: RP.login, email: `${RP.login}@example.com`, password: RP.secret, is_oauth_confidential_client: true,
  });
  for (const u of [person, rp]) await api(page, "PUT", `/api/v1/roles/${role.id}/members/${u.id}`);
  for (const a of ALGS) {
    await api(page, "POST", "/api/v1/apps", {
      app_id: a.app, name: `OIDC ${a.alg}`, client_id_type: "confidential", token_type: a.tokenType,
      auth_methods: ["authorization_code"], issue_refresh_tokens: true,
      redirect_uris: [`http://127.0.0.1:${targetPort}/cb`],
      post_logout_redirect_uris: [`http://127.0.0.1:${targetPort}/bye`],
      user_access_roles: [ROLE],
    });
  }
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login/);
}

// What every test here needs, made once per worker (a failed test restarts the worker, which
// runs this again with new names): no test depends on another having run first.
test.beforeAll(async ({ browser }) => {
  const page = await browser.newPage();
  await setup(page);
  await page.close();
});

/** The left half of the token's hash with the ID token algorithm's hash, base64url. */
function halfHash(alg, token) {
  const d = crypto.createHash(alg === "EdDSA" ? "sha512" : "sha256").update(token).digest();
  return d.subarray(0, d.length / 2).toString("base64url");
}

for (const a of ALGS) {
  test(`openid-client signs in, validates the ${a.alg} ID token, reads UserInfo, refreshes and logs out`, async ({ page, baseURL }) => {
    const client = await import("openid-client");
    const config = await client.discovery(new URL(`${baseURL}/oauth2/${a.app}`), RP.login, RP.secret, undefined, {
      execute: [client.allowInsecureRequests],
    });
    // Validate ID token signatures against the JWKS (openid-client skips it by default for
    // tokens that came straight from the token endpoint).
    client.enableNonRepudiationChecks(config);
    const meta = config.serverMetadata();
    expect(meta.id_token_signing_alg_values_supported).toEqual([a.alg]);

    const verifier = client.randomPKCECodeVerifier();
    const nonce = client.randomNonce();
    const state = client.randomState();
    const redirect_uri = `http://127.0.0.1:${targetPort}/cb`;
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri, scope: "openid profile email", nonce, state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256",
      login_hint: PERSON.login,
    });
    await page.goto(url.href);
    await expect(page).toHaveURL(/\/login/);
    await expect(page.getByLabel("Login Name")).toHaveValue(PERSON.login);
    await page.getByLabel("Password").fill(PERSON.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(new RegExp(`^http://127\\.0\\.0\\.1:${targetPort}/cb\\?`));

    const tokens = await client.authorizationCodeGrant(config, new URL(page.url()), {
      pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true,
    });
    const header = JSON.parse(Buffer.from(tokens.id_token.split(".")[0], "base64url").toString());
    expect(header.alg).toBe(a.alg);
    const claims = tokens.claims();
    expect(claims.iss).toBe(`${baseURL}/oauth2/${a.app}`);
    expect(claims.aud).toBe(RP.login);
    expect(claims.nonce).toBe(nonce);
    expect(claims.at_hash).toBe(halfHash(a.alg, tokens.access_token));
    expect(claims.name).toBe(PERSON.name);
    expect(claims.preferred_username).toBe(PERSON.login);
    expect(claims.email).toBe(`${PERSON.login}@example.com`);
    expect(typeof claims.auth_time).toBe("number");

    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(info).toMatchObject({ sub: claims.sub, name: PERSON.name, email: `${PERSON.login}@example.com` });

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.claims().sub).toBe(claims.sub);
    expect(refreshed.claims().auth_time).toBe(claims.auth_time);

    const logout = client.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token, post_logout_redirect_uri: `http://127.0.0.1:${targetPort}/bye`, state: "bye-state",
    });
    await page.goto(logout.href);
    await page.waitForURL(`http://127.0.0.1:${targetPort}/bye?state=bye-state`);

    // Signed out: a silent request cannot sign in again.
    const silent = client.buildAuthorizationUrl(config, {
      redirect_uri, scope: "openid", nonce: client.randomNonce(), state: "silent", prompt: "none",
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: "S256",
    });
    await page.goto(silent.href);
    await page.waitForURL(/\/cb\?/);
    const back = new URL(page.url());
    expect(back.searchParams.get("error")).toBe("login_required");
    expect(back.searchParams.get("state")).toBe("silent");
  });
}

test("a private_key_jwt client gets tokens, and a replayed assertion is refused", async ({ page, baseURL }) => {
  await signIn(page);
  const { publicKey, privateKey } = await crypto.webcrypto.subtle.generateKey(
    { name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const jwk = { ...(await crypto.webcrypto.subtle.exportKey("jwk", publicKey)), kid: "rp-key-1", alg: "ES256", use: "sig" };
  delete jwk.key_ops;
  delete jwk.ext;
  const login = unique("pkjwt");
  const user = await api(page, "POST", "/api/v1/users", {
    login_name: login, email: `${login}@example.com`, password: "pkjwt-unused-secret-1",
    is_oauth_confidential_client: true, jwks: { keys: [jwk] },
  });
  await api(page, "PUT", `/api/v1/roles/${roleId}/members/${user.id}`);
  const appId = unique("pkjwt-app");
  await api(page, "POST", "/api/v1/apps", {
    app_id: appId, name: "PKJWT", auth_methods: ["client_credentials"], token_type: "jwt_eddsa",
    scopes: [{ name: "api" }], user_access_roles: [ROLE],
  });

  const client = await import("openid-client");
  let tokenRequest;
  const config = await client.discovery(new URL(`${baseURL}/oauth2/${appId}`), login, undefined,
    client.PrivateKeyJwt({ key: privateKey, kid: "rp-key-1" }), { execute: [client.allowInsecureRequests] });
  config[client.customFetch] = async (url, options) => {
    if (String(url).includes("/oauth2/token/")) tokenRequest = options.body.toString();
    return fetch(url, options);
  };
  const tokens = await client.clientCredentialsGrant(config, { scope: "api" });
  expect(tokens.token_type.toLowerCase()).toBe("bearer");
  expect(tokens.scope).toBe("api");
  expect(new URLSearchParams(tokenRequest).get("client_assertion_type")).toBe("urn:ietf:params:oauth:client-assertion-type:jwt-bearer");

  // The same assertion again (a replay): invalid_client.
  const replay = await fetch(`${baseURL}/oauth2/token/${appId}`, {
    method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: tokenRequest,
  });
  expect(replay.status).toBe(401);
  expect((await replay.json()).error).toBe("invalid_client");
});

test("an administrator picks ES256 and a post-logout redirect for an app, and a client's public keys", async ({ page }) => {
  const appId = unique("oidc-portal");
  await signIn(page, undefined, undefined, "/admin/apps");
  await page.getByRole("link", { name: "Add app" }).click();
  await expect(page).toHaveURL(/\/admin\/apps\/new$/);
  await hydrated(page);
  await page.getByLabel("Application ID").fill(appId);
  await page.getByLabel("Application Name").fill("OIDC portal app");
  await page.getByRole("radio", { name: "JwtES256 (ECDSA P-256)" }).check();
  await page.getByRole("button", { name: "Add post-logout redirect URI" }).click();
  const uri = page.getByLabel("Post-logout redirect URI 1", { exact: true });
  await uri.fill("not a uri");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Please correct the errors above.")).toBeVisible();
  await uri.fill("https://rp.example/signed-out");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page).toHaveURL(new RegExp(`/admin/apps/${appId}\\?saved=created$`));
  await page.reload();
  await hydrated(page);
  await expect(page.getByRole("radio", { name: "JwtES256 (ECDSA P-256)" })).toBeChecked();
  await expect(page.getByLabel("Post-logout redirect URI 1", { exact: true })).toHaveValue("https://rp.example/signed-out");
  const saved = await (await page.request.get(`/api/v1/apps/${appId}`)).json();
  expect(saved.token_type).toBe("jwt_es256");
  expect(saved.post_logout_redirect_uris).toEqual(["https://rp.example/signed-out"]);

  // A confidential client's public keys, pasted as a JWK set.
  const { publicKey } = await crypto.webcrypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
  const jwk = { ...(await crypto.webcrypto.subtle.exportKey("jwk", publicKey)), kid: "portal-key" };
  delete jwk.key_ops;
  delete jwk.ext;
  const login = unique("portal-rp");
  await page.goto("/admin/users/new?confidential=1");
  await hydrated(page);
  await page.getByLabel("Login Name").fill(login);
  await page.getByLabel("Email Address").fill(`${login}@example.com`);
  await page.getByLabel("Password", { exact: true }).fill("portal-rp-secret-1");
  await page.getByLabel("Confirm Password").fill("portal-rp-secret-1");
  const keys = page.getByLabel("Public keys (JWK Set, for private_key_jwt)");
  await keys.fill(JSON.stringify({ keys: [{ ...jwk, d: "c2VjcmV0" }] }));
  await page.getByRole("button", { name: "Create user" }).click();
  await expect(page.getByText(/only public keys belong here/)).toBeVisible();
  await keys.fill(JSON.stringify({ keys: [jwk] }));
  await page.getByRole("button", { name: "Create user" }).click();
  await expect(page).toHaveURL(/\/admin\/users\/[0-9a-f-]+\?saved=created$/);
  await page.reload();
  await hydrated(page);
  await expect(page.getByLabel("Public keys (JWK Set, for private_key_jwt)")).toHaveValue(/portal-key/);
});
