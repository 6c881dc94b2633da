// The app screen with JavaScript off: every row is added and removed by a plain form post that
// re-renders the page with what was typed, and Save stores the app (issue: restructuring).
const { test, expect } = require("@playwright/test");
const { signIn, unique } = require("./helpers");

test.use({ javaScriptEnabled: false });

test("create, edit and remove rows of an app without JavaScript", async ({ page }) => {
  const appId = unique("nojs");
  await signIn(page, undefined, undefined, "/admin/apps");
  await page.goto("/admin/apps/new");
  await page.getByLabel("Application ID").fill(appId);
  await page.getByLabel("Application Name").fill("No script app");
  await page.getByRole("radio", { name: "Confidential" }).check();
  await page.getByRole("checkbox", { name: "Client Credentials" }).check();
  await page.getByRole("checkbox", { name: "Authorization Code" }).check();

  // Two redirect rows, each added by a round trip that keeps what was typed.
  await page.getByRole("button", { name: "Add redirect URI" }).click();
  await expect(page.getByLabel("Application Name")).toHaveValue("No script app");
  await page.getByLabel("Redirect URI 1", { exact: true }).fill("https://one.example/cb");
  await page.getByRole("button", { name: "Add redirect URI" }).click();
  await expect(page.getByLabel("Redirect URI 1", { exact: true })).toHaveValue("https://one.example/cb");
  await page.getByLabel("Redirect URI 2", { exact: true }).fill("https://two.example/cb");

  // Two scopes with two regexes each.
  for (const [n, name] of [[1, "read"], [2, "write"]]) {
    await page.getByRole("button", { name: "Add scope" }).click();
    const scope = page.getByRole("group", { name: `Scope ${n}` });
    await scope.getByLabel("Name").fill(name);
    await scope.getByLabel("REST regex 1", { exact: true }).fill(`api/v1/${name}/a`);
    await scope.getByRole("button", { name: "Add REST regex" }).click();
    const again = page.getByRole("group", { name: `Scope ${n}` });
    await expect(again.getByLabel("Name")).toHaveValue(name);
    await again.getByLabel("REST regex 2", { exact: true }).fill(`api/v1/${name}/b`);
  }
  await page.getByRole("checkbox", { name: "System Administrator" }).check();
  await page.getByRole("checkbox", { name: "Everybody" }).check();
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page).toHaveURL(new RegExp(`/admin/apps/${appId}\\?saved=created$`));
  await expect(page.getByText("App created.")).toBeVisible();

  let res = await page.request.get(`/api/v1/apps/${appId}`);
  expect(res.status()).toBe(200);
  let app = await res.json();
  expect(app.redirect_uris).toEqual(["https://one.example/cb", "https://two.example/cb"]);
  expect(app.scopes.map((s) => [s.name, s.rest_regexes])).toEqual([
    ["read", ["api/v1/read/a", "api/v1/read/b"]],
    ["write", ["api/v1/write/a", "api/v1/write/b"]],
  ]);
  expect(app.user_access_roles.sort()).toEqual(["Everybody", "System Administrator"]);
  expect(app.auth_methods).toEqual(["client_credentials", "authorization_code"]);

  // Edit one of each and remove one of each.
  await page.getByLabel("Redirect URI 2", { exact: true }).fill("https://two.example/callback");
  await page.getByRole("button", { name: "Remove Redirect URI 1" }).click();
  await expect(page.getByLabel("Redirect URI 1", { exact: true })).toHaveValue("https://two.example/callback");
  await expect(page.getByLabel("Redirect URI 2", { exact: true })).toHaveCount(0);
  const read = page.getByRole("group", { name: "Scope 1" });
  await read.getByLabel("REST regex 1", { exact: true }).fill("api/v1/read/edited");
  await read.getByRole("button", { name: "Remove REST regex 2" }).click();
  await expect(page.getByRole("group", { name: "Scope 1" }).getByLabel("REST regex 1", { exact: true })).toHaveValue("api/v1/read/edited");
  await page.getByRole("button", { name: "Remove Scope 2" }).click();
  await expect(page.getByRole("group", { name: "Scope 2" })).toHaveCount(0);
  await page.getByRole("checkbox", { name: "Everybody" }).uncheck();
  await page.getByLabel("Application Name").fill("No script app, edited");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page).toHaveURL(new RegExp(`/admin/apps/${appId}\\?saved=saved$`));

  res = await page.request.get(`/api/v1/apps/${appId}`);
  app = await res.json();
  expect(app.name).toBe("No script app, edited");
  expect(app.redirect_uris).toEqual(["https://two.example/callback"]);
  expect(app.scopes).toEqual([{ name: "read", description: "", rest_regexes: ["api/v1/read/edited"] }]);
  expect(app.user_access_roles).toEqual(["System Administrator"]);
  // The changelog records the edit.
  res = await page.request.get(`/api/v1/apps/${appId}/changelog`);
  const log = await res.json();
  expect(log.items.map((c) => c.field)).toContain("redirect_uris");
});
