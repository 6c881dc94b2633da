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

test("a delegated administrator sees no way to act on someone who holds more", async ({ page, browser }) => {
  const login = unique("helpdesk");
  const plain = unique("plain");
  const role = unique("Helpdesk");
  await signIn(page);
  const origin = new URL(page.url()).origin;
  const api = async (method, path, data) => {
    const res = await page.request.fetch(path, { method, data, headers: { Origin: origin } });
    expect(res.status(), `${method} ${path}`).toBeLessThan(300);
    return res.status() === 204 ? null : res.json();
  };
  const r = await api("POST", "/api/v1/roles", { name: role, admin_rights: ["users", "roles"] });
  const u = await api("POST", "/api/v1/users", { login_name: login, email: `${login}@example.com`, password: "helpdesk-pass-1" });
  const p = await api("POST", "/api/v1/users", { login_name: plain, email: `${plain}@example.com`, password: "plain-pass-123" });
  await api("PUT", `/api/v1/roles/${r.id}/members/${u.id}`);
  const adminId = (await api("GET", "/api/v1/users?login_name=admin")).items[0].id;
  const sys = (await api("GET", "/api/v1/roles?limit=500")).items.find((x) => x.name === "System Administrator");

  const other = await browser.newContext();
  const p2 = await other.newPage();
  await signIn(p2, login, "helpdesk-pass-1");
  // An administrator holding more: read only, nothing to delete.
  await p2.goto(`/admin/users/${adminId}`);
  await hydrated(p2);
  await expect(p2.getByRole("heading", { name: "admin", exact: true })).toBeVisible();
  await expect(p2.getByText("This user holds admin rights you do not hold")).toBeVisible();
  await expect(p2.getByLabel("Login Name")).toBeDisabled();
  await expect(p2.getByRole("button", { name: "Save" })).toBeDisabled();
  await expect(p2.getByRole("button", { name: "Delete user" })).toBeHidden();
  // A plain user is theirs to edit.
  await p2.goto(`/admin/users/${p.id}`);
  await hydrated(p2);
  await expect(p2.getByRole("button", { name: "Save" })).toBeEnabled();
  // System Administrator: no member controls, no saving.
  await p2.goto(`/admin/roles/${sys.id}`);
  await hydrated(p2);
  await expect(p2.getByRole("heading", { name: "System Administrator", exact: true })).toBeVisible();
  await expect(p2.getByLabel("Add member by login name")).toBeHidden();
  await expect(p2.getByRole("button", { name: "Save" })).toBeDisabled();
  // And a crafted request is refused all the same.
  const crafted = await p2.request.fetch(`/api/v1/roles/${sys.id}/members/${u.id}`, { method: "PUT", headers: { Origin: origin } });
  expect(crafted.status()).toBe(403);
  const after = (await api("GET", "/api/v1/roles?limit=500")).items.find((x) => x.name === "System Administrator");
  expect(after.members).not.toContain(u.id);
  await other.close();
});
