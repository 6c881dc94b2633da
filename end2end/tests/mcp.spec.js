// Gatehouse as the authorization server of an MCP server, as the official MCP SDK
// (`@modelcontextprotocol/sdk`) sees it. The test process runs a small MCP server built with
// the SDK's server side (McpServer, Streamable HTTP, bearer auth, RFC 9728 metadata naming the
// Gatehouse app's issuer) that verifies Gatehouse's JWT access tokens itself: signature against
// the JWKS, `iss`, `exp`, and `aud` equal to its own URL. The SDK's client then does everything
// it does for real: on the 401 it discovers the protected resource and Gatehouse, registers
// itself (RFC 7591), sends the person through Gatehouse's hosted login page in Chromium with
// PKCE and `resource` (RFC 8707), exchanges the code, calls a tool, and refreshes. Tokens for
// another audience are refused; so is an unregistered redirect URI. Finally openid-client
// registers itself dynamically and runs code + PKCE against the same app. The last test
// check that error redirects name the issuer (RFC 9207).
const { test, expect } = require("@playwright/test");
const http = require("node:http");
const crypto = require("node:crypto");
const { Client } = require("@modelcontextprotocol/sdk/client/index.js");
const { StreamableHTTPClientTransport } = require("@modelcontextprotocol/sdk/client/streamableHttp.js");
const sdkAuth = require("@modelcontextprotocol/sdk/client/auth.js");
const { McpServer } = require("@modelcontextprotocol/sdk/server/mcp.js");
const { StreamableHTTPServerTransport } = require("@modelcontextprotocol/sdk/server/streamableHttp.js");
const { createMcpExpressApp } = require("@modelcontextprotocol/sdk/server/express.js");
const { mcpAuthMetadataRouter, getOAuthProtectedResourceMetadataUrl } = require("@modelcontextprotocol/sdk/server/auth/router.js");
const { requireBearerAuth } = require("@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js");
const { InvalidTokenError } = require("@modelcontextprotocol/sdk/server/auth/errors.js");
const { signIn, unique } = require("./helpers");

const APP = unique("mcp");
const ROLE = unique("MCP People");
const PERSON = { login: unique("mcp-person"), password: "mcp-person-password-1" };
// A second resource the app lists: tokens for it are valid Gatehouse tokens, but not for the MCP server.
const OTHER_RESOURCE = "https://other-tools.example/mcp";

let mcpServer; // the MCP server (node http server around an express app from the SDK)
let mcpUrl; // its URL, which is also its resource identifier
let prmUrl; // its RFC 9728 protected resource metadata
let callback; // the loopback "native app" the client redirects to
let callbackBase; // http://127.0.0.1:<port>
let issuer;
let asMetadata; // Gatehouse's RFC 8414 metadata of the app
let personId;
const mcpLog = []; // what the MCP server refused, and why

/** An admin API call with the signed-in page's session. */
async function api(page, method, path, data) {
  const res = await page.request.fetch(path, { method, data, headers: { Origin: new URL(page.url()).origin } });
  expect(res.ok(), `${method} ${path}: ${await res.text()}`).toBeTruthy();
  return res.status() === 204 ? null : res.json();
}

const sha256 = (s) => crypto.createHash("sha256").update(s).digest("base64url");

/** The MCP server's token check: a Gatehouse JWT for this server and nothing else. */
function gatehouseVerifier(jose) {
  const jwks = jose.createRemoteJWKSet(new URL(asMetadata.jwks_uri));
  return {
    async verifyAccessToken(token) {
      try {
        const { payload } = await jose.jwtVerify(token, jwks, {
          issuer, audience: mcpUrl, typ: "at+jwt", algorithms: ["RS256"], requiredClaims: ["exp", "sub"],
        });
        return {
          token,
          clientId: payload.client_id,
          scopes: String(payload.scope || "").split(" ").filter(Boolean),
          expiresAt: payload.exp,
          // jwtVerify checked that `aud` is (or contains) this server's URL.
          resource: new URL(mcpUrl),
          extra: { sub: payload.sub, aud: payload.aud, username: payload.username },
        };
      } catch (e) {
        mcpLog.push(`${e.code || e.name}: ${e.message}`);
        throw new InvalidTokenError(e.message);
      }
    },
  };
}

