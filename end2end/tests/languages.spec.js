// Languages in the portal (SPEC §6b): an administrator switches to German for the visit
// (ui_locales), the forms speak German — the domain's rules too —, dates read the German way,
// and the top bar's link goes back to English.
const { test, expect } = require("@playwright/test");
const { signIn, hydrated, unique } = require("./helpers");

test("the portal in German: labels, the domain's rules, dates, and back to English", async ({ page }, testInfo) => {
  await signIn(page);
  await page.goto("/admin/users/new?ui_locales=de");
  await hydrated(page);
  await expect(page.locator("html")).toHaveAttribute("lang", "de");
  await expect(page.getByRole("heading", { level: 1, name: "Neuer Benutzer" })).toBeVisible();
  await page.getByLabel("Anmeldename").fill(unique("kurz"));
  await page.getByLabel("E-Mail-Adresse").fill("kurz@example.com");
  await page.getByLabel("Passwort", { exact: true }).fill("kurz");
  await page.getByLabel("Passwort bestätigen").fill("kurz");
  await page.getByRole("button", { name: "Benutzer anlegen" }).click();
  // The rule the model states in English, shown in German beside its field.
  await expect(page.getByText("Passwort muss mindestens 8 Zeichen lang sein")).toBeVisible();
  await expect(page.getByText("Password must be at least 8 characters")).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath("de-new-user-error.png"), fullPage: true });

  // The audit log's times, the German way (the visit stays German).
  await page.goto("/admin/audit");
  await hydrated(page);
  await expect(page.getByRole("heading", { level: 1, name: "Audit-Protokoll" })).toBeVisible();
  await expect(page.locator("td").filter({ hasText: /^\d{1,2}\.\d{1,2}\.\d{4}, \d\d:\d\d UTC$/ }).first()).toBeVisible();

  // Back to English from the top bar.
  await page.getByRole("link", { name: "English" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Audit" })).toBeVisible();
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await expect(page.locator("td").filter({ hasText: /^[A-Z][a-z]{2} \d{1,2}, \d{4}, \d\d:\d\d UTC$/ }).first()).toBeVisible();
});
