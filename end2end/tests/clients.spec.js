// The Clients page of an app whose Client ID Type is "registered" (SPEC §3b): an administrator
// adds a client (its secret shown once), gives it a new secret and deletes it, with plain forms.
const { test, expect } = require("@playwright/test");
const { signIn, hydrated, unique, consoleErrors } = require("./helpers");

const APP = unique("clients");

test.beforeAll(async ({ browser }) => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await signIn(page);
  const origin = new URL(page.url()).origin;
  const res = await page.request.post("/api/v1/apps", {
    headers: { Origin: origin },
    data: {
      app_id: APP, name: "Clients App", client_id_type: "registered",
      auth_methods: ["authorization_code", "client_credentials"], user_access_roles: ["Everybody"],
    },
  });
  expect(res.status(), await res.text()).toBe(201);
  await ctx.close();
});

test("an administrator adds a client, gives it a new secret and deletes it", async ({ page }) => {
  const errors = consoleErrors(page);
  await signIn(page, undefined, undefined, `/admin/apps/${APP}/clients`);
  await hydrated(page);
  await expect(page.getByRole("heading", { name: "Clients of Clients App" })).toBeVisible();
  await expect(page.getByText("No clients yet.")).toBeVisible();
  await page.getByLabel("Client name").fill("Nightly reports");
  await page.getByLabel(/Redirect URIs/).fill("https://reports.example/cb");
  await page.getByRole("checkbox", { name: "Client credentials" }).check();
  await page.getByRole("button", { name: "Add client" }).click();
  await expect(page.getByRole("status")).toHaveText("Client added.");
  const shown = page.getByRole("region", { name: "The client's secret" }).locator("pre");
  const secret = await shown.textContent();
  expect(secret.length).toBeGreaterThan(40);
  const row = page.getByRole("row", { name: /Nightly reports/ });
  await expect(row).toContainText("client_secret_basic");
  await expect(row).toContainText("authorization_code, client_credentials");
  await hydrated(page);

  await page.getByRole("button", { name: "New secret for Nightly reports" }).click();
  await expect(page.getByRole("status")).toHaveText("New secret made; the old one no longer works.");
  const rotated = await page.getByRole("region", { name: "The client's secret" }).locator("pre").textContent();
  expect(rotated).not.toBe(secret);

  await page.getByRole("button", { name: "Delete Nightly reports" }).click();
  await expect(page.getByRole("status")).toHaveText("Client deleted; its tokens no longer work.");
  await expect(page.getByText("No clients yet.")).toBeVisible();
  expect(errors).toEqual([]);
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });
  test("a client is added with the plain form", async ({ page }) => {
    await signIn(page, undefined, undefined, `/admin/apps/${APP}/clients`);
    await page.getByLabel("Client name").fill("No-JS tool");
    await page.getByLabel(/Redirect URIs/).fill("http://127.0.0.1/callback");
    await page.getByLabel("Authentication at the token endpoint").selectOption("none");
    await page.getByRole("button", { name: "Add client" }).click();
    await expect(page.getByRole("status")).toHaveText("Client added.");
    await expect(page.getByRole("row", { name: /No-JS tool/ })).toContainText("none");
    await expect(page.getByRole("region", { name: "The client's secret" })).toHaveCount(0);
  });
});