/** The MCP server: stateless Streamable HTTP, one tool that tells who called it. */
function mcpApp(jose) {
  const app = createMcpExpressApp({ host: "127.0.0.1" });
  app.use(mcpAuthMetadataRouter({
    oauthMetadata: asMetadata, resourceServerUrl: new URL(mcpUrl), scopesSupported: ["tools"], resourceName: "Gatehouse e2e tools",
  }));
  const bearer = requireBearerAuth({
    verifier: gatehouseVerifier(jose), requiredScopes: ["tools"], resourceMetadataUrl: prmUrl, expectedResource: new URL(mcpUrl),
  });
  app.post("/mcp", bearer, async (req, res) => {
    const server = new McpServer({ name: "gatehouse-e2e-tools", version: "1.0.0" });
    server.registerTool("whoami", { description: "Who is calling, according to the access token" }, async (extra) => {
      const a = extra.authInfo;
      const who = { sub: a.extra.sub, client_id: a.clientId, aud: a.extra.aud, scopes: a.scopes, token_sha256: sha256(a.token) };
      return { content: [{ type: "text", text: JSON.stringify(who) }] };
    });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on("close", () => { transport.close(); server.close(); });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  // Stateless: no server-initiated stream, no session to delete.
  app.all("/mcp", bearer, (req, res) => res.status(405).set("Allow", "POST").json({ error: "method not allowed" }));
  return app;
}

async function listen(server) {
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return server.address().port;
}

test.beforeAll(async ({ browser, baseURL }) => {
  const jose = await import("jose");
  callback = http.createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/html" });
    res.end("<!DOCTYPE html><title>MCP client</title><h1>Signed in, you may close this window</h1>");
  });
  callbackBase = `http://127.0.0.1:${await listen(callback)}`;

  // The MCP server listens first: its URL is the resource the Gatehouse app must list.
  let handler = (req, res) => { res.writeHead(503); res.end(); };
  mcpServer = http.createServer((req, res) => handler(req, res));
  mcpUrl = `http://127.0.0.1:${await listen(mcpServer)}/mcp`;
  prmUrl = getOAuthProtectedResourceMetadataUrl(new URL(mcpUrl));

  const page = await browser.newPage();
  await signIn(page);
  const role = await api(page, "POST", "/api/v1/roles", { name: ROLE });
  const person = await api(page, "POST", "/api/v1/users", {
    login_name: PERSON.login, email: `${PERSON.login}@example.com`, password: PERSON.password,
  });
  personId = person.id;
  await api(page, "PUT", `/api/v1/roles/${role.id}/members/${person.id}`);
  const app = await api(page, "POST", "/api/v1/apps", {
    app_id: APP, name: "MCP tools", client_id_type: "registered", client_registration: "open",
    token_type: "jwt_rs256", auth_methods: ["authorization_code"], issue_refresh_tokens: true,
    scopes: [{ name: "tools", description: "Call tools" }], user_access_roles: [ROLE],
    resources: [mcpUrl, OTHER_RESOURCE],
  });
  expect(app.resources).toEqual([mcpUrl, OTHER_RESOURCE]);
  await page.close();

  issuer = `${baseURL}/oauth2/${APP}`;
  const res = await fetch(`${baseURL}/.well-known/oauth-authorization-server/oauth2/${APP}`);
  expect(res.status).toBe(200);
  asMetadata = await res.json();
  expect(asMetadata.issuer).toBe(issuer);
  handler = mcpApp(jose);
});

