// Accessibility: every page a person can reach, checked with axe-core against WCAG 2.0 and 2.1
// A and AA once the page has hydrated, and without console errors (issue: Accessibility).
// The login page (plain and with its error), each screen of the admin portal, the consent page
// and the connected apps, and the notice pages (authorize error, 403, sign-out confirmation,
// result and error, page not found).
const { test, expect } = require("@playwright/test");
const { default: AxeBuilder } = require("@axe-core/playwright");
const http = require("node:http");
const crypto = require("node:crypto");
const { ADMIN, signIn, hydrated, unique, consoleErrors, totp } = require("./helpers");

const WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

let target;
let targetPort;

test.beforeAll(async () => {
  target = http.createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/html" });
    res.end("<!DOCTYPE html><html lang=\"en\"><title>Client</title><h1>Client callback</h1></html>");
  });
  await new Promise((r) => target.listen(0, "127.0.0.1", r));
  targetPort = target.address().port;
});

test.afterAll(async () => {
  await new Promise((r) => target.close(r));
});

// Names unique to this worker: a failed test restarts the worker, which runs setup again.
const PERSON = { login: unique("a11y-person"), password: "a11y-person-password-1" };
const ROLES_ADMIN = { login: unique("a11y-roles"), password: "a11y-roles-password-1" };
const LEAVER = { login: unique("a11y-leaver"), password: "a11y-leaver-password-1" };
// Sets an authenticator app up in a test; and one who has one on (for the second step).
const DEVICE_APP = unique("a11y-tv");
const MFA = { login: unique("a11y-mfa"), password: "a11y-mfa-password-1" };
const MFA_ON = { login: unique("a11y-mfa-on"), password: "a11y-mfa-on-password-1" };
const ROLE = unique("A11y People");
const ROLES_ONLY = unique("A11y RolesOnly");
const CONSENT_APP = unique("a11y-consent");
const CONNECTED_APP = unique("a11y-connected");
const MCP_APP = unique("a11y-mcp");

/** What setup made: ids for the pages of one user and one role, and each person's cookies. */
const made = {};

function pkce() {
  const verifier = crypto.randomBytes(32).toString("base64url");
  return crypto.createHash("sha256").update(verifier).digest("base64url");
}

function authorizeUrl(app, params) {
  const q = new URLSearchParams({
    response_type: "code", client_id: "a11y-spa", redirect_uri: `http://127.0.0.1:${targetPort}/cb`, state: "st-a11y",
    code_challenge: pkce(), code_challenge_method: "S256", ...params,
  });
  return `/oauth2/authorize/${app}?${q}`;
}

/** Signs `who` in in a context of its own and returns that context's cookies. */
async function sessionOf(browser, who, path) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await signIn(page, who.login, who.password, path);
  const cookies = await ctx.cookies();
  return { ctx, page, cookies };
}

