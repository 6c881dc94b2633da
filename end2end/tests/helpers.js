// Shared steps of the browser tests.
const { expect } = require("@playwright/test");

const ADMIN = { login: "admin", password: process.env.E2E_ADMIN_PASSWORD || "e2e-admin-password" };

/** Waits until the wasm has hydrated the page, so that client-side behaviour is live. */
async function hydrated(page) {
  await page.locator("body[data-hydrated]").waitFor({ state: "attached", timeout: 20_000 });
  // Screens that load data show "Loading…" until it arrives and then render their form, which
  // says when it is ready: wait for both, rather than look once before the form can exist.
  await page.waitForFunction(
    () =>
      !document.querySelector('form[data-ready="false"]') &&
      ![...document.querySelectorAll("main p")].some((p) => p.textContent === "Loading…"),
    null,
    { timeout: 20_000 },
  );
}

/** Signs in through the hosted login page and waits for the page it returns to. */
async function signIn(page, login = ADMIN.login, password = ADMIN.password, path = "/admin") {
  await page.goto(path);
  await expect(page).toHaveURL(/\/login/);
  await page.getByLabel("Login Name").fill(login);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).not.toHaveURL(/\/login/);
}

/** A name unique to this run, for objects tests create on the shared server. */
function unique(prefix) {
  return `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** Collects a page's console errors and uncaught exceptions (a hydration mismatch shows here);
 * call it before the page is opened. `ignore(message)` may pass over an expected one. */
function consoleErrors(page, ignore = () => false) {
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error" && !ignore(m)) errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  return errors;
}

/** The RFC 6238 code (SHA-1, 6 digits, 30 s) for an otpauth:// link's base32 secret, `ahead`
 * steps from now — Node's own HMAC, independent of the server's implementation. */
function totp(base32, ahead = 0) {
  const crypto = require("crypto");
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of base32.replace(/=+$/, "")) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const step = Math.floor(Date.now() / 1000 / 30) + ahead;
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const h = crypto.createHmac("sha1", key).update(msg).digest();
  const o = h[h.length - 1] & 0xf;
  const n = (h.readUInt32BE(o) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, "0");
}

module.exports = { ADMIN, signIn, hydrated, unique, consoleErrors, totp };