test.afterAll(async () => {
  for (const s of [mcpServer, callback]) {
    if (!s) continue;
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** Signs the person in on Gatehouse's hosted login page if it shows, and waits for the callback. */
async function signInAndReturn(page, url) {
  await page.goto(url);
  if (new URL(page.url()).pathname === "/login") {
    await page.getByLabel("Login Name").fill(PERSON.login);
    await page.getByLabel("Password").fill(PERSON.password);
    await page.getByRole("button", { name: "Sign in" }).click();
  }
  await page.waitForURL((u) => u.origin === callbackBase && u.pathname === "/callback");
  return new URL(page.url());
}

/** An in-memory OAuthClientProvider whose "browser" is Playwright's page. */
class PlaywrightProvider {
  constructor(page) {
    this.page = page;
    this.authorizationUrls = [];
    this.callbacks = [];
    this.savedTokens = [];
    this._state = undefined;
  }
  get redirectUrl() { return `${callbackBase}/callback`; }
  get clientMetadata() {
    return {
      client_name: "Gatehouse e2e MCP client",
      redirect_uris: [this.redirectUrl],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  state() { this._state = crypto.randomBytes(16).toString("base64url"); return this._state; }
  clientInformation() { return this._client; }
  saveClientInformation(info) { this._client = info; }
  tokens() { return this._tokens; }
  saveTokens(tokens) { this._tokens = tokens; this.savedTokens.push(tokens); }
  saveCodeVerifier(v) { this._verifier = v; }
  codeVerifier() { return this._verifier; }
  async redirectToAuthorization(url) {
    this.authorizationUrls.push(url);
    const back = await signInAndReturn(this.page, url.href);
    this.callbacks.push({ url: back, expectedState: this._state });
  }
}

/** The transport's fetch, recording what the SDK asked of whom (and Gatehouse's answers). */
function recordingFetch(log) {
  return async (url, init = {}) => {
    const body = init.body === undefined ? undefined : String(init.body);
    const res = await fetch(url, init);
    const entry = { method: init.method || "GET", url: String(url), body, status: res.status };
    if (String(url).startsWith(`${new URL(issuer).origin}/`)) entry.response = await res.clone().text();
    log.push(entry);
    return res;
  };
}

const decode = (jwt) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());
const audOf = (jwt) => [].concat(decode(jwt).aud);

async function whoami(client) {
  const result = await client.callTool({ name: "whoami", arguments: {} });
  expect(result.isError).toBeFalsy();
  return JSON.parse(result.content[0].text);
}

test("an MCP SDK client discovers Gatehouse, registers itself, signs the person in, calls a tool and refreshes", async ({ page }) => {
  // Without a token the MCP server answers 401 and points at its protected resource metadata,
  // which names the Gatehouse app as its authorization server.
  const bare = await fetch(mcpUrl, {
    method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
  });
  expect(bare.status).toBe(401);
  expect(bare.headers.get("www-authenticate")).toMatch(/^Bearer /);
  expect(bare.headers.get("www-authenticate")).toContain(`resource_metadata="${prmUrl}"`);
  const prm = await (await fetch(prmUrl)).json();
  expect(prm).toMatchObject({ resource: mcpUrl, authorization_servers: [issuer], scopes_supported: ["tools"] });

  const provider = new PlaywrightProvider(page);
  const requests = [];
  const transportOptions = { authProvider: provider, fetch: recordingFetch(requests) };
  const first = new Client({ name: "gatehouse-e2e-client", version: "1.0.0" });
  // The first attempt: 401, discovery, registration, then the person is sent to Gatehouse;
  // the SDK reports that authorization is still to be finished.
  await expect(first.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), transportOptions)))
    .rejects.toThrow(sdkAuth.UnauthorizedError);

  // Discovery as the SDK did it: protected resource metadata, then RFC 8414 at the
  // path-inserted well-known URL of the issuer, then dynamic registration.
  const urls = requests.map((r) => `${r.method} ${r.url.split("?")[0]}`);
  expect(urls).toContain(`GET ${prmUrl}`);
  expect(urls).toContain(`GET ${new URL(issuer).origin}/.well-known/oauth-authorization-server/oauth2/${APP}`);
  const registration = requests.find((r) => r.url === asMetadata.registration_endpoint);
  expect(registration.status).toBe(201);
  expect(JSON.parse(registration.body)).toMatchObject({ token_endpoint_auth_method: "none", scope: "tools" });
  const registered = provider.clientInformation();
  expect(registered.client_id).toBeTruthy();
  expect(registered.client_secret).toBeUndefined();
  // The SDK keeps only what it needs; Gatehouse's answer also had the RFC 7592 management handles.
  const answer = JSON.parse(registration.response);
  expect(answer).toMatchObject({ client_id: registered.client_id, token_endpoint_auth_method: "none", redirect_uris: [`${callbackBase}/callback`] });
  expect(answer.client_secret).toBeUndefined();
  expect(answer.registration_access_token).toBeTruthy();
  expect(answer.registration_client_uri).toBe(`${asMetadata.registration_endpoint}/${registered.client_id}`);

  // The authorization request: PKCE S256, the resource, the scope from the 401, state.
  expect(provider.authorizationUrls).toHaveLength(1);
  const authz = provider.authorizationUrls[0];
  expect(authz.origin + authz.pathname).toBe(asMetadata.authorization_endpoint);
  expect(Object.fromEntries(authz.searchParams)).toMatchObject({
    response_type: "code", client_id: registered.client_id, code_challenge_method: "S256",
    redirect_uri: `${callbackBase}/callback`, scope: "tools", resource: mcpUrl,
  });
  // Gatehouse's answer on the loopback redirect URI: the code, the same state, and its issuer (RFC 9207).
  const [{ url: back, expectedState }] = provider.callbacks;
  expect(back.searchParams.get("state")).toBe(expectedState);
  expect(back.searchParams.get("iss")).toBe(issuer);
  expect(back.searchParams.get("error")).toBeNull();
  const code = back.searchParams.get("code");
  expect(code).toBeTruthy();

  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), transportOptions);
  await transport.finishAuth(code);
  const tokenRequest = new URLSearchParams(requests.findLast((r) => r.url === asMetadata.token_endpoint).body);
  expect(tokenRequest.get("grant_type")).toBe("authorization_code");
  expect(tokenRequest.get("resource")).toBe(mcpUrl);
  const tokens1 = provider.tokens();
  expect(tokens1.token_type.toLowerCase()).toBe("bearer");
  expect(tokens1.refresh_token).toBeTruthy();
  expect(audOf(tokens1.access_token)).toEqual([mcpUrl]);
  expect(decode(tokens1.access_token)).toMatchObject({ iss: issuer, sub: personId, client_id: registered.client_id });

  // Reconnect with the token: list the tools and call one.
  const client = new Client({ name: "gatehouse-e2e-client", version: "1.0.0" });
  await client.connect(transport);
  const { tools } = await client.listTools();
  expect(tools.map((t) => t.name)).toEqual(["whoami"]);
  const me1 = await whoami(client);
  expect(me1).toEqual({
    sub: personId, client_id: registered.client_id, aud: decode(tokens1.access_token).aud, scopes: ["tools"],
    token_sha256: sha256(tokens1.access_token),
  });

  // Refresh through the SDK's own orchestrator: with tokens stored it uses the refresh token
  // (with the resource again) instead of sending the person to Gatehouse.
  expect(await sdkAuth.auth(provider, { serverUrl: new URL(mcpUrl), fetchFn: recordingFetch(requests) })).toBe("AUTHORIZED");
  const refreshRequest = new URLSearchParams(requests.findLast((r) => r.url === asMetadata.token_endpoint).body);
  expect(refreshRequest.get("grant_type")).toBe("refresh_token");
  expect(refreshRequest.get("refresh_token")).toBe(tokens1.refresh_token);
  expect(refreshRequest.get("resource")).toBe(mcpUrl);
  const tokens2 = provider.tokens();
  expect(tokens2.access_token).not.toBe(tokens1.access_token);
  expect(tokens2.refresh_token).not.toBe(tokens1.refresh_token);
  expect(audOf(tokens2.access_token)).toEqual([mcpUrl]);
  const me2 = await whoami(client);
  expect(me2).toMatchObject({ sub: personId, client_id: registered.client_id, token_sha256: sha256(tokens2.access_token) });

  // And as it happens when an access token has expired mid-session: the MCP server answers
  // 401, the SDK refreshes by itself and repeats the call.
  provider._tokens = { ...tokens2, access_token: `${tokens2.access_token.slice(0, -4)}AAAA` };
  const me3 = await whoami(client);
  const tokens3 = provider.tokens();
  expect(tokens3.access_token).not.toBe(tokens2.access_token);
  expect(me3).toMatchObject({ sub: personId, client_id: registered.client_id, token_sha256: sha256(tokens3.access_token) });
  expect(mcpLog.at(-1)).toMatch(/signature/i);
  // The person was sent to Gatehouse only once.
  expect(provider.authorizationUrls).toHaveLength(1);
  await client.close();
});

