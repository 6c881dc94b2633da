// Users and roles in the portal (issue: Directory).
const { test, expect } = require("@playwright/test");
const { signIn, hydrated, unique } = require("./helpers");

async function createUser(page, login, { confidential = false, password = "client-secret-123" } = {}) {
  await page.goto("/admin/users/new");
  await hydrated(page);
  await page.getByLabel("Login Name").fill(login);
  await page.getByLabel("Email Address").fill(`${login}@example.com`);
  await page.getByLabel("Display Name").fill(`Display ${login}`);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByLabel("Confirm Password").fill(password);
  if (confidential) await page.getByRole("switch", { name: "Is OAuth confidential client" }).check();
  await page.getByRole("button", { name: "Create user" }).click();
}

test("an administrator creates a confidential-client user and adds it to a new role", async ({ page }) => {
  const login = unique("client");
  const role = unique("Role");
  await signIn(page);
  await createUser(page, login, { confidential: true });
  await expect(page.getByRole("heading", { name: login })).toBeVisible();
  await expect(page.getByText("User created.")).toBeVisible();
  await expect(page.getByRole("switch", { name: "Is OAuth confidential client" })).toBeChecked();

  await page.goto("/admin/roles");
  await hydrated(page);
  await page.getByLabel("Name", { exact: true }).fill(role);
  await page.getByLabel("Description").fill("API clients");
  await page.getByRole("checkbox", { name: "users" }).check();
  await page.getByRole("button", { name: "Create role" }).click();
  await expect(page.getByRole("heading", { name: role })).toBeVisible();
  await expect(page.getByText("Role created.")).toBeVisible();
  await hydrated(page);
  await page.getByLabel("Add member by login name").fill(login.toUpperCase());
  await page.getByRole("button", { name: "Add member" }).click();
  await expect(page.getByRole("region", { name: "Members" }).getByRole("link", { name: login })).toBeVisible();

  // The user's page lists the role too.
  await page.getByRole("region", { name: "Members" }).getByRole("link", { name: login }).click();
  await expect(page.getByRole("region", { name: "Roles" }).getByRole("link", { name: role })).toBeVisible();
});

test("a duplicate login name shows the field error without losing the other fields", async ({ page }) => {
  const login = unique("dup");
  await signIn(page);
  await createUser(page, login);
  await expect(page.getByRole("heading", { name: login })).toBeVisible();
  await createUser(page, login.toUpperCase());
  await expect(page.locator("#f-login_name-error")).toHaveText("a user with this Login Name already exists");
  await expect(page.getByLabel("Login Name")).toHaveValue(login.toUpperCase());
  await expect(page.getByLabel("Email Address")).toHaveValue(`${login.toUpperCase()}@example.com`);
  await expect(page.getByLabel("Display Name")).toHaveValue(`Display ${login.toUpperCase()}`);
  await expect(page).toHaveURL(/\/admin\/users\/new$/);
});

test("mismatched passwords are reported beside Confirm Password", async ({ page }) => {
  await signIn(page);
  await page.goto("/admin/users/new");
  await hydrated(page);
  await page.getByLabel("Login Name").fill(unique("mm"));
  await page.getByLabel("Email Address").fill("mm@example.com");
  await page.getByLabel("Password", { exact: true }).fill("password-one");
  await page.getByLabel("Confirm Password").fill("password-two");
  await page.getByRole("button", { name: "Create user" }).click();
  await expect(page.locator("#f-confirm_password-error")).toHaveText("The passwords do not match");
});

test("a user without the users right cannot open the Users page", async ({ page, browser }) => {
  const login = unique("roles-admin");
  const role = unique("RolesOnly");
  await signIn(page);
  await createUser(page, login, { password: "roles-admin-pass" });
  await expect(page.getByRole("heading", { name: login })).toBeVisible();
  await page.goto("/admin/roles");
  await hydrated(page);
  await page.getByLabel("Name", { exact: true }).fill(role);
  await page.getByRole("checkbox", { name: "roles" }).check();
  await page.getByRole("button", { name: "Create role" }).click();
  await expect(page.getByRole("heading", { name: role })).toBeVisible();
  await hydrated(page);
  await page.getByLabel("Add member by login name").fill(login);
  await page.getByRole("button", { name: "Add member" }).click();
  await expect(page.getByRole("region", { name: "Members" }).getByRole("link", { name: login })).toBeVisible();

  const other = await browser.newContext();
  const p2 = await other.newPage();
  await signIn(p2, login, "roles-admin-pass");
  await expect(p2.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Users" })).toHaveCount(0);
  await expect(p2.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Roles" })).toBeVisible();
  const res = await p2.goto("/admin/users");
  expect(res.status()).toBe(403);
  await expect(p2.getByRole("heading", { name: "Access denied" })).toBeVisible();
  await other.close();
});
