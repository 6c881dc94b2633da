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

// A person's own language: chosen on their security page, it beats the browser's from then on,
// in this browser and in the next sign-in elsewhere, until they choose the browser's again.
test("a person chooses German on their security page and keeps it", async ({ page, browser }, testInfo) => {
  const person = { login: unique("sprache"), password: "sprache-password-1" };
  await signIn(page);
  const origin = new URL(page.url()).origin;
  const made = await page.request.post("/api/v1/users", {
    data: { login_name: person.login, email: `${person.login}@example.com`, password: person.password },
    headers: { Origin: origin },
  });
  expect(made.ok(), await made.text()).toBeTruthy();

  const context = await browser.newContext({ locale: "en-US" });
  const mine = await context.newPage();
  await signIn(mine, person.login, person.password, "/account/security");
  await hydrated(mine);
  await expect(mine.getByRole("heading", { level: 1, name: "Security" })).toBeVisible();
  await mine.getByRole("combobox", { name: "Language" }).selectOption("de");
  await mine.getByRole("button", { name: "Save the language" }).click();
  await expect(mine.getByRole("heading", { level: 1, name: "Sicherheit" })).toBeVisible();
  await expect(mine.getByRole("status").filter({ hasText: "Ihre Sprache ist gespeichert." })).toBeVisible();
  await expect(mine.locator("html")).toHaveAttribute("lang", "de");
  await expect(mine.getByRole("combobox", { name: "Sprache" })).toHaveValue("de");
  await mine.screenshot({ path: testInfo.outputPath("de-chosen-language.png"), fullPage: true });

  // Another browser asking for English: German from the sign-in on.
  const other = await browser.newContext({ locale: "en-US" });
  const elsewhere = await other.newPage();
  await elsewhere.goto("/account/security");
  await elsewhere.getByLabel("Login Name").fill(person.login);
  await elsewhere.getByLabel("Password").fill(person.password);
  await elsewhere.getByRole("button", { name: "Sign in" }).click();
  await expect(elsewhere.getByRole("heading", { level: 1, name: "Sicherheit" })).toBeVisible();

  // The browser's language again.
  await mine.getByRole("combobox", { name: "Sprache" }).selectOption("");
  await mine.getByRole("button", { name: "Sprache speichern" }).click();
  await expect(mine.getByRole("heading", { level: 1, name: "Security" })).toBeVisible();
  await expect(mine.getByRole("combobox", { name: "Language" })).toHaveValue("");
  await other.close();
  await context.close();
});
