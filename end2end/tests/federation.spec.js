// Sign-in through an upstream OpenID provider: node-oidc-provider (tests/upstream.js, the
// OpenID-certified library, in this process on its own loopback port) is registered through the
// admin API; a person follows "Sign in with Upstream" on /login in Chromium, signs in on the
// upstream's development pages, and comes back signed in to Gatehouse as a user made from the
// ID token's claims — the same user the next time, through the stored link. A tampered state,
// an ID token with another nonce and an upstream error are refused with "Sign-in failed"; an
// administrator removes the link on the user's page.
const { test, expect } = require("@playwright/test");
const { signIn, hydrated, unique } = require("./helpers");
const upstreams = require("./upstream");

test.describe.configure({ mode: "serial" });

const LABEL = "Upstream";
const PROVIDER = unique("upstream-idp");
const ROLE = unique("Federated People");
const CLIENT = { id: unique("gatehouse-rp"), secret: `upstream-secret-${unique("s")}` };
// Upstream login names: each is the upstream account's sub and preferred_username, its e-mail
// is `${name}@upstream.example` (verified).
const PERSON = unique("fed-person");
const TAMPERED = unique("fed-tampered");
const NONCE = unique("fed-nonce");
// A local user whose address is the upstream's for KNOWN: found by e-mail, not created.
const KNOWN = unique("fed-known");
const LOCAL = { login: unique("fed-local"), password: "fed-local-password-1" };
// A local administrator (an admin right) whose address is the upstream's for BOSS: never linked.
const BOSS = unique("fed-boss");
const ADMIN_LOCAL = { login: unique("fed-admin"), password: "fed-admin-password-1" };

let adminCtx;
let api;
let origin;
let upstream;
let idp;
let role;
let personId;

test.beforeAll(async ({ browser }) => {
  adminCtx = await browser.newContext();
  const page = await adminCtx.newPage();
  await signIn(page);
  origin = new URL(page.url()).origin;
  api = async (method, path, data, status) => {
    const res = await page.request.fetch(path, { method, data, headers: { Origin: origin } });
    const text = await res.text();
    if (status) expect(res.status(), `${method} ${path}: ${text}`).toBe(status);
    else expect(res.ok(), `${method} ${path}: ${res.status()} ${text}`).toBeTruthy();
    return res.status() === 204 ? null : JSON.parse(text);
  };
  role = await api("POST", "/api/v1/roles", { name: ROLE });
  await api("POST", "/api/v1/users", {
    login_name: LOCAL.login, email: upstreams.account(KNOWN).email, password: LOCAL.password,
  });
  const admins = await api("POST", "/api/v1/roles", { name: unique("Fed Admins"), admin_rights: ["users"] });
  const boss = await api("POST", "/api/v1/users", {
    login_name: ADMIN_LOCAL.login, email: upstreams.account(BOSS).email, password: ADMIN_LOCAL.password,
  });
  await api("PUT", `/api/v1/roles/${admins.id}/members/${boss.id}`);
  // The port, hence the issuer, is known before the upstream's client is made: the provider is
  // registered in Gatehouse in between, and its callback is the client's redirect URI.
  upstream = await upstreams.start({
    clientId: CLIENT.id,
    clientSecret: CLIENT.secret,
    redirectUri: async (issuer) => {
      idp = await api("POST", "/api/v1/identity-providers", {
        name: PROVIDER, issuer, client_id: CLIENT.id, client_secret: CLIENT.secret,
        scopes: ["openid", "email", "profile"], button_label: LABEL, match_by: "email",
        create_users: true, default_role: ROLE, enabled: true,
      }, 201);
      return `${origin}/login/federated/${idp.id}/callback`;
    },
  });
  expect(idp).toMatchObject({ name: PROVIDER, issuer: upstream.issuer, client_id: CLIENT.id, client_secret_set: true });
  expect(idp).not.toHaveProperty("client_secret");
  const callback = `${origin}/login/federated/${idp.id}/callback`;
  expect(idp.redirect_uri ?? callback, "the redirect URI Gatehouse shows to register").toBe(callback);
  const listed = await api("GET", "/api/v1/identity-providers");
  expect(listed.items.map((p) => p.id)).toContain(idp.id);
  expect(JSON.stringify(listed)).not.toContain(CLIENT.secret);
});

test.afterAll(async () => {
  await upstreams.stop(upstream);
  if (adminCtx) await adminCtx.close();
});

