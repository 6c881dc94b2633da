// Operations in the portal (issue: Operations): the activity charts on /admin and on each app
// (tokens issued and refused, sign-ins; server-rendered SVG with its numbers as tables, so they
// work without JavaScript) and the Audit page (filters, changes, paging; never a secret).
const { test, expect } = require("@playwright/test");
const { ADMIN, signIn, hydrated, unique } = require("./helpers");


/** An admin API call with the signed-in page's session. */
async function api(page, method, path, data) {
  const res = await page.request.fetch(path, { method, data, headers: { Origin: new URL(page.url()).origin } });
  expect(res.ok(), `${method} ${path}: ${await res.text()}`).toBeTruthy();
  return res.status() === 204 ? null : res.json();
}

/** A client-credentials token request; returns the response. */
function tokenRequest(page, appId, clientId, secret) {
  return page.request.post(`/oauth2/token/${appId}`, {
    form: { grant_type: "client_credentials", client_id: clientId, client_secret: secret },
  });
}

/** The total a chart states (its data-total), as a number. */
async function chartTotal(page, kind) {
  return Number(await page.locator(`#activity #chart-${kind}`).getAttribute("data-total"));
}

/** The count the legend of a chart gives one detail (0 when it is not listed). */
async function legendCount(page, kind, detail) {
  const rows = page.locator(`#chart-${kind} table.legend tbody tr`).filter({
    has: page.locator("td").first().filter({ hasText: new RegExp(`^\\s*${detail}\\s*$`) }),
  });
  if ((await rows.count()) === 0) return 0;
  return Number((await rows.first().locator("td").last().innerText()).trim());
}

/** Sums "<bucket> <detail>: n" over the bars' titles of a chart. */
async function barSum(page, kind, detail) {
  const titles = await page.locator(`#chart-${kind} svg[role="img"] rect title`).allTextContents();
  return titles
    .map((t) => t.match(new RegExp(`^\\d\\d:\\d\\d ${detail}: (\\d+)$`)))
    .filter(Boolean)
    .reduce((s, m) => s + Number(m[1]), 0);
}

/** Reloads `path` until its charts state `want` ({kind: total}): the counters are flushed every
 * few seconds, so this is "wait and reload", without guessing how long. */
async function reloadUntilTotals(page, path, want) {
  await expect.poll(async () => {
    await page.goto(path);
    const got = {};
    for (const kind of Object.keys(want)) got[kind] = await chartTotal(page, kind);
    return got;
  }, { timeout: 25_000, intervals: [1_000] }).toEqual(want);
}

/** What the server has counted in memory so far (its Prometheus counters, which the charts'
 * counters mirror): tokens issued, tokens refused for a known app, sign-ins by outcome. */
async function countedTotals(page) {
  const text = await (await page.request.get("/metrics")).text();
  const sum = (name, keep = () => true) =>
    text.split("\n")
      .map((l) => l.match(new RegExp(`^${name}\\{([^}]*)\\} ([0-9.e+]+)$`)))
      .filter((m) => m && keep(m[1]))
      .reduce((s, m) => s + Number(m[2]), 0);
  return {
    issued: sum("gatehouse_tokens_issued_total"),
    refused: sum("gatehouse_tokens_refused_total", (labels) => !labels.includes('app="(unknown)"')),
    sign_in: sum("gatehouse_sign_ins_total", (labels) => /outcome="(succeeded|failed|throttled)"/.test(labels)),
  };
}

/** Collects the page's console errors and uncaught exceptions (a hydration mismatch shows here). */
function consoleErrors(page) {
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  return errors;
}

/** One failed sign-in with a login name nobody has, in a context of its own. */
async function failedSignIn(browser, login) {
  const ctx = await browser.newContext();
  const p = await ctx.newPage();
  await p.goto("/login");
  await p.getByLabel("Login Name").fill(login);
  await p.getByLabel("Password").fill("certainly-not-a-password");
  await p.getByRole("button", { name: "Sign in" }).click();
  await expect(p.getByRole("alert")).toHaveText("Invalid login name or password.");
  await ctx.close();
}