// What every test here needs, made once per worker: no test depends on another having run.
test.beforeAll(async ({ browser }) => {
  const admin = await sessionOf(browser, ADMIN, "/admin");
  made.admin = admin.cookies;
  const origin = new URL(admin.page.url()).origin;
  const api = async (method, path, data) => {
    const res = await admin.page.request.fetch(path, { method, data, headers: { Origin: origin } });
    expect(res.ok(), `${method} ${path}: ${await res.text()}`).toBeTruthy();
    return res.status() === 204 ? null : res.json();
  };
  const role = await api("POST", "/api/v1/roles", { name: ROLE, description: "People who use the a11y apps" });
  const rolesOnly = await api("POST", "/api/v1/roles", { name: ROLES_ONLY, admin_rights: ["roles"] });
  const person = await api("POST", "/api/v1/users", {
    login_name: PERSON.login, email: `${PERSON.login}@example.com`, display_name: "Ada Lovelace", password: PERSON.password,
  });
  const rolesAdmin = await api("POST", "/api/v1/users", { login_name: ROLES_ADMIN.login, email: `${ROLES_ADMIN.login}@example.com`, password: ROLES_ADMIN.password });
  await api("POST", "/api/v1/users", { login_name: LEAVER.login, email: `${LEAVER.login}@example.com`, password: LEAVER.password });
  for (const who of [MFA, MFA_ON]) {
    await api("POST", "/api/v1/users", { login_name: who.login, email: `${who.login}@example.com`, password: who.password });
  }
  await api("PUT", `/api/v1/roles/${role.id}/members/${person.id}`);
  await api("PUT", `/api/v1/roles/${rolesOnly.id}/members/${rolesAdmin.id}`);
  const app = {
    client_id_type: "anything", category: "Accessibility", description: "An app for the accessibility test",
    auth_methods: ["authorization_code"], user_must_confirm: true,
    redirect_uris: ["http://127.0.0.1/cb"],
    post_logout_redirect_uris: ["http://127.0.0.1/bye"],
    scopes: [
      { name: "profile", description: "Read your profile" },
      { name: "files", description: "Read and write your files", rest_regexes: ["files/.*"] },
    ],
    user_access_roles: [ROLE],
  };
  await api("POST", "/api/v1/apps", { ...app, app_id: CONSENT_APP, name: "A11y Consent App" });
  await api("POST", "/api/v1/apps", { ...app, app_id: CONNECTED_APP, name: "A11y Connected App" });
  await api("POST", "/api/v1/apps", {
    app_id: MCP_APP, name: "A11y MCP App", client_id_type: "registered", client_registration: "open",
    auth_methods: ["authorization_code"], user_access_roles: [ROLE],
  });
  await api("POST", `/api/v1/apps/${MCP_APP}/clients`, {
    client_name: "A11y client", redirect_uris: ["http://127.0.0.1/cb"], token_endpoint_auth_method: "none",
  });
  await api("POST", "/api/v1/apps", {
    app_id: DEVICE_APP, name: "A11y TV", client_id_type: "anything", auth_methods: ["device_code"],
    scopes: [{ name: "watch", description: "Watch your films" }], user_access_roles: [ROLE],
  });
  const device = await admin.page.request.post(`/oauth2/device/${DEVICE_APP}`, { form: { client_id: "tv", scope: "watch" } });
  expect(device.ok()).toBeTruthy();
  made.userCode = (await device.json()).user_code;
  made.userId = person.id;
  made.roleId = role.id;
  await admin.ctx.close();

  // The person approves one app, so that their connected apps list it; the other app is never
  // approved, so that its consent page always shows.
  const p = await sessionOf(browser, PERSON, "/account/apps");
  await p.page.goto(authorizeUrl(CONNECTED_APP, { scope: "profile files" }));
  await p.page.getByRole("button", { name: "Approve" }).click();
  await p.page.waitForURL(new RegExp(`127\\.0\\.0\\.1:${targetPort}/cb\\?code=`));
  made.person = await p.ctx.cookies();
  await p.ctx.close();

  // MFA_ON turns an authenticator app on, with a code computed here from the page's link.
  const m = await sessionOf(browser, MFA_ON, "/account/security");
  await m.page.getByRole("button", { name: "Set up an authenticator app" }).click();
  const link = await m.page.locator("#otpauth-link").getAttribute("href");
  await m.page.getByLabel("Code from the app").fill(totp(new URL(link).searchParams.get("secret")));
  await m.page.getByRole("button", { name: "Turn on" }).click();
  await expect(m.page.getByText("Your authenticator app is on.")).toBeVisible();
  await m.ctx.close();

  const r = await sessionOf(browser, ROLES_ADMIN, "/admin/roles");
  made.rolesAdmin = r.cookies;
  await r.ctx.close();
});

/** One line per violation and one per element it was found on. */
function summary(violations) {
  return violations
    .map((v) => `${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `    ${n.target.join(" ")}  ${n.html}`).join("\n")}`)
    .join("\n");
}

/** Runs axe on the page as it is now; fails with a readable list of what it found. */
async function expectAccessible(page) {
  const results = await new AxeBuilder({ page }).withTags(WCAG).analyze();
  expect(results.violations, `axe found violations on ${page.url()}:\n${summary(results.violations)}`).toEqual([]);
}

/**
 * Chromium logs an error status of the page itself ("Failed to load resource: … 404 (Not
 * Found)") as a console error: that one is the status a notice page is meant to have, so it
 * is passed over; the same status of anything else the page loads is not.
 */
function documentStatus(path, status) {
  const url = new URL(path, test.info().project.use.baseURL).href;
  const text = `Failed to load resource: the server responded with a status of ${status} `;
  return (m) => status >= 400 && m.location().url === url && m.text().startsWith(text);
}

/**
 * Opens `path` (as the person whose cookies are given, else anonymously), checks the status and
 * the page's main heading, waits for hydration, runs axe, and checks the console stayed clean.
 */
async function checkPage(page, path, { cookies, status = 200, heading }) {
  if (cookies) await page.context().addCookies(cookies);
  const errors = consoleErrors(page, documentStatus(path, status));
  const res = await page.goto(path);
  expect(res.status(), `status of ${path}`).toBe(status);
  await hydrated(page);
  await expect(page.getByRole("heading", { level: 1, name: heading, exact: true })).toBeVisible();
  await expectAccessible(page);
  expect(errors, errors.join("\n")).toEqual([]);
}

