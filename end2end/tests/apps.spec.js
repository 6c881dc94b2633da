// The app screen: every setting of the documents, scopes with REST regexes, changelog (issue: Apps).
const { test, expect } = require("@playwright/test");
const { signIn, hydrated, unique } = require("./helpers");

async function openNewApp(page) {
  await signIn(page, undefined, undefined, "/admin/apps");
  await page.getByRole("link", { name: "Add app" }).click();
  await expect(page).toHaveURL(/\/admin\/apps\/new$/);
  await hydrated(page);
}

test("create an app with two scopes, every setting survives a reload", async ({ page }) => {
  const appId = unique("dir");
  await openNewApp(page);
  await page.getByLabel("Application ID").fill(appId);
  await page.getByLabel("Application Name").fill("Directory client");
  await page.getByLabel("Category").fill("Integrations");
  await page.getByRole("radio", { name: "Confidential" }).check();
  await page.getByRole("button", { name: "Add redirect URI" }).click();
  await page.getByLabel("Redirect URI 1", { exact: true }).fill("https://client.example/cb");
  await page.getByRole("radio", { name: "Opaque" }).check();
  await page.getByRole("checkbox", { name: "Client Credentials" }).check();
  await page.getByLabel("Token Lifetime", { exact: true }).fill("1");
  await page.getByLabel("Token Lifetime unit").selectOption("hours");

  await page.getByRole("button", { name: "Add scope" }).click();
  const first = page.getByRole("group", { name: "Scope 1" });
  await first.getByLabel("Name").fill("directory");
  await first.getByLabel("Description").fill("Create users");
  await first.getByLabel("REST regex 1", { exact: true }).fill("CDirectoryService/(unclosed");
  // Checked as it is typed.
  await expect(first.getByText(/invalid regex/)).toBeVisible();
  await page.getByRole("button", { name: "Add scope" }).click();
  const second = page.getByRole("group", { name: "Scope 2" });
  await second.getByLabel("Name").fill("all");
  await second.getByLabel("REST regex 1", { exact: true }).fill(".*");
  await page.getByRole("checkbox", { name: "System Administrator" }).check();

  // And again on save: the error stays beside the field and nothing typed is lost.
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Please correct the errors above.")).toBeVisible();
  await expect(first.getByText(/invalid regex/)).toBeVisible();
  await expect(first.getByLabel("REST regex 1", { exact: true })).toHaveValue("CDirectoryService/(unclosed");
  await expect(page.getByLabel("Application Name")).toHaveValue("Directory client");
  await expect(second.getByLabel("Name")).toHaveValue("all");

  await first.getByLabel("REST regex 1", { exact: true }).fill("CDirectoryService/.*");
  await expect(first.getByText(/invalid regex/)).toHaveCount(0);
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page).toHaveURL(new RegExp(`/admin/apps/${appId}\\?saved=created$`));

  await page.reload();
  await hydrated(page);
  await expect(page.getByLabel("Application ID")).toHaveValue(appId);
  await expect(page.getByLabel("Application Name")).toHaveValue("Directory client");
  await expect(page.getByLabel("Category")).toHaveValue("Integrations");
  await expect(page.getByRole("radio", { name: "Confidential" })).toBeChecked();
  await expect(page.getByLabel("Redirect URI 1", { exact: true })).toHaveValue("https://client.example/cb");
  await expect(page.getByRole("radio", { name: "Opaque" })).toBeChecked();
  await expect(page.getByRole("checkbox", { name: "Client Credentials" })).toBeChecked();
  await expect(page.getByLabel("Token Lifetime", { exact: true })).toHaveValue("1");
  await expect(page.getByLabel("Token Lifetime unit")).toHaveValue("hours");
  await expect(page.getByRole("group", { name: "Scope 1" }).getByLabel("Name")).toHaveValue("directory");
  await expect(page.getByRole("group", { name: "Scope 1" }).getByLabel("REST regex 1", { exact: true })).toHaveValue("CDirectoryService/.*");
  await expect(page.getByRole("group", { name: "Scope 2" }).getByLabel("Name")).toHaveValue("all");
  await expect(page.getByRole("checkbox", { name: "System Administrator" })).toBeChecked();
  // The endpoints and a ready-to-copy curl.
  await expect(page.getByText(`/oauth2/token/${appId}`).first()).toBeVisible();
  await expect(page.getByRole("figure", { name: "Client credentials request" })).toContainText("grant_type=client_credentials");

  // The list shows it.
  await page.goto("/admin/apps");
  const row = page.getByRole("row", { name: new RegExp(appId) });
  await expect(row).toContainText("Integrations");
  await expect(row).toContainText("Opaque");
});

test("editing one field shows in the changelog", async ({ page }) => {
  const appId = unique("log");
  await openNewApp(page);
  await page.getByLabel("Application ID").fill(appId);
  await page.getByLabel("Application Name").fill("Before");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page).toHaveURL(new RegExp(`/admin/apps/${appId}`));
  await hydrated(page);
  await page.getByLabel("Application Name").fill("After");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved." })).toBeVisible();
  const changelog = page.getByRole("region", { name: "Changelog" });
  const row = changelog.getByRole("row").filter({ hasText: "After" });
  await expect(row).toContainText("name");
  await expect(row).toContainText("Before");
  await expect(row).toContainText("admin");
});

test("a duplicate Application ID is shown beside the field", async ({ page }) => {
  const appId = unique("dup");
  await openNewApp(page);
  await page.getByLabel("Application ID").fill(appId);
  await page.getByLabel("Application Name").fill("One");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page).toHaveURL(new RegExp(`/admin/apps/${appId}`));
  await page.goto("/admin/apps/new");
  await hydrated(page);
  await page.getByLabel("Application ID").fill(appId);
  await page.getByLabel("Application Name").fill("Two");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.locator("#app_id-error")).toContainText("already exists");
  await expect(page.getByLabel("Application Name")).toHaveValue("Two");
});

test("the app screen works with the keyboard alone", async ({ page }) => {
  const appId = unique("kbd");
  await openNewApp(page);
  const focusByTab = async (locator, max = 60) => {
    for (let i = 0; i < max; i++) {
      if (await locator.evaluate((el) => el === document.activeElement)) return;
      await page.keyboard.press("Tab");
    }
    throw new Error("never reached by Tab");
  };
  await focusByTab(page.getByLabel("Application ID"));
  await page.keyboard.type(appId);
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("Application Name")).toBeFocused();
  await page.keyboard.type("Keyboard app");
  await focusByTab(page.getByRole("button", { name: "Add scope" }), 200);
  await page.keyboard.press("Enter");
  await focusByTab(page.getByRole("group", { name: "Scope 1" }).getByLabel("Name"));
  await page.keyboard.type("kbd");
  await focusByTab(page.getByRole("button", { name: "Save" }), 200);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(new RegExp(`/admin/apps/${appId}`));
});
