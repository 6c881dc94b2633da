// Pushed authorization requests (RFC 9126) as a certified client sends them: openid-client's
// buildAuthorizationUrlWithPAR pushes the parameters of a confidential client, the person signs
// in through the hosted page in Chromium with only the request_uri in the address, and the code
// is exchanged; an app with require_par refuses the plain request.
const { test, expect } = require("@playwright/test");
const http = require("node:http");
const { signIn, unique } = require("./helpers");

const PERSON = { login: unique("par-person"), password: "par-person-password-1" };
const CLIENT = { login: unique("par-client"), secret: "par-client-secret-0123" };
const ROLE = unique("PAR People");
const APP = unique("par-app");
let target;
let redirect;

test.beforeAll(async ({ browser }) => {
  target = http.createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/html" });
    res.end("<!DOCTYPE html><title>Client</title><h1>Client</h1>");
  });
  await new Promise((r) => target.listen(0, "127.0.0.1", r));
  redirect = `http://127.0.0.1:${target.address().port}/cb`;
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await signIn(page);
  const origin = new URL(page.url()).origin;
  const api = async (method, path, data) => {
    const res = await page.request.fetch(path, { method, data, headers: { Origin: origin } });
    expect(res.ok(), `${method} ${path}: ${await res.text()}`).toBeTruthy();
    return res.status() === 204 ? null : res.json();
  };
  const role = await api("POST", "/api/v1/roles", { name: ROLE });
  const person = await api("POST", "/api/v1/users", { login_name: PERSON.login, email: `${PERSON.login}@example.com`, password: PERSON.password });
  const rp = await api("POST", "/api/v1/users", {
    login_name: CLIENT.login, email: `${CLIENT.login}@example.com`, password: CLIENT.secret, is_oauth_confidential_client: true,
  });
  for (const u of [person, rp]) await api("PUT", `/api/v1/roles/${role.id}/members/${u.id}`);
  await api("POST", "/api/v1/apps", {
    app_id: APP, name: "PAR App", client_id_type: "confidential", token_type: "jwt_rs256",
    auth_methods: ["authorization_code"], require_par: true, redirect_uris: [redirect],
    scopes: [{ name: "read", description: "Read things" }], user_access_roles: [ROLE],
  });
  await ctx.close();
});

test.afterAll(async () => {
  await new Promise((r) => target.close(r));
});

test("openid-client pushes the request, the browser carries only its request_uri", async ({ page, baseURL }) => {
  const client = await import("openid-client");
  const config = await client.discovery(
    new URL(`${baseURL}/oauth2/${APP}`), CLIENT.login, CLIENT.secret, client.ClientSecretBasic(),
    { execute: [client.allowInsecureRequests] },
  );
  expect(config.serverMetadata().require_pushed_authorization_requests).toBe(true);
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = await client.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: redirect, scope: "openid read", state, nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256",
  });
  expect([...url.searchParams.keys()].sort()).toEqual(["client_id", "request_uri"]);
  await page.goto(url.href);
  await page.getByLabel("Login Name").fill(PERSON.login);
  await page.getByLabel("Password").fill(PERSON.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForURL((u) => u.href.startsWith(redirect));
  const back = new URL(page.url());
  const tokens = await client.authorizationCodeGrant(config, back, {
    pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
  });
  expect(tokens.claims()).toMatchObject({ aud: CLIENT.login, nonce });

  // The plain request the app refuses, back at the client with invalid_request.
  const plain = client.buildAuthorizationUrl(config, {
    redirect_uri: redirect, scope: "read", state: "plain",
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256",
  });
  await page.goto(plain.href);
  await page.waitForURL((u) => u.href.startsWith(redirect));
  expect(new URL(page.url()).searchParams.get("error")).toBe("invalid_request");
});