test.describe("the login page", () => {
  test("/login", async ({ page }) => {
    await checkPage(page, "/login", { heading: "Sign in" });
  });

  test("/login with an error", async ({ page }) => {
    await checkPage(page, "/login?error=invalid", { heading: "Sign in" });
    await expect(page.getByRole("alert")).toHaveText("Invalid login name or password.");
  });
});

test.describe("self-service and sign-in providers", () => {
  for (const [path, heading] of [
    ["/login/forgot", "Forgot your password?"],
    ["/login/forgot?m=sent", "Forgot your password?"],
    ["/login/reset?token=not-a-link", "Choose a new password"],
    ["/signup", "Create an account"],
    ["/signup?field=email&login_name=x&email=x%40example.com", "Create an account"],
    ["/signup/verify?token=not-a-link", "Confirm your address"],
    ["/login?done=changed", "Sign in"],
  ]) {
    test(path, async ({ page }) => {
      await checkPage(page, path, { heading });
    });
  }
  test("/admin/identity-providers and its form", async ({ page }) => {
    await checkPage(page, "/admin/identity-providers", { cookies: made.admin, heading: "Sign-in providers" });
    await checkPage(page, "/admin/identity-providers/new", { cookies: made.admin, heading: "Add a sign-in provider" });
  });
});

test.describe("the admin portal", () => {
  // [what the test is called, the path (known once setup has run), the page's heading]
  const pages = [
    ["/admin", () => "/admin", "Administration"],
    ["/admin/apps", () => "/admin/apps", "Apps"],
    ["/admin/apps/new", () => "/admin/apps/new", "Add app"],
    ["/admin/apps/{app}", () => `/admin/apps/${CONSENT_APP}`, "A11y Consent App"],
    ["/admin/users", () => "/admin/users", "Users"],
    ["/admin/users/new", () => "/admin/users/new", "New user"],
    ["/admin/users/{id}", () => `/admin/users/${made.userId}`, PERSON.login],
    ["/admin/roles", () => "/admin/roles", "Roles"],
    ["/admin/roles/{id}", () => `/admin/roles/${made.roleId}`, ROLE],
    ["/admin/audit", () => "/admin/audit", "Audit"],
    ["/admin/apps/{app}/clients", () => `/admin/apps/${MCP_APP}/clients`, "Clients of A11y MCP App"],
  ];
  for (const [name, path, heading] of pages) {
    test(name, async ({ page }) => {
      await checkPage(page, path(), { cookies: made.admin, heading });
    });
  }
});

