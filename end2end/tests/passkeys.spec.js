// Passkeys (SPEC §6a) with Chromium's virtual authenticator (the DevTools WebAuthn domain): a
// person adds a passkey on their security page, signs out, signs in with it alone; after a
// password a passkey is the second step; removing it ends both. WebAuthn needs a host name,
// so this spec starts its own Gatehouse (a fresh database) whose public URL is
// http://localhost:PORT — two instances of it, to finish a ceremony on the one that did not
// begin it.
const { test, expect, request } = require("@playwright/test");
const { spawn } = require("child_process");
const path = require("path");
const fs = require("fs");
const os = require("os");
const { ADMIN } = require("./helpers");

const port = Number(process.env.E2E_PORT || 3100) + 7;
const portB = port + 1;
const base = `http://localhost:${port}`;
const PERSON = { login: "pk-alice", password: "pk-alice-password-1" };
const root = path.join(__dirname, "..", "..");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-passkeys-"));
const servers = [];

/** A Gatehouse on `listen`, on this spec's database, whose public URL is `base`: the second one
 * is another instance of the same deployment (sessions and ceremonies in the database). */
function start(listen) {
  const bin = path.join(root, "target", process.env.E2E_PROFILE || "debug", "gatehouse");
  const p = spawn(bin, [], {
    env: {
      ...process.env,
      DATABASE_URL: `sqlite://${dir}/gatehouse.db`,
      GATEHOUSE_BIND: `127.0.0.1:${listen}`,
      GATEHOUSE_PUBLIC_URL: base,
      GATEHOUSE_ADMIN_USER: ADMIN.login,
      GATEHOUSE_ADMIN_PASSWORD: ADMIN.password,
      GATEHOUSE_SECRET_KEY: "passkeys-spec-secret-0123456789abcdefgh",
      LEPTOS_SITE_ROOT: path.join(root, "target", "site"),
      RUST_LOG: "warn",
    },
    stdio: "ignore",
  });
  servers.push(p);
}