/** Every user, through the admin API's pages. */
async function allUsers() {
  const users = [];
  for (let offset = 0; ; offset += 500) {
    const page = await api("GET", `/api/v1/users?limit=500&offset=${offset}`);
    users.push(...page.items);
    if (page.items.length === 0 || users.length >= page.total) return users;
  }
}

async function userNamed(login) {
  const found = await api("GET", `/api/v1/users?login_name=${encodeURIComponent(login)}`);
  return found.items[0] || null;
}

/** Who the browser of `page` is signed in to Gatehouse as (null: nobody). */
async function whoami(page) {
  const res = await page.request.post("/sfn/current_user", { headers: { Origin: origin } });
  expect(res.status()).toBe(200);
  return res.json();
}

/** Opens /login (to come back to `returnTo`) and follows the upstream's link, once hydrated. */
async function followUpstreamLink(page, returnTo = "/account/apps") {
  await upstreams.offline(page.context());
  await page.goto(`/login?return_to=${encodeURIComponent(returnTo)}`);
  await hydrated(page);
  const link = page.getByRole("link", { name: `Sign in with ${LABEL}`, exact: true });
  await expect(link).toHaveAttribute("href", new RegExp(`/login/federated/${idp.id}\\?return_to=`));
  await link.click();
}

/** Waits for the callback's answer (the browser reaches it by the upstream's redirect). */
function callbackResponse(page) {
  return page.waitForResponse((r) => new URL(r.url()).pathname === `/login/federated/${idp.id}/callback`);
}

/** The callback answered 400 with "Sign-in failed", and nobody is signed in. */
async function expectRefused(page, callback) {
  const res = await callback;
  expect(res.status(), await res.text().catch(() => "")).toBe(400);
  await expect(page.getByRole("heading", { name: "Sign-in failed" })).toBeVisible();
  expect(await whoami(page)).toBeNull();
  return res;
}

test("a new person signs in through the upstream and becomes a user in the default role", async ({ page }, testInfo) => {
  await followUpstreamLink(page);
  await upstreams.signInUpstream(page, upstream, PERSON);
  await expect(page).toHaveURL(`${origin}/account/apps`);
  await hydrated(page);
  await expect(page.getByRole("heading", { level: 1, name: "Connected apps" })).toBeVisible();
  const landing = testInfo.outputPath("landing.png");
  await page.screenshot({ path: landing, fullPage: true });
  await testInfo.attach("landing", { path: landing, contentType: "image/png" });

  const me = await whoami(page);
  expect(me).toMatchObject({ login_name: PERSON });
  const user = await userNamed(PERSON);
  expect(user).toMatchObject({ id: me.user_id, login_name: PERSON, email: upstreams.account(PERSON).email, email_verified: true, enabled: true });
  personId = user.id;
  expect((await api("GET", `/api/v1/roles/${role.id}`)).members).toContain(personId);
  const links = await api("GET", `/api/v1/users/${personId}/links`);
  expect(links.total).toBe(1);
  expect(links.items).toEqual([
    expect.objectContaining({ provider_id: idp.id, provider_name: PROVIDER, issuer: upstream.issuer, subject: PERSON }),
  ]);
});

test("signed out, the same person signs in again and is the same user", async ({ page }) => {
  expect(personId, "the first sign-in made the user").toBeTruthy();
  // A new browser context: signed out of Gatehouse and of the upstream alike.
  expect(await whoami(page)).toBeNull();
  await followUpstreamLink(page);
  await upstreams.signInUpstream(page, upstream, PERSON);
  await expect(page).toHaveURL(`${origin}/account/apps`);
  expect(await whoami(page)).toMatchObject({ user_id: personId, login_name: PERSON });
  const email = upstreams.account(PERSON).email;
  expect((await allUsers()).filter((u) => u.email.toLowerCase() === email)).toHaveLength(1);
  expect((await api("GET", `/api/v1/users/${personId}/links`)).total).toBe(1);
});

test("a callback whose state was tampered with is refused", async ({ page }) => {
  const seen = {};
  // The upstream's redirect back to Gatehouse, as the browser receives it, carries another state.
  upstream.rewriteNextResponse((url) => {
    seen.state = url.searchParams.get("state");
    // One character changed: the shape of a state, not the one Gatehouse sent.
    url.searchParams.set("state", seen.state.slice(0, -1) + (seen.state.endsWith("A") ? "B" : "A"));
    return url;
  });
  const callback = callbackResponse(page);
  await followUpstreamLink(page);
  await upstreams.signInUpstream(page, upstream, TAMPERED);
  expect(seen.state, "the upstream answered with a state").toBeTruthy();
  expect(new URL(page.url()).searchParams.get("state")).not.toBe(seen.state);
  await expectRefused(page, callback);
  expect(await userNamed(TAMPERED)).toBeNull();
});