/** A role, a confidential client in it, and an app that client may get tokens from. */
async function tokenSetup(page) {
  const role = await api(page, "POST", "/api/v1/roles", { name: unique("Ops clients") });
  const client = { login: unique("ops-client"), secret: "ops-client-secret-0123" };
  const user = await api(page, "POST", "/api/v1/users", {
    login_name: client.login, email: `${client.login}@example.com`, password: client.secret,
    is_oauth_confidential_client: true,
  });
  await api(page, "PUT", `/api/v1/roles/${role.id}/members/${user.id}`);
  const appId = unique("ops-app");
  await api(page, "POST", "/api/v1/apps", {
    app_id: appId, name: "Ops metered app", client_id_type: "confidential",
    auth_methods: ["client_credentials"], user_access_roles: [role.name],
  });
  return { appId, client };
}

test("the activity charts count tokens issued and refused and failed sign-ins, overall and per app", async ({ page, browser }) => {
  const errors = consoleErrors(page);
  await signIn(page);
  const { appId, client } = await tokenSetup(page);
  const quietApp = unique("ops-quiet");
  await api(page, "POST", "/api/v1/apps", { app_id: quietApp, name: "Ops quiet app" });

  // Whatever earlier requests counted reaches the database first (the charts show what the
  // server counted in memory); then the baseline.
  await reloadUntilTotals(page, "/admin", await countedTotals(page));
  const section = page.locator("section#activity");
  await expect(section.getByRole("heading", { name: "Activity" })).toBeVisible();
  const tabs = section.getByRole("navigation", { name: "Time window" });
  await expect(tabs.getByRole("link")).toHaveText(["Last hour", "Last day", "Last 30 days"]);
  await expect(tabs.getByRole("link", { name: "Last hour" })).toHaveAttribute("aria-current", "page");
  await expect(tabs.getByRole("link", { name: "Last day" })).toHaveAttribute("href", "?window=day#activity");
  await expect(tabs.getByRole("link", { name: "Last 30 days" })).toHaveAttribute("href", "?window=30d#activity");
  const base = {
    issued: await chartTotal(page, "issued"),
    refused: await chartTotal(page, "refused"),
    signIn: await chartTotal(page, "sign_in"),
    cc: await legendCount(page, "issued", "client_credentials"),
    invalid: await legendCount(page, "refused", "invalid_client"),
    failed: await legendCount(page, "sign_in", "failed"),
  };

  // Three tokens issued, two refused for a wrong secret, one failed sign-in.
  for (let i = 0; i < 3; i++) {
    const res = await tokenRequest(page, appId, client.login, client.secret);
    expect(res.status(), await res.text()).toBe(200);
    expect((await res.json()).access_token).toBeTruthy();
  }
  for (let i = 0; i < 2; i++) {
    const res = await tokenRequest(page, appId, client.login, "wrong-secret-for-ops");
    expect(res.status()).toBe(401);
    expect((await res.json()).error).toBe("invalid_client");
  }
  await failedSignIn(browser, unique("ops-nobody"));

  // Overall: exactly those numbers more.
  await reloadUntilTotals(page, "/admin", { issued: base.issued + 3, refused: base.refused + 2, sign_in: base.signIn + 1 });
  expect(await legendCount(page, "issued", "client_credentials")).toBe(base.cc + 3);
  expect(await legendCount(page, "refused", "invalid_client")).toBe(base.invalid + 2);
  expect(await legendCount(page, "sign_in", "failed")).toBe(base.failed + 1);
  const issuedCaption = `Tokens issued, last hour: ${base.issued + 3}`;
  await expect(page.locator("#chart-issued figcaption")).toHaveText(issuedCaption);
  await expect(page.locator("#chart-issued").getByRole("img", { name: issuedCaption })).toBeVisible();
  await expect(page.locator("#chart-refused figcaption")).toHaveText(`Tokens refused, last hour: ${base.refused + 2}`);
  await expect(page.locator("#chart-sign_in figcaption")).toHaveText(`Sign-ins, last hour: ${base.signIn + 1}`);
  await expect(page.locator("#chart-sign_in table.legend")).toContainText("failed");
  expect(await barSum(page, "sign_in", "failed")).toBe(base.failed + 1);
  await hydrated(page);

  // The app's screen: its own charts only, exactly these numbers.
  await page.goto(`/admin/apps/${appId}`);
  await hydrated(page);
  const appSection = page.locator("section#activity");
  await expect(appSection.getByRole("heading", { name: "Activity" })).toBeVisible();
  await expect(page.locator("#chart-issued")).toHaveAttribute("data-total", "3");
  await expect(page.locator("#chart-refused")).toHaveAttribute("data-total", "2");
  await expect(page.locator("#chart-sign_in")).toHaveCount(0);
  await expect(page.locator("#chart-issued figcaption")).toHaveText("Tokens issued, last hour: 3");
  await expect(page.locator("#chart-issued").getByRole("img", { name: "Tokens issued, last hour: 3" })).toBeVisible();
  expect(await legendCount(page, "issued", "client_credentials")).toBe(3);
  expect(await legendCount(page, "refused", "invalid_client")).toBe(2);
  expect(await barSum(page, "issued", "client_credentials")).toBe(3);
  expect(await barSum(page, "refused", "invalid_client")).toBe(2);
  // The numbers per minute, behind a disclosure.
  const details = page.locator("#chart-issued details");
  const grid = details.locator("table.grid");
  await expect(grid).toBeHidden();
  await details.locator("summary").click();
  await expect(grid).toBeVisible();
  await expect(grid.locator("thead th")).toHaveText(["From (UTC)", "client_credentials", "Total"]);
  const perMinute = await grid.locator("tbody tr td:last-child").allTextContents();
  expect(perMinute.reduce((s, n) => s + Number(n), 0)).toBe(3);

  // The other windows hold the same tokens.
  await appSection.getByRole("link", { name: "Last day" }).click();
  await expect(page).toHaveURL(/\?window=day#activity$/);
  await expect(appSection.getByRole("link", { name: "Last day" })).toHaveAttribute("aria-current", "page");
  await expect(appSection.getByRole("link", { name: "Last hour" })).not.toHaveAttribute("aria-current", "page");
  await expect(page.locator("#chart-issued figcaption")).toHaveText("Tokens issued, last day: 3");
  await expect(page.locator("#chart-refused figcaption")).toHaveText("Tokens refused, last day: 2");
  await appSection.getByRole("link", { name: "Last 30 days" }).click();
  await expect(page).toHaveURL(/\?window=30d#activity$/);
  await expect(page.locator("#chart-issued figcaption")).toHaveText("Tokens issued, last 30 days: 3");
  expect(await legendCount(page, "issued", "client_credentials")).toBe(3);

  // An app nobody asked for tokens: empty charts that say so.
  await page.goto(`/admin/apps/${quietApp}`);
  await expect(page.locator("#chart-issued")).toHaveAttribute("data-total", "0");
  await expect(page.locator("#chart-issued")).toContainText("Nothing in this window.");
  await expect(page.locator("#chart-refused")).toContainText("Nothing in this window.");
  await expect(page.locator("#chart-issued rect")).toHaveCount(0);
  await expect(page.locator("#chart-issued table.legend")).toHaveCount(0);
  await hydrated(page);
  expect(errors, errors.join("\n")).toEqual([]);

  // Without JavaScript: the same SVG, legend and numbers, and the tabs are plain links.
  const nojs = await browser.newContext({ javaScriptEnabled: false });
  const p = await nojs.newPage();
  await signIn(p);
  await p.goto(`/admin/apps/${appId}`);
  await expect(p.locator("#chart-issued")).toHaveAttribute("data-total", "3");
  await expect(p.locator("#chart-issued").getByRole("img", { name: "Tokens issued, last hour: 3" })).toBeVisible();
  expect(await p.locator('#chart-issued svg[role="img"] rect').count()).toBeGreaterThan(0);
  expect(await legendCount(p, "issued", "client_credentials")).toBe(3);
  expect(await legendCount(p, "refused", "invalid_client")).toBe(2);
  await p.locator("#chart-refused details summary").click();
  await expect(p.locator("#chart-refused details table.grid")).toContainText("invalid_client");
  await p.locator("section#activity").getByRole("link", { name: "Last day" }).click();
  await expect(p).toHaveURL(/\?window=day#activity$/);
  await expect(p.locator("#chart-issued figcaption")).toHaveText("Tokens issued, last day: 3");
  await p.goto("/admin");
  await expect(p.locator("#chart-issued").getByRole("img", { name: issuedCaption })).toBeVisible();
  expect(await legendCount(p, "issued", "client_credentials")).toBe(base.cc + 3);
  expect(await legendCount(p, "sign_in", "failed")).toBe(base.failed + 1);
  await expect(p.locator("#chart-sign_in").getByRole("img", { name: /^Sign-ins, last hour: \d+$/ })).toBeVisible();
  await nojs.close();
});

test("the Audit page filters by action, object and actor, shows changes and never a password", async ({ page, browser }) => {
  const appId = unique("audit-app");
  const before = `Audit before ${appId}`;
  const after = `Audit after ${appId}`;
  const login = unique("audited");
  const password = `Pw-${unique("secret")}-not-shown`;
  const nobody = unique("audit-nobody");
  await failedSignIn(browser, nobody);
  const errors = consoleErrors(page);
  await signIn(page);

  // An app created and renamed in the portal.
  await page.goto("/admin/apps/new");
  await hydrated(page);
  await page.getByLabel("Application ID").fill(appId);
  await page.getByLabel("Application Name").fill(before);
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page).toHaveURL(new RegExp(`/admin/apps/${appId}\\?saved=created$`));
  await hydrated(page);
  await page.getByLabel("Application Name").fill(after);
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved." })).toBeVisible();

  // A user with a password.
  await page.goto("/admin/users/new");
  await hydrated(page);
  await page.getByLabel("Login Name").fill(login);
  await page.getByLabel("Email Address").fill(`${login}@example.com`);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByLabel("Confirm Password").fill(password);
  await page.getByRole("button", { name: "Create user" }).click();
  await expect(page.getByText("User created.")).toBeVisible();

  // The Audit page, from the left nav.
  await page.goto("/admin");
  await hydrated(page);
  await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Audit" }).click();
  await expect(page).toHaveURL(/\/admin\/audit$/);
  await expect(page.getByRole("heading", { name: "Audit", level: 1 })).toBeVisible();
  const table = page.locator("table.grid.audit");
  await expect(table.locator("thead th")).toHaveText(["When", "Actor", "From", "Action", "Object", "Changes"]);
  await expect(page.locator("p.pager")).toHaveText(/^\d+ record\(s\)/);
  await hydrated(page);

  // The rename: one record, with the old and the new name.
  await page.getByLabel("Object").fill(`app:${appId}`);
  await page.getByLabel("Action").selectOption({ label: "App changed" });
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/[?&]action=app\.update(&|$)/);
  await expect(page.locator("p.pager")).toHaveText(/^1 record\(s\)$/);
  await expect(table.locator("tbody tr")).toHaveCount(1);
  const renamed = table.locator("tbody tr").first();
  await expect(renamed.locator("td").nth(1)).toHaveText(ADMIN.login);
  await expect(renamed.locator("td").nth(3).locator("code")).toHaveText("app.update");
  await expect(renamed.locator("td").nth(4)).toHaveText(`app ${appId}`);
  await expect(renamed.locator("td").nth(5).locator("li").filter({ hasText: /^name:/ })).toHaveText(`name: ${before} → ${after}`);
  await expect(renamed.locator("time")).toHaveAttribute("datetime", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
  // The form shows the filter it applied.
  await expect(page.getByLabel("Object")).toHaveValue(`app:${appId}`);
  await expect(page.getByLabel("Action")).toHaveValue("app.update");

  // "Apps: any" for the same app: its creation too, newest first.
  await page.getByLabel("Action").selectOption({ label: "Apps: any" });
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/[?&]action=app(&|$)/);
  await expect(table.locator("tbody tr")).toHaveCount(2);
  await expect(table.locator("tbody tr td:nth-child(4) code")).toHaveText(["app.update", "app.create"]);

  // The user's creation by the administrator: the password shows as (set), never its text.
  await page.getByLabel("Actor").fill(ADMIN.login);
  await page.getByLabel("Object").fill("");
  await page.getByLabel("Action").selectOption({ label: "User created" });
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/[?&]actor=admin(&|$)/);
  await expect(page).toHaveURL(/[?&]action=user\.create(&|$)/);
  const created = table.locator("tbody tr").filter({ hasText: login });
  await expect(created).toHaveCount(1);
  await expect(created.locator("td").nth(4)).toHaveText(`user ${login}`);
  await expect(created.locator("li").filter({ hasText: /^password:/ })).toHaveText("password: — → (set)");
  await expect(created.locator("li").filter({ hasText: /^login_name:/ })).toHaveText(`login_name: — → ${login}`);
  expect(await page.content()).not.toContain(password);
  // Nor anywhere among everything the administrator did.
  await page.getByLabel("Action").selectOption({ label: "Any" });
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).not.toHaveURL(/action=user/);
  await expect(table.locator("tbody tr").first()).toBeVisible();
  expect(await page.content()).not.toContain(password);

  // The administrator's sign-in, from the loopback address.
  await page.getByLabel("Action").selectOption({ label: "Signed in" });
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/[?&]action=session\.sign_in(&|$)/);
  const signIns = table.locator("tbody tr");
  await expect(signIns.first()).toBeVisible();
  await expect(signIns.first().locator("td").nth(3).locator("code")).toHaveText("session.sign_in");
  await expect(signIns.first().locator("td").nth(1)).toHaveText(ADMIN.login);
  await expect(signIns.first().locator("td").nth(2)).toHaveText("127.0.0.1");
  await expect(signIns.first().locator("td").nth(4)).toHaveText(`session ${ADMIN.login}`);

  // The failed sign-in, found by the login name that was tried.
  await page.getByLabel("Actor").fill("");
  await page.getByLabel("Object").fill(nobody);
  await page.getByLabel("Action").selectOption({ label: "Sign-in failed" });
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/[?&]action=session\.sign_in_failed(&|$)/);
  await expect(table.locator("tbody tr")).toHaveCount(1);
  await expect(table.locator("tbody tr td:nth-child(4) code")).toHaveText("session.sign_in_failed");
  await expect(table.locator("tbody tr td").nth(1)).toHaveText(nobody);

  // A time window that ended before all this finds nothing of it.
  await page.getByLabel("Until (UTC)").fill("2000-01-01T00:00");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/[?&]until=2000-01-01T00%3A00(&|$)/);
  await expect(page.locator("p.pager")).toHaveText(/^0 record\(s\)$/);
  await expect(table.locator("tbody tr")).toHaveCount(0);

  // The app's Changelog still lists the rename.
  await page.goto(`/admin/apps/${appId}`);
  await hydrated(page);
  const changelog = page.getByRole("region", { name: "Changelog" });
  const row = changelog.getByRole("row").filter({ hasText: after });
  await expect(row).toContainText("name");
  await expect(row).toContainText(before);
  await expect(row).toContainText(ADMIN.login);
  expect(errors, errors.join("\n")).toEqual([]);
});