async function ready(listen) {
  for (let i = 0; i < 300; i++) {
    if (await fetch(`http://127.0.0.1:${listen}/readyz`).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no Gatehouse on ${listen}`);
}

test.describe.configure({ mode: "serial" });

test.beforeAll(async () => {
  start(port);
  await ready(port);
  start(portB);
  await ready(portB);
  // The administrator makes the person through the admin API.
  const admin = await request.newContext({ baseURL: base, extraHTTPHeaders: { Origin: base } });
  const login = await admin.post("/sfn/login", {
    headers: { Accept: "text/html" },
    form: { login_name: ADMIN.login, password: ADMIN.password, return_to: "/admin" },
    maxRedirects: 0,
  });
  expect(login.status()).toBe(302);
  const made = await admin.post("/api/v1/users", {
    data: { login_name: PERSON.login, email: "pk-alice@example.com", password: PERSON.password, display_name: "Alice Passkey" },
  });
  expect(made.status(), await made.text()).toBe(201);
  await admin.dispose();
});

test.afterAll(() => {
  for (const p of servers) p.kill("SIGTERM");
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A virtual platform authenticator that keeps discoverable credentials and verifies the user.
 * The person's touch is simulated only when `touch()` says so: with it always on, the login
 * page's passkey autofill (a conditional request made as the page loads) would be answered at
 * once, before the test typed a password. A request is answered by the setting in force when it
 * starts, so `touch()` comes before the button that starts one. */
async function authenticator(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: false,
    },
  });
  const touch = (enabled = true) =>
    cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId, enabled });
  return { cdp, authenticatorId, touch };
}

/**
 * Presses a passkey sign-in button so that the request it starts is answered and nothing else:
 * the login page's autofill request (made as it loaded) would be answered too if the touch were
 * simulated while it waits, so the button's ceremony is held at the server's door until the
 * touch is on (the button has aborted the autofill request by then).
 */
async function pressPasskeyButton(page, name, touch) {
  await page.waitForLoadState("networkidle");
  let arrived;
  const reached = new Promise((r) => (arrived = r));
  let release;
  const go = new Promise((r) => (release = r));
  const door = `${base}/login/passkey/begin`;
  await page.route(
    door,
    async (route) => {
      arrived();
      await go;
      await route.continue();
    },
    { times: 1 },
  );
  await page.getByRole("button", { name }).click();
  await reached;
  await touch();
  release();
}

async function password(page, returnTo) {
  await page.goto(`${base}/login?return_to=${encodeURIComponent(returnTo)}`);
  await page.getByLabel("Login Name").fill(PERSON.login);
  await page.getByLabel("Password").fill(PERSON.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

// The authenticator's credentials at the end of the first test (with their sign counter), to
// load into the second test's authenticator: each test has a fresh browser context.
let saved = [];

test("a passkey added on the security page signs its person in without a password", async ({ page, context }) => {
  const virtual = await authenticator(page);
  await password(page, "/account/security");
  await expect(page).toHaveURL(`${base}/account/security`);
  await expect(page.getByText("You have no passkey.")).toBeVisible();

  await page.getByLabel("Name of the new passkey").fill("Laptop");
  await virtual.touch();
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await expect(page.getByText("Your passkey was added.")).toBeVisible();
  await expect(page.locator("#passkeys")).toContainText("Laptop");
  const { credentials } = await virtual.cdp.send("WebAuthn.getCredentials", {
    authenticatorId: virtual.authenticatorId,
  });
  expect(credentials).toHaveLength(1);
  expect(credentials[0].isResidentCredential, "a discoverable credential").toBe(true);

  // Signed out, the passkey alone signs the person in.
  await virtual.touch(false);
  await context.clearCookies();
  await page.goto(`${base}/login?return_to=${encodeURIComponent("/account/security")}`);
  await pressPasskeyButton(page, "Sign in with a passkey", virtual.touch);
  await expect(page).toHaveURL(`${base}/account/security`);
  await expect(page.getByText("Signed in as")).toContainText(PERSON.login);
  await expect(page.locator("#passkeys")).not.toContainText("never");
  saved = (await virtual.cdp.send("WebAuthn.getCredentials", { authenticatorId: virtual.authenticatorId })).credentials;
});

test("after a password the passkey is the second step, until it is removed", async ({ page, context }) => {
  // The same authenticator (its credential) in this test's page.
  const { cdp, authenticatorId, touch } = await authenticator(page);
  expect(saved).toHaveLength(1);
  for (const c of saved) {
    await cdp.send("WebAuthn.addCredential", { authenticatorId, credential: c });
  }

  await password(page, "/account/security");
  await expect(page).toHaveURL(/\/login\/second\?return_to=%2Faccount%2Fsecurity/);
  await expect(page.getByText("Signing in as")).toContainText(PERSON.login);
  await pressPasskeyButton(page, "Use a passkey", touch);
  await expect(page).toHaveURL(`${base}/account/security`);
  await touch(false);

  // Removed, it no longer stands between the password and the account.
  await page.getByRole("button", { name: "Remove the passkey Laptop" }).click();
  await expect(page.getByText("The passkey was removed.")).toBeVisible();
  await expect(page.getByText("You have no passkey.")).toBeVisible();
  await context.clearCookies();
  await password(page, "/account/security");
  await expect(page).toHaveURL(`${base}/account/security`);
  // And it signs no one in: the server no longer knows it.
  await context.clearCookies();
  await page.goto(`${base}/login`);
  await pressPasskeyButton(page, "Sign in with a passkey", touch);
  await expect(page.locator("[data-passkey-status]")).toHaveText(/not accepted|cancelled/);
  await expect(page).toHaveURL(/\/login/);
});

test("a ceremony begun on one instance is finished on the other", async ({ page, context }) => {
  const { touch } = await authenticator(page);
  // Every second step of a ceremony goes to instance B; the first went to A.
  const toB = (url) => url.replace(`localhost:${port}`, `127.0.0.1:${portB}`);
  for (const step of ["/account/passkeys/finish", "/login/passkey/finish"]) {
    await page.route(`${base}${step}`, async (route) => {
      const response = await route.fetch({ url: toB(route.request().url()) });
      await route.fulfill({ response });
    });
  }
  await password(page, "/account/security");
  await expect(page).toHaveURL(`${base}/account/security`);
  await page.getByLabel("Name of the new passkey").fill("Phone");
  await touch();
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await expect(page.getByText("Your passkey was added.")).toBeVisible();
  await expect(page.locator("#passkeys")).toContainText("Phone");

  await touch(false);
  await context.clearCookies();
  await page.goto(`${base}/login?return_to=${encodeURIComponent("/account/security")}`);
  await pressPasskeyButton(page, "Sign in with a passkey", touch);
  await expect(page).toHaveURL(`${base}/account/security`);
  await expect(page.getByText("Signed in as")).toContainText(PERSON.login);
});
