// Self-service by e-mail in Chromium (SPEC §6b): a person creates an account at /signup, confirms
// the address with the link the mail brings, signs in; forgets the password, asks for a link,
// chooses a new one, and signs in with it. The mail goes through serve.sh's SMTP sink on
// loopback (end2end/smtp-sink.js), which writes each message to E2E_MAIL_DIR.
const { test, expect } = require("@playwright/test");
const fs = require("node:fs");
const path = require("node:path");
const { hydrated, unique } = require("./helpers");

const dir = process.env.E2E_MAIL_DIR;
const LOGIN = unique("self-person");
const EMAIL = `${LOGIN}@example.org`;

/** The text of the mails to `to` so far, quoted-printable decoded. */
function mailsTo(to) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).sort().map((f) => fs.readFileSync(path.join(dir, f), "latin1"))
    .filter((m) => m.includes(to))
    .map((m) => m.replace(/=\r\n/g, "").replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))));
}

/** Waits for the `n`th mail to `to` and returns the link in it that starts with `prefix`. */
async function linkIn(to, n, prefix) {
  let found;
  await expect.poll(() => {
    const m = mailsTo(to)[n - 1];
    found = m && m.match(new RegExp(`${prefix.replace(/[.?]/g, "\\$&")}[A-Za-z0-9_=-]+`));
    return Boolean(found);
  }, { timeout: 15_000 }).toBe(true);
  return found[0];
}

test("a person signs up, confirms the address, forgets the password and chooses a new one", async ({ page, baseURL }) => {
  await page.goto("/login");
  await hydrated(page);
  await page.getByRole("link", { name: "Create an account" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Create an account" })).toBeVisible();
  await hydrated(page);
  await page.getByLabel("Login Name").fill(LOGIN);
  await page.getByLabel("E-mail address").fill(EMAIL);
  await page.getByLabel("Your name").fill("Self Person");
  await page.getByLabel("Password", { exact: true }).fill("self-password-1");
  await page.getByLabel("Password again").fill("self-password-1");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("status")).toContainText("we have sent a link to your e-mail address");

  // Not yet: the address is not confirmed.
  const verify = await linkIn(EMAIL, 1, `${baseURL}/signup/verify?token=`);
  await page.goto(verify);
  await hydrated(page);
  await page.getByRole("button", { name: "Confirm my address" }).click();
  await page.waitForURL(/\/login\?done=verified/);
  await expect(page.getByRole("status")).toContainText("Your address is confirmed");
  await expect(page.getByLabel("Login Name")).toHaveValue(LOGIN);
  await page.getByLabel("Password").fill("self-password-1");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForURL((u) => !u.pathname.startsWith("/login"));

  // Forgotten: a link by mail, used once.
  await page.context().clearCookies();
  await page.goto("/login");
  await hydrated(page);
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await hydrated(page);
  await page.getByLabel("E-mail address or login name").fill(EMAIL);
  await page.getByRole("button", { name: "Send the link" }).click();
  await expect(page.getByRole("status")).toContainText("If an account has that address");
  const reset = await linkIn(EMAIL, 2, `${baseURL}/login/reset?token=`);
  await page.goto(reset);
  await hydrated(page);
  await page.getByLabel("New password", { exact: true }).fill("self-password-2");
  await page.getByLabel("New password again").fill("self-password-2");
  await page.getByRole("button", { name: "Change password" }).click();
  await page.waitForURL(/\/login\?done=changed/);
  await expect(page.getByRole("status")).toContainText("Your password was changed");
  await page.getByLabel("Login Name").fill(LOGIN);
  await page.getByLabel("Password").fill("self-password-2");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForURL((u) => !u.pathname.startsWith("/login"));
  // The link worked once.
  await page.goto(reset);
  await expect(page.getByRole("alert")).toContainText("This link does not work any more");
});
