// The hosted login page and the admin shell (issue: Foundation).
const { test, expect } = require("@playwright/test");
const { ADMIN, signIn } = require("./helpers");

test("administrator signs in with the bootstrap password and sees the portal", async ({ page }) => {
  await signIn(page);
  await expect(page).toHaveURL(/\/admin$/);
  const nav = page.getByRole("navigation", { name: "Admin" });
  await expect(nav.getByRole("link", { name: "Apps" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "Users" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "Roles" })).toBeVisible();
  await expect(page.getByText(`Signed in as ${ADMIN.login}`)).toBeVisible();
});

test("a wrong password shows one error and keeps the login name", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("Login Name").fill(ADMIN.login);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Invalid login name or password.");
  await expect(page.getByLabel("Login Name")).toHaveValue(ADMIN.login);
  await expect(page).toHaveURL(/\/login/);
});

test("an unknown login name gives the very same error", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("Login Name").fill("nobody-here");
  await page.getByLabel("Password").fill("whatever-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Invalid login name or password.");
});

test("sign-in works with the keyboard alone", async ({ page }) => {
  await page.goto("/login");
  await expect(page.getByLabel("Login Name")).toBeFocused();
  await page.keyboard.type(ADMIN.login);
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("Password")).toBeFocused();
  await page.keyboard.type(ADMIN.password);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/admin$/);
  await expect(page.getByRole("navigation", { name: "Admin" })).toBeVisible();
});

test("an anonymous visitor goes to the login page and comes back afterwards", async ({ page }) => {
  await page.goto("/admin/roles");
  await expect(page).toHaveURL(/\/login\?return_to=%2Fadmin%2Froles/);
  await page.getByLabel("Login Name").fill(ADMIN.login);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/admin\/roles$/);
  await expect(page.getByRole("heading", { name: "Roles", exact: true })).toBeVisible();
});

test("signing out ends the session", async ({ page, browser }) => {
  await signIn(page);
  // The session cookie as it was, to present again after signing out: the server, not the
  // browser's cookie jar, must refuse it.
  const old = (await page.context().cookies()).find((c) => c.name === "gatehouse_session");
  expect(old).toBeTruthy();
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.goto("/admin");
  await expect(page).toHaveURL(/\/login/);
  const other = await browser.newContext();
  await other.addCookies([old]);
  const replay = await other.newPage();
  await replay.goto("/admin");
  await expect(replay).toHaveURL(/\/login/);
  await other.close();
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });
  test("sign-in and its error work as plain form posts", async ({ page }) => {
    await page.goto("/login?return_to=/admin/users");
    await page.getByLabel("Login Name").fill(ADMIN.login);
    await page.getByLabel("Password").fill("wrong-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert")).toHaveText("Invalid login name or password.");
    await expect(page.getByLabel("Login Name")).toHaveValue(ADMIN.login);
    await page.getByLabel("Password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/admin\/users$/);
  });
});

test("the portal hydrates without console errors", async ({ page }) => {
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  await signIn(page);
  await require("./helpers").hydrated(page);
  expect(errors).toEqual([]);
});
