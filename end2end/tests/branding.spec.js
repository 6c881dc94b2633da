// Branding (SPEC §6b): an administrator gives the hosted pages a product name, a darker accent
// colour and a logo through the admin API; the pages show them, axe-core's WCAG 2.0/2.1 A and AA
// rules still find nothing with the custom colour, and a screenshot of each page is kept in the
// test artifacts. A colour too light for the pages is refused. Defaults are restored afterwards.
const { test, expect } = require("@playwright/test");
const { default: AxeBuilder } = require("@axe-core/playwright");
const { signIn, hydrated } = require("./helpers");

const WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
// A 1×1 PNG.
const PNG = Buffer.from(
  "89504e470d0a1a0a0000000d49484452000000010000000108020000009077" +
  "53de0000000c4944415408d763f8cfc00000030101001" + "8dd8db00000000049454e44ae426082", "hex");

let api;
let admin;

test.beforeAll(async ({ browser }) => {
  admin = await browser.newContext();
  const page = await admin.newPage();
  await signIn(page);
  const origin = new URL(page.url()).origin;
  api = (method, path, data, headers = {}) =>
    page.request.fetch(path, { method, data, headers: { Origin: origin, ...headers } });
});

test.afterAll(async () => {
  await api("PATCH", "/api/v1/settings/branding", { product_name: "Gatehouse", accent_color: null });
  await api("DELETE", "/api/v1/settings/branding/logo");
  await admin.close();
});

test("the hosted pages carry the product's name, colour and logo and stay WCAG AA", async ({ page }, testInfo) => {
  const light = await api("PATCH", "/api/v1/settings/branding", { accent_color: "#ffcc00" });
  expect(light.status()).toBe(422);
  expect((await light.json()).field).toBe("accent_color");
  const set = await api("PATCH", "/api/v1/settings/branding", { product_name: "Acme ID", accent_color: "#0b5d1e" });
  expect(set.status(), await set.text()).toBe(200);
  const logo = await api("PUT", "/api/v1/settings/branding/logo", PNG, { "Content-Type": "image/png" });
  expect(logo.status(), await logo.text()).toBe(200);
  const { logo_url } = await logo.json();

  for (const [path, heading] of [
    ["/login", "Sign in"],
    ["/signup", "Create an account"],
    ["/login/forgot", "Forgot your password?"],
    ["/login/reset?token=not-a-link", "Choose a new password"],
  ]) {
    await page.goto(path);
    await hydrated(page);
    await expect(page.getByRole("heading", { level: 1, name: heading })).toBeVisible();
    await expect(page).toHaveTitle(`${heading} · Acme ID`);
    const results = await new AxeBuilder({ page }).withTags(WCAG).analyze();
    expect(results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(", ")}`), path).toEqual([]);
    await page.screenshot({ path: testInfo.outputPath(`branded${path.replace(/[/?=]/g, "_")}.png`), fullPage: true });
  }
  // The colour is the pages' accent; the logo and the name are on the login page.
  await page.goto("/login");
  await hydrated(page);
  const accent = await page.getByRole("button", { name: "Sign in", exact: true })
    .evaluate((b) => getComputedStyle(b).backgroundColor);
  expect(accent).toBe("rgb(11, 93, 30)");
  await expect(page.getByRole("img", { name: "Acme ID logo" })).toHaveAttribute("src", logo_url);
  await expect(page.getByText("Acme ID", { exact: true })).toBeVisible();
});

test("the Settings page changes the name and colour without JavaScript", async ({ browser }) => {
  const ctx = await browser.newContext({ javaScriptEnabled: false });
  const page = await ctx.newPage();
  await signIn(page);
  await page.goto("/admin/settings");
  await page.getByLabel("Product name").fill("Beta ID");
  await page.getByRole("button", { name: "Save" }).click();
  await page.goto("/login");
  await expect(page).toHaveTitle("Sign in · Beta ID");
  await ctx.close();
});
