// People sign in through the hosted login page: code + PKCE with consent, implicit, errors
// (issue: Browser flows). The client's redirect target is a tiny server started by the test.
const { test, expect } = require("@playwright/test");
const http = require("node:http");
const crypto = require("node:crypto");
const { ADMIN, signIn, unique } = require("./helpers");

let target;
let targetPort;

test.beforeAll(async () => {
  target = http.createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/html" });
    res.end("<!DOCTYPE html><title>Client</title><h1>Client callback</h1>");
  });
  await new Promise((r) => target.listen(0, "127.0.0.1", r));
  targetPort = target.address().port;
});

test.afterAll(async () => {
  await new Promise((r) => target.close(r));
});

// Names unique to this worker: a failed test restarts the worker, which runs setup again.
const PERSON = { login: unique("person"), password: "person-password-1" };
const ROLE = unique("E2E People");
const CODE_APP = unique("e2e-code");
const IMPLICIT_APP = unique("e2e-implicit");

/** Creates, through the admin API, a role with PERSON in it and the apps the tests use. */
async function setup(page) {
  await signIn(page);
  const api = async (method, path, data) => {
    const res = await page.request.fetch(path, { method, data, headers: { Origin: new URL(page.url()).origin } });
    expect(res.ok(), `${method} ${path}: ${await res.text()}`).toBeTruthy();
    return res.status() === 204 ? null : res.json();
  };
  const role = await api("POST", "/api/v1/roles", { name: ROLE });
  const user = await api("POST", "/api/v1/users", { login_name: PERSON.login, email: `${PERSON.login}@example.com`, password: PERSON.password });
  await api("PUT", `/api/v1/roles/${role.id}/members/${user.id}`);
  const base = {
    client_id_type: "anything",
    redirect_uris: ["http://127.0.0.1/cb"],
    scopes: [
      { name: "profile", description: "Read your profile" },
      { name: "files", description: "Read and write your files" },
    ],
    user_access_roles: [ROLE],
  };
  await api("POST", "/api/v1/apps", { ...base, app_id: CODE_APP, name: "E2E Code App", auth_methods: ["authorization_code"], user_must_confirm: true });
  await api("POST", "/api/v1/apps", { ...base, app_id: IMPLICIT_APP, name: "E2E Implicit App", auth_methods: ["implicit"] });
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

function pkce() {
  const verifier = crypto.randomBytes(32).toString("base64url");
  const challenge = crypto.createHash("sha256").update(verifier).digest("base64url");
  return { verifier, challenge };
}

function authorizeUrl(app, params) {
  const q = new URLSearchParams({ client_id: "e2e-spa", redirect_uri: `http://127.0.0.1:${targetPort}/cb`, state: "st-123", ...params });
  return `/oauth2/authorize/${app}?${q}`;
}

async function signInHere(page) {
  await expect(page).toHaveURL(/\/login\?return_to=/);
  await page.getByLabel("Login Name").fill(PERSON.login);
  await page.getByLabel("Password").fill(PERSON.password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test("code + PKCE with consent: approve, then deny; a second authorization skips the password", async ({ page }) => {
  const { verifier, challenge } = pkce();
  await page.goto(authorizeUrl(CODE_APP, { response_type: "code", scope: "profile files", code_challenge: challenge, code_challenge_method: "S256" }));
  await signInHere(page);
  await expect(page.getByRole("heading", { name: "Allow E2E Code App to access your account?" })).toBeVisible();
  await expect(page.getByText("Read your profile")).toBeVisible();
  await page.getByRole("checkbox", { name: /files/ }).uncheck();
  await page.getByRole("button", { name: "Approve" }).click();
  await page.waitForURL(new RegExp(`127\\.0\\.0\\.1:${targetPort}/cb\\?`));
  const cb = new URL(page.url());
  expect(cb.searchParams.get("state")).toBe("st-123");
  expect(cb.searchParams.get("iss")).toContain(`/oauth2/${CODE_APP}`);
  const code = cb.searchParams.get("code");
  const res = await page.request.post(`/oauth2/token/${CODE_APP}`, {
    form: { grant_type: "authorization_code", code, code_verifier: verifier, client_id: "e2e-spa", redirect_uri: `http://127.0.0.1:${targetPort}/cb` },
  });
  expect(res.status()).toBe(200);
  expect((await res.json()).scope).toBe("profile");

  // Same scope again: consent is remembered and the session is still signed in.
  const second = pkce();
  await page.goto(authorizeUrl(CODE_APP, { response_type: "code", scope: "profile", code_challenge: second.challenge, code_challenge_method: "S256" }));
  await page.waitForURL(new RegExp(`127\\.0\\.0\\.1:${targetPort}/cb\\?code=`));

  // Asking for the unticked scope shows the consent page again; deny it.
  await page.goto(authorizeUrl(CODE_APP, { response_type: "code", scope: "profile files", code_challenge: second.challenge, code_challenge_method: "S256" }));
  await page.getByRole("button", { name: "Deny" }).click();
  await page.waitForURL(new RegExp(`127\\.0\\.0\\.1:${targetPort}/cb\\?`));
  const denied = new URL(page.url());
  expect(denied.searchParams.get("error")).toBe("access_denied");
  expect(denied.searchParams.get("state")).toBe("st-123");
});

test("implicit returns the token in the fragment", async ({ page }) => {
  await page.goto(authorizeUrl(IMPLICIT_APP, { response_type: "token", scope: "profile" }));
  await signInHere(page);
  await page.waitForURL(new RegExp(`127\\.0\\.0\\.1:${targetPort}/cb#`));
  const frag = new URLSearchParams(new URL(page.url()).hash.slice(1));
  expect(frag.get("access_token")).toBeTruthy();
  expect(frag.get("token_type")).toBe("Bearer");
  expect(frag.get("scope")).toBe("profile");
  expect(frag.get("state")).toBe("st-123");
});

test("a flow the app does not allow redirects with auth mode not allowed", async ({ page }) => {
  // Checked before sign-in: nothing to sign in for.
  await page.goto(authorizeUrl(IMPLICIT_APP, { response_type: "code", code_challenge: pkce().challenge, code_challenge_method: "S256" }));
  await page.waitForURL(new RegExp(`127\\.0\\.0\\.1:${targetPort}/cb\\?`));
  const cb = new URL(page.url());
  expect(cb.searchParams.get("error")).toBe("unauthorized_client");
  expect(cb.searchParams.get("error_description")).toBe("auth mode not allowed");
});

test("an unknown redirect URI shows the error page and never redirects", async ({ page }) => {
  const res = await page.goto(`/oauth2/authorize/${CODE_APP}?response_type=code&client_id=x&redirect_uri=${encodeURIComponent("https://evil.example/cb")}`);
  expect(res.status()).toBe(400);
  await expect(page.getByRole("heading", { name: "This sign-in request cannot be completed" })).toBeVisible();
  await expect(page.getByRole("alert")).toContainText("redirect_uri is not registered");
  expect(page.url()).toContain(`/oauth2/authorize/${CODE_APP}`);
});

test("the consent page and connected apps are Leptos pages: they hydrate cleanly, withdraw works", async ({ page }) => {
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  const { challenge } = pkce();
  await page.goto(authorizeUrl(CODE_APP, { response_type: "code", scope: "files", code_challenge: challenge, code_challenge_method: "S256" }));
  if (page.url().includes("/login")) await signInHere(page);
  await expect(page.getByRole("heading", { name: "Allow E2E Code App to access your account?" })).toBeVisible();
  await page.locator("body[data-hydrated]").waitFor({ state: "attached", timeout: 20_000 });
  await page.getByRole("button", { name: "Approve" }).click();
  await page.waitForURL(new RegExp(`127\\.0\\.0\\.1:${targetPort}/cb\\?code=`));
  await page.goto("/account/apps");
  await page.locator("body[data-hydrated]").waitFor({ state: "attached", timeout: 20_000 });
  await expect(page.getByRole("cell", { name: "E2E Code App", exact: true })).toBeVisible();
  await page.getByRole("button", { name: "Withdraw access of E2E Code App" }).click();
  await expect(page).toHaveURL(/\/account\/apps$/);
  await expect(page.getByRole("cell", { name: "E2E Code App", exact: true })).toHaveCount(0);
  expect(errors, errors.join("\n")).toEqual([]);
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });
  test("consent: approve one of two scopes, and the code carries only that one", async ({ page }) => {
    const { verifier, challenge } = pkce();
    await page.goto(authorizeUrl(CODE_APP, { response_type: "code", scope: "profile files", code_challenge: challenge, code_challenge_method: "S256" }));
    if (page.url().includes("/login")) await signInHere(page);
    await expect(page.getByRole("heading", { name: "Allow E2E Code App to access your account?" })).toBeVisible();
    await page.getByRole("checkbox", { name: /profile/ }).uncheck();
    await page.getByRole("button", { name: "Approve" }).click();
    await page.waitForURL(new RegExp(`127\\.0\\.0\\.1:${targetPort}/cb\\?`));
    const code = new URL(page.url()).searchParams.get("code");
    const res = await page.request.post(`/oauth2/token/${CODE_APP}`, {
      form: { grant_type: "authorization_code", code, code_verifier: verifier, client_id: "e2e-spa", redirect_uri: `http://127.0.0.1:${targetPort}/cb` },
    });
    expect((await res.json()).scope).toBe("files");
  });
});