test("an ID token carrying another nonce than the one sent is refused", async ({ page }) => {
  const sent = {};
  // Gatehouse's redirect to the upstream, rewritten before the upstream sees it (page.route
  // sees only the first request of a navigation: the one to /login/federated/{id}).
  await page.route((u) => u.origin === origin && u.pathname === `/login/federated/${idp.id}`, async (route) => {
    const res = await route.fetch({ maxRedirects: 0 });
    const headers = res.headers();
    if (!headers.location) return route.fulfill({ response: res });
    const location = new URL(headers.location, route.request().url());
    sent.status = res.status();
    sent.endpoint = `${location.origin}${location.pathname}`;
    sent.params = Object.fromEntries(location.searchParams);
    location.searchParams.set("nonce", `not-${sent.params.nonce}`);
    await route.fulfill({ response: res, headers: { ...headers, location: location.href } });
  });
  const callback = callbackResponse(page);
  await followUpstreamLink(page);
  await upstreams.signInUpstream(page, upstream, NONCE);
  // What Gatehouse asked the upstream for: a code with PKCE (S256), a state and a nonce.
  expect([302, 303, 307]).toContain(sent.status);
  expect(sent.endpoint).toBe(`${upstream.issuer}/auth`);
  expect(sent.params).toMatchObject({ client_id: CLIENT.id, response_type: "code", code_challenge_method: "S256", redirect_uri: upstream.redirectUri });
  for (const p of ["state", "nonce", "code_challenge"]) expect(sent.params[p], p).toBeTruthy();
  expect(sent.params.scope.split(" ")).toEqual(expect.arrayContaining(["openid", "email", "profile"]));
  await expectRefused(page, callback);
  expect(await userNamed(NONCE)).toBeNull();
});

test("an administrator removes the link on the user's page", async ({ page }) => {
  expect(personId, "the first sign-in made the user").toBeTruthy();
  await signIn(page, undefined, undefined, `/admin/users/${personId}`);
  await expect(page).toHaveURL(new RegExp(`/admin/users/${personId}$`));
  await hydrated(page);
  const section = page.locator("section").filter({ has: page.getByRole("heading", { name: "Sign-in providers" }) });
  await expect(section.getByText(PROVIDER)).toBeVisible();
  page.on("dialog", (d) => d.accept());
  await section.locator("button", { hasText: "Remove" }).click();
  await expect(section.getByText(PROVIDER)).toHaveCount(0);
  const links = await api("GET", `/api/v1/users/${personId}/links`);
  expect(links).toEqual({ items: [], total: 0 });
});

test("an error from the upstream (the person cancels there) is refused", async ({ page }) => {
  const callback = callbackResponse(page);
  await followUpstreamLink(page);
  await page.waitForURL((u) => u.href.startsWith(`${upstream.issuer}/interaction/`));
  // devInteractions' "[ Cancel ]" ends the request: error=access_denied back at the callback.
  await page.getByRole("link", { name: "[ Cancel ]" }).click();
  const res = await expectRefused(page, callback);
  expect(new URL(res.url()).searchParams.get("error")).toBe("access_denied");
});

test("a local user with the upstream's verified address is found by e-mail, not duplicated", async ({ page }) => {
  await followUpstreamLink(page);
  await upstreams.signInUpstream(page, upstream, KNOWN);
  await expect(page).toHaveURL(`${origin}/account/apps`);
  const local = await userNamed(LOCAL.login);
  expect(await whoami(page)).toMatchObject({ user_id: local.id, login_name: LOCAL.login });
  expect(await userNamed(KNOWN)).toBeNull();
  const links = await api("GET", `/api/v1/users/${local.id}/links`);
  expect(links.items).toEqual([expect.objectContaining({ provider_id: idp.id, subject: KNOWN })]);
});

test("an administrator's account is never linked by a matching verified address", async ({ page }) => {
  await followUpstreamLink(page);
  const callback = callbackResponse(page);
  await upstreams.signInUpstream(page, upstream, BOSS);
  await expectRefused(page, callback);
  await expect(page.getByText("not linked")).toBeVisible();
  const local = await userNamed(ADMIN_LOCAL.login);
  expect((await api("GET", `/api/v1/users/${local.id}/links`)).items).toEqual([]);
  expect(await userNamed(BOSS)).toBeNull();
});