test("the MCP server refuses Gatehouse tokens for another audience; Gatehouse refuses an unregistered redirect URI and an unlisted resource", async ({ page }) => {
  // A public client registered through the SDK's registerClient (RFC 7591).
  const redirectUrl = `${callbackBase}/callback`;
  const clientInformation = await sdkAuth.registerClient(issuer, {
    metadata: asMetadata,
    clientMetadata: { redirect_uris: [redirectUrl], token_endpoint_auth_method: "none", grant_types: ["authorization_code"], client_name: "negative" },
    scope: "tools",
  });
  const tokenFor = async (resource) => {
    const { authorizationUrl, codeVerifier } = await sdkAuth.startAuthorization(issuer, {
      metadata: asMetadata, clientInformation, redirectUrl, scope: "tools", state: "st-neg", resource: resource && new URL(resource),
    });
    const back = await signInAndReturn(page, authorizationUrl.href);
    expect(back.searchParams.get("error"), back.href).toBeNull();
    const tokens = await sdkAuth.exchangeAuthorization(issuer, {
      metadata: asMetadata, clientInformation, authorizationCode: back.searchParams.get("code"), codeVerifier, redirectUri: redirectUrl,
      resource: resource && new URL(resource),
    });
    return tokens.access_token;
  };
  const callMcp = (token) => fetch(mcpUrl, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
  });

  // Without a resource the token is for the app itself; with the other listed resource, for that one.
  const noResource = await tokenFor(undefined);
  expect(audOf(noResource)).not.toContain(mcpUrl);
  const other = await tokenFor(OTHER_RESOURCE);
  expect(audOf(other)).toEqual([OTHER_RESOURCE]);
  for (const token of [noResource, other]) {
    const res = await callMcp(token);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain('error="invalid_token"');
    expect(res.headers.get("www-authenticate")).toContain(`resource_metadata="${prmUrl}"`);
    expect(mcpLog.at(-1)).toMatch(/aud/);
  }
  // The right audience works with the same client (a sanity check of the refusals above).
  const right = await tokenFor(mcpUrl);
  expect((await callMcp(right)).status).toBe(200);

  // A resource the app does not list: invalid_target (RFC 8707), redirected with the state.
  const { authorizationUrl: unlisted } = await sdkAuth.startAuthorization(issuer, {
    metadata: asMetadata, clientInformation, redirectUrl, scope: "tools", state: "st-target", resource: new URL("https://unlisted.example/mcp"),
  });
  const refused = await signInAndReturn(page, unlisted.href);
  expect(refused.searchParams.get("error")).toBe("invalid_target");
  expect(refused.searchParams.get("state")).toBe("st-target");
  expect(refused.searchParams.get("iss")).toBe(issuer);
  expect(refused.searchParams.get("code")).toBeNull();

  // A redirect URI the client did not register: Gatehouse's error page, never a redirect.
  const { authorizationUrl: evil } = await sdkAuth.startAuthorization(issuer, {
    metadata: asMetadata, clientInformation, redirectUrl: "https://evil.example/callback", scope: "tools", state: "st-evil", resource: new URL(mcpUrl),
  });
  const res = await page.goto(evil.href);
  expect(res.status()).toBe(400);
  await expect(page.getByRole("heading", { name: "This sign-in request cannot be completed" })).toBeVisible();
  await expect(page.getByRole("alert")).toContainText("redirect_uri is not registered");
  expect(page.url()).toContain(`/oauth2/authorize/${APP}`);
});