test.describe("the person's pages", () => {
  test("the consent page", async ({ page }) => {
    await checkPage(page, authorizeUrl(CONSENT_APP, { scope: "profile files" }), {
      cookies: made.person, heading: "Allow A11y Consent App to access your account?",
    });
    await expect(page.getByRole("checkbox", { name: /files/ })).toBeChecked();
  });

  test("/account/security", async ({ page }) => {
    await checkPage(page, "/account/security", { cookies: made.person, heading: "Security" });
    await expect(page.getByRole("button", { name: "Set up an authenticator app" })).toBeVisible();
  });

  test("/account/security while an authenticator app is set up (the QR code)", async ({ page }) => {
    await signIn(page, MFA.login, MFA.password, "/account/security");
    await page.getByRole("button", { name: "Set up an authenticator app" }).click();
    await checkPage(page, "/account/security", { heading: "Security" });
    await expect(page.getByRole("img", { name: "QR code of the authenticator link below" })).toBeVisible();
  });

  test("/login/second (the second step)", async ({ page }) => {
    await page.goto("/login?return_to=%2Faccount%2Fapps");
    await page.getByLabel("Login Name").fill(MFA_ON.login);
    await page.getByLabel("Password").fill(MFA_ON.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(page).toHaveURL(/\/login\/second/);
    await checkPage(page, "/login/second?return_to=%2Faccount%2Fapps&error=invalid", { heading: "Confirm it is you" });
    await expect(page.getByRole("alert")).toHaveText("That code is not right.");
  });

  test("/device (a code that names nothing)", async ({ page }) => {
    await checkPage(page, "/device?user_code=BCDF-GHJK", { cookies: made.person, heading: "Connect a device" });
    await expect(page.getByRole("alert")).toContainText("That code names no waiting device");
  });

  test("/device (a device waiting for approval)", async ({ page }) => {
    await checkPage(page, `/device?user_code=${made.userCode}`, { cookies: made.person, heading: "Connect a device" });
    await expect(page.getByRole("button", { name: "Approve" })).toBeVisible();
  });

  test("/account/apps", async ({ page }) => {
    await checkPage(page, "/account/apps", { cookies: made.person, heading: "Connected apps" });
    await expect(page.getByRole("cell", { name: "A11y Connected App", exact: true })).toBeVisible();
  });
});

test.describe("notice pages", () => {
  test("the authorize error page (an unknown redirect URI)", async ({ page }) => {
    await checkPage(page, authorizeUrl(CONSENT_APP, { redirect_uri: "https://evil.example/cb" }), {
      status: 400, heading: "This sign-in request cannot be completed",
    });
    await expect(page.getByRole("alert")).toContainText("redirect_uri is not registered");
  });

  test("the 403 page (a roles administrator opens Users)", async ({ page }) => {
    await checkPage(page, "/admin/users", { cookies: made.rolesAdmin, status: 403, heading: "Access denied" });
  });

  test("the sign-out confirmation page", async ({ page }) => {
    await signIn(page, LEAVER.login, LEAVER.password, "/account/apps");
    await checkPage(page, `/oauth2/logout/${CONSENT_APP}`, { heading: "Sign out of Gatehouse?" });
    await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
  });

  test("the signed-out page after confirming", async ({ page }) => {
    await signIn(page, LEAVER.login, LEAVER.password, "/account/apps");
    const errors = consoleErrors(page);
    await page.goto(`/oauth2/logout/${CONSENT_APP}`);
    await hydrated(page);
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page.getByRole("heading", { level: 1, name: "You are signed out", exact: true })).toBeVisible();
    await hydrated(page);
    await expectAccessible(page);
    expect(errors, errors.join("\n")).toEqual([]);
  });

  test("the sign-out error page (an unregistered post-logout redirect URI)", async ({ page }) => {
    const q = new URLSearchParams({ post_logout_redirect_uri: "https://evil.example/bye", state: "s" });
    await checkPage(page, `/oauth2/logout/${CONSENT_APP}?${q}`, { status: 400, heading: "This sign-out request cannot be completed" });
    await expect(page.getByRole("alert")).toContainText("post_logout_redirect_uri is not registered");
  });

  test("page not found", async ({ page }) => {
    await checkPage(page, "/no-such-page", { status: 404, heading: "Page not found" });
  });
});