test("the Audit page pages through 50 records at a time, with and without JavaScript", async ({ page, browser }) => {
  await signIn(page);
  const prefix = unique("Paged");
  for (let i = 0; i < 51; i++) await api(page, "POST", "/api/v1/roles", { name: `${prefix}-${i}` });
  await page.goto("/admin/audit?action=role.create");
  const table = page.locator("table.grid.audit");
  const pager = page.locator("p.pager");
  const total = Number((await pager.innerText()).match(/^(\d+) record\(s\)/)[1]);
  expect(total).toBeGreaterThanOrEqual(51);
  await expect(table.locator("tbody tr")).toHaveCount(50);
  // Newest first: the last role made heads the list.
  await expect(table.locator("tbody tr").first().locator("td").nth(4)).toHaveText(`role ${prefix}-50`);
  await expect(pager.getByRole("link", { name: "Previous" })).toHaveCount(0);
  await hydrated(page);
  await pager.getByRole("link", { name: "Next" }).click();
  await expect(page).toHaveURL(/[?&]offset=50$/);
  await expect(page).toHaveURL(/[?&]action=role\.create&/);
  await expect(table.locator("tbody tr")).toHaveCount(Math.min(total - 50, 50));
  await expect(page.getByLabel("Action")).toHaveValue("role.create");
  await expect(table.locator("tbody tr td:nth-child(4) code").first()).toHaveText("role.create");
  await pager.getByRole("link", { name: "Previous" }).click();
  await expect(page).toHaveURL(/[?&]offset=0$/);
  await expect(table.locator("tbody tr")).toHaveCount(50);
  await expect(table.locator("tbody tr").first().locator("td").nth(4)).toHaveText(`role ${prefix}-50`);

  // The same links as plain page loads.
  const nojs = await browser.newContext({ javaScriptEnabled: false });
  const p = await nojs.newPage();
  await signIn(p, undefined, undefined, "/admin/audit?action=role.create");
  await expect(p).toHaveURL(/\/admin\/audit\?action=role\.create$/);
  await expect(p.locator("table.grid.audit tbody tr")).toHaveCount(50);
  await p.locator("p.pager").getByRole("link", { name: "Next" }).click();
  await expect(p).toHaveURL(/[?&]offset=50$/);
  await expect(p.locator("table.grid.audit tbody tr")).toHaveCount(Math.min(total - 50, 50));
  await expect(p.locator("p.pager")).toHaveText(new RegExp(`^${total} record\\(s\\) Previous`));
  await nojs.close();
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });
  test("the Audit filter is a plain GET form", async ({ page }) => {
    await signIn(page);
    await page.goto("/admin/audit");
    await expect(page.getByRole("heading", { name: "Audit", level: 1 })).toBeVisible();
    await page.getByLabel("Actor").fill(ADMIN.login);
    await page.getByLabel("Action").selectOption({ label: "Signed in" });
    await page.getByRole("button", { name: "Filter" }).click();
    await expect(page).toHaveURL(/\/admin\/audit\?.*action=session\.sign_in/);
    const rows = page.locator("table.grid.audit tbody tr");
    await expect(rows.first()).toBeVisible();
    await expect(rows.locator("td:nth-child(4) code")).toHaveText(Array(await rows.count()).fill("session.sign_in"));
    await expect(page.getByLabel("Action")).toHaveValue("session.sign_in");
    await expect(page.getByLabel("Actor")).toHaveValue(ADMIN.login);
  });
});

test("the admin API's documentation is browsable at /api/v1/docs under the portal's CSP", async ({ page }) => {
  const errors = consoleErrors(page);
  const blocked = [];
  page.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) blocked.push(m.text()); });
  const res = await page.goto("/api/v1/docs/");
  expect(res.headers()["content-security-policy"]).toContain("script-src 'self'");
  // Swagger UI renders the document: its title, the operations of each tag, the audit call.
  await expect(page.getByRole("heading", { name: /Gatehouse admin API/ })).toBeVisible({ timeout: 15_000 });
  await expect(page.locator(".opblock-summary-path").filter({ hasText: /^\/api\/v1\/audit$/ })).toHaveCount(1);
  await expect(page.locator(".opblock-summary-path").filter({ hasText: /^\/api\/v1\/import$/ })).toHaveCount(1);
  // Every file came from Gatehouse itself; nothing was blocked by the policy.
  expect(blocked).toEqual([]);
  expect(errors).toEqual([]);
});