test("openid-client registers itself dynamically and runs code + PKCE for the registered client", async ({ page }) => {
  const client = await import("openid-client");
  const redirect_uri = `${callbackBase}/callback`;
  const config = await client.dynamicClientRegistration(new URL(issuer), {
    client_name: "openid-client e2e", redirect_uris: [redirect_uri], grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"], token_endpoint_auth_method: "client_secret_basic", scope: "openid tools",
  }, client.ClientSecretBasic(), { execute: [client.allowInsecureRequests] });
  const registered = config.clientMetadata();
  expect(registered.client_id).toBeTruthy();
  expect(registered.client_secret).toBeTruthy();
  expect(registered.token_endpoint_auth_method).toBe("client_secret_basic");
  expect(config.serverMetadata().registration_endpoint).toBe(asMetadata.registration_endpoint);

  // RFC 7592: the registration reads back with its access token.
  const read = await fetch(registered.registration_client_uri, { headers: { Authorization: `Bearer ${registered.registration_access_token}` } });
  expect(read.status).toBe(200);
  expect(await read.json()).toMatchObject({ client_id: registered.client_id, redirect_uris: [redirect_uri] });

  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri, scope: "openid tools", nonce, state, resource: mcpUrl,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256",
  });
  const back = await signInAndReturn(page, url.href);
  expect(back.searchParams.get("iss")).toBe(issuer);
  const tokens = await client.authorizationCodeGrant(config, back, {
    pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true,
  }, { resource: mcpUrl });
  const claims = tokens.claims();
  expect(claims).toMatchObject({ iss: issuer, aud: registered.client_id, sub: personId, nonce });
  expect(tokens.refresh_token).toBeTruthy();
  expect(audOf(tokens.access_token)).toEqual([mcpUrl]);
  expect(decode(tokens.access_token)).toMatchObject({ client_id: registered.client_id, sub: personId });

  // Its access token is good at the MCP server too (through the SDK's client, this time with a
  // token the client brought along).
  const mcp = new Client({ name: "openid-client-token", version: "1.0.0" });
  await mcp.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), {
    requestInit: { headers: { Authorization: `Bearer ${tokens.access_token}` } },
  }));
  expect(await whoami(mcp)).toMatchObject({ sub: personId, client_id: registered.client_id });
  await mcp.close();

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, { resource: mcpUrl });
  expect(refreshed.access_token).not.toBe(tokens.access_token);
  expect(audOf(refreshed.access_token)).toEqual([mcpUrl]);
});

// RFC 9207 §2 wants `iss` "in authorization responses to the client, including error
// responses": an RP that checks it (openid-client) then reports the error itself instead of
// "invalid response".
test("an error redirect names the issuer as well (RFC 9207), so openid-client reports the error itself", async ({ page }) => {
  const client = await import("openid-client");
  const redirect_uri = `${callbackBase}/callback`;
  const config = await client.dynamicClientRegistration(new URL(issuer), {
    redirect_uris: [redirect_uri], token_endpoint_auth_method: "none", grant_types: ["authorization_code"], response_types: ["code"],
  }, client.None(), { execute: [client.allowInsecureRequests] });
  const verifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri, scope: "tools", state: "st-iss", resource: "https://unlisted.example/mcp",
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256",
  });
  const back = await signInAndReturn(page, url.href);
  expect(back.searchParams.get("error")).toBe("invalid_target");
  await expect(client.authorizationCodeGrant(config, back, { pkceCodeVerifier: verifier, expectedState: "st-iss" }))
    .rejects.toMatchObject({ code: "OAUTH_AUTHORIZATION_RESPONSE_ERROR", error: "invalid_target" });
  expect(back.searchParams.get("iss")).toBe(issuer);
});