// The same pages in German (SPEC §6b languages): the browser asks for German (Accept-Language
// from the context's locale), every page answers in it (`<html lang="de">`, German headings),
// axe finds nothing, and a screenshot of each is kept in the test artifacts.
test.describe("in German", () => {
  test.use({ locale: "de-DE" });

  async function checkGerman(page, testInfo, path, opts) {
    await checkPage(page, path, opts);
    await expect(page.locator("html")).toHaveAttribute("lang", "de");
    const name = path.replace(/[^a-z0-9]+/gi, "_").slice(0, 80);
    await page.screenshot({ path: testInfo.outputPath(`de${name}.png`), fullPage: true });
  }

  const anonymous = [
    ["/login", "Anmelden"],
    ["/login?error=invalid", "Anmelden"],
    ["/login/forgot", "Passwort vergessen?"],
    ["/login/forgot?m=sent", "Passwort vergessen?"],
    ["/login/reset?token=not-a-link", "Neues Passwort festlegen"],
    ["/signup", "Konto erstellen"],
    ["/signup?field=email&login_name=x&email=x%40example.com", "Konto erstellen"],
    ["/signup/verify?token=not-a-link", "Adresse bestätigen"],
  ];
  for (const [path, heading] of anonymous) {
    test(`${path} (de)`, async ({ page }, testInfo) => {
      await checkGerman(page, testInfo, path, { heading });
    });
  }

  test("the login page's words and its error (de)", async ({ page }) => {
    await page.goto("/login?error=invalid");
    await hydrated(page);
    await expect(page.getByRole("alert")).toHaveText("Anmeldename oder Passwort ist falsch.");
    await expect(page.getByLabel("Anmeldename")).toBeVisible();
    // The link to English, and back: the choice is kept for the visit.
    await page.getByRole("link", { name: "English" }).click();
    await expect(page.getByRole("heading", { level: 1, name: "Sign in", exact: true })).toBeVisible();
    await expect(page.locator("html")).toHaveAttribute("lang", "en");
    await page.goto("/login/forgot");
    await expect(page.getByRole("heading", { level: 1, name: "Forgot your password?", exact: true })).toBeVisible();
    await page.getByRole("link", { name: "Deutsch" }).click();
    await expect(page.getByRole("heading", { level: 1, name: "Passwort vergessen?", exact: true })).toBeVisible();
  });

  const portal = [
    ["/admin", () => "/admin", "Verwaltung"],
    ["/admin/apps", () => "/admin/apps", "Apps"],
    ["/admin/apps/new", () => "/admin/apps/new", "App hinzufügen"],
    ["/admin/apps/{app}", () => `/admin/apps/${CONSENT_APP}`, "A11y Consent App"],
    ["/admin/users", () => "/admin/users", "Benutzer"],
    ["/admin/users/new", () => "/admin/users/new", "Neuer Benutzer"],
    ["/admin/users/{id}", () => `/admin/users/${made.userId}`, PERSON.login],
    ["/admin/roles", () => "/admin/roles", "Rollen"],
    ["/admin/roles/{id}", () => `/admin/roles/${made.roleId}`, ROLE],
    ["/admin/audit", () => "/admin/audit", "Audit-Protokoll"],
    ["/admin/apps/{app}/clients", () => `/admin/apps/${MCP_APP}/clients`, "Clients von A11y MCP App"],
    ["/admin/identity-providers", () => "/admin/identity-providers", "Identitätsanbieter"],
    ["/admin/settings", () => "/admin/settings", "Einstellungen"],
  ];
  for (const [name, path, heading] of portal) {
    test(`${name} (de)`, async ({ page }, testInfo) => {
      await checkGerman(page, testInfo, path(), { cookies: made.admin, heading });
    });
  }

  test("the consent page (de)", async ({ page }, testInfo) => {
    await checkGerman(page, testInfo, authorizeUrl(CONSENT_APP, { scope: "profile files" }), {
      cookies: made.person, heading: "A11y Consent App Zugriff auf Ihr Konto erlauben?",
    });
    await expect(page.getByRole("button", { name: "Erlauben" })).toBeVisible();
  });

  test("the consent page in German by ui_locales, whatever the browser says", async ({ browser }) => {
    const ctx = await browser.newContext({ locale: "en-US" });
    await ctx.addCookies(made.person);
    const page = await ctx.newPage();
    await page.goto(authorizeUrl(CONSENT_APP, { scope: "profile", ui_locales: "de" }));
    await hydrated(page);
    await expect(page.locator("html")).toHaveAttribute("lang", "de");
    await expect(page.getByRole("heading", { level: 1, name: "A11y Consent App Zugriff auf Ihr Konto erlauben?" })).toBeVisible();
    await ctx.close();
  });

  test("/account/security (de)", async ({ page }, testInfo) => {
    await checkGerman(page, testInfo, "/account/security", { cookies: made.person, heading: "Sicherheit" });
    await expect(page.getByRole("button", { name: "Authenticator-App einrichten" })).toBeVisible();
  });

  test("/login/second (de)", async ({ page }, testInfo) => {
    await page.goto("/login?return_to=%2Faccount%2Fapps");
    await page.getByLabel("Anmeldename").fill(MFA_ON.login);
    await page.getByLabel("Passwort").fill(MFA_ON.password);
    await page.getByRole("button", { name: "Anmelden", exact: true }).click();
    await expect(page).toHaveURL(/\/login\/second/);
    await checkGerman(page, testInfo, "/login/second?return_to=%2Faccount%2Fapps&error=invalid", { heading: "Bestätigen Sie, dass Sie es sind" });
    await expect(page.getByRole("alert")).toHaveText("Dieser Code ist nicht richtig.");
  });

  test("/device (de)", async ({ page }, testInfo) => {
    await checkGerman(page, testInfo, "/device?user_code=BCDF-GHJK", { cookies: made.person, heading: "Gerät verbinden" });
    await expect(page.getByRole("alert")).toContainText("Zu diesem Code wartet kein Gerät");
  });

  test("/account/apps (de)", async ({ page }, testInfo) => {
    await checkGerman(page, testInfo, "/account/apps", { cookies: made.person, heading: "Verbundene Apps" });
  });

  test("notices (de)", async ({ page }, testInfo) => {
    await checkGerman(page, testInfo, authorizeUrl(CONSENT_APP, { redirect_uri: "https://evil.example/cb" }), {
      status: 400, heading: "Diese Anmeldeanfrage kann nicht abgeschlossen werden",
    });
    await expect(page.getByRole("alert")).toContainText("Die redirect_uri ist für diese Anwendung nicht registriert.");
    await checkGerman(page, testInfo, "/no-such-page", { status: 404, heading: "Seite nicht gefunden" });
  });

  test("the 403 page (de)", async ({ page }, testInfo) => {
    await checkGerman(page, testInfo, "/admin/users", { cookies: made.rolesAdmin, status: 403, heading: "Zugriff verweigert" });
  });
});
