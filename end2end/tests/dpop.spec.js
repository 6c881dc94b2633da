// DPoP (RFC 9449) and token exchange (RFC 8693) as certified client libraries send them.
// openid-client (OpenID-certified, on oauth4webapi) makes its own key pair, gets a DPoP-bound
// token by client credentials and calls Gatehouse's admin API with it (fetchProtectedResource
// signs a proof with ath for each call); the same token as a plain Bearer token, with a proof by
// another key, and a replayed proof are refused. Then a client exchanges a person's token
// (genericGrantRequest) and a resource server introspects what it got (tokenIntrospection).
const { test, expect } = require("@playwright/test");
const { signIn, unique } = require("./helpers");

const CLIENT = { login: unique("dpop-client"), secret: "dpop-client-secret-0123" };
const RESOURCE = { login: unique("dpop-rs"), secret: "dpop-rs-secret-0123456" };
const PERSON = { login: unique("dpop-person"), password: "dpop-person-password-1" };
const ROLE = unique("DPoP Clients");
const APP = unique("dpop-app");
const TE = "urn:ietf:params:oauth:grant-type:token-exchange";
const AT = "urn:ietf:params:oauth:token-type:access_token";

test.beforeAll(async ({ browser }) => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await signIn(page);
  const origin = new URL(page.url()).origin;
  const api = async (method, path, data) => {
    const res = await page.request.fetch(path, { method, data, headers: { Origin: origin } });
    expect(res.ok(), `${method} ${path}: ${await res.text()}`).toBeTruthy();
    return res.status() === 204 ? null : res.json();
  };
  // The clients may read users on the admin API (the users right); the person may use the app.
  const role = await api("POST", "/api/v1/roles", { name: ROLE, admin_rights: ["users"] });
  const made = [];
  for (const c of [CLIENT, RESOURCE]) {
    made.push(await api("POST", "/api/v1/users", {
      login_name: c.login, email: `${c.login}@example.com`, password: c.secret, is_oauth_confidential_client: true,
    }));
  }
  made.push(await api("POST", "/api/v1/users", {
    login_name: PERSON.login, email: `${PERSON.login}@example.com`, password: PERSON.password,
  }));
  for (const u of made) await api("PUT", `/api/v1/roles/${role.id}/members/${u.id}`);
  await api("POST", "/api/v1/apps", {
    app_id: APP, name: "DPoP App", client_id_type: "confidential", token_type: "jwt_es256",
    auth_methods: ["client_credentials", "password", "token_exchange"],
    scopes: [
      { name: "users", description: "Read users", rest_regexes: ["api/v1/users(/.*)?"] },
      { name: "read", description: "Read things" },
    ],
    user_access_roles: [ROLE],
  });
  await ctx.close();
});

async function configure(baseURL, who) {
  const client = await import("openid-client");
  const config = await client.discovery(
    new URL(`${baseURL}/oauth2/${APP}`), who.login, who.secret, client.ClientSecretBasic(),
    { execute: [client.allowInsecureRequests] },
  );
  return { client, config };
}

test("openid-client's DPoP-bound token works on the admin API only with its own fresh proofs", async ({ baseURL }) => {
  const { client, config } = await configure(baseURL, CLIENT);
  expect(config.serverMetadata().dpop_signing_alg_values_supported).toEqual(["ES256", "EdDSA", "RS256"]);
  // Every proof openid-client sends, as it went out.
  const sent = [];
  config[client.customFetch] = (url, options) => {
    const proof = new Headers(options.headers).get("dpop");
    if (proof) sent.push({ url: String(url), proof });
    return fetch(url, options);
  };
  const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair("ES256"));
  const tokens = await client.clientCredentialsGrant(config, { scope: "users" }, { DPoP });
  expect(tokens.token_type.toLowerCase()).toBe("dpop");
  const claims = JSON.parse(Buffer.from(tokens.access_token.split(".")[1], "base64url").toString());
  expect(claims.cnf.jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);

  const users = new URL(`${baseURL}/api/v1/users`);
  const res = await client.fetchProtectedResource(config, tokens.access_token, users, "GET", null, undefined, { DPoP });
  expect(res.status).toBe(200);
  expect((await res.json()).items.some((u) => u.login_name === CLIENT.login)).toBe(true);
  const proof = sent.filter((s) => s.url === users.href).at(-1).proof;
  const header = JSON.parse(Buffer.from(proof.split(".")[0], "base64url").toString());
  expect(header).toMatchObject({ typ: "dpop+jwt", alg: "ES256" });

  // As a plain Bearer token: refused, and the challenge says DPoP.
  const bearer = await fetch(users, { headers: { Authorization: `Bearer ${tokens.access_token}` } });
  expect(bearer.status).toBe(401);
  expect(bearer.headers.get("www-authenticate")).toMatch(/^DPoP /);
  // With a proof by another key.
  const other = client.getDPoPHandle(config, await client.randomDPoPKeyPair("ES256"));
  let status;
  try {
    status = (await client.fetchProtectedResource(config, tokens.access_token, users, "GET", null, undefined, { DPoP: other })).status;
  } catch (e) {
    status = e.response?.status ?? e.cause?.status;
  }
  expect(status).toBe(401);
  // The proof that was accepted, sent again.
  const replay = await fetch(users, { headers: { Authorization: `DPoP ${tokens.access_token}`, DPoP: proof } });
  expect(replay.status).toBe(401);
  expect(replay.headers.get("www-authenticate")).toContain('error="invalid_dpop_proof"');
  expect((await replay.json()).message).toContain("replay");
});

test("openid-client exchanges a person's token and a resource server introspects the result", async ({ baseURL }) => {
  const { client, config } = await configure(baseURL, CLIENT);
  const person = await client.genericGrantRequest(config, "password", {
    username: PERSON.login, password: PERSON.password, scope: "read users",
  });
  const exchanged = await client.genericGrantRequest(config, TE, {
    subject_token: person.access_token, subject_token_type: AT, scope: "read",
  });
  expect(exchanged.issued_token_type).toBe(AT);
  expect(exchanged.scope).toBe("read");
  const rs = await configure(baseURL, RESOURCE);
  const info = await rs.client.tokenIntrospection(rs.config, exchanged.access_token);
  expect(info).toMatchObject({ active: true, scope: "read", username: PERSON.login, act: { sub: CLIENT.login } });
  // The original token is still the person's own, with both scopes and no actor.
  const original = await rs.client.tokenIntrospection(rs.config, person.access_token);
  expect(original).toMatchObject({ active: true, scope: "read users" });
  expect(original.act).toBeUndefined();
});
