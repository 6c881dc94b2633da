// The device authorization grant (RFC 8628) as a real client runs it: openid-client (the
// OpenID-certified library from npm) discovers the app, asks for a device code and polls,
// while a person opens the verification link in Chromium, signs in, checks the code and
// approves — or denies, which the client then reports.
const { test, expect } = require("@playwright/test");
const { signIn, unique } = require("./helpers");

const PERSON = { login: unique("device-person"), password: "device-person-password-1" };
const ROLE = unique("Device People");
const APP = unique("device-tv");
let personId;

test.beforeAll(async ({ browser }) => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await signIn(page);
  const origin = new URL(page.url()).origin;
  const api = async (method, path, data) => {
    const res = await page.request.fetch(path, { method, data, headers: { Origin: origin } });
    expect(res.ok(), `${method} ${path}: ${await res.text()}`).toBeTruthy();
    return res.status() === 204 ? null : res.json();
  };
  const role = await api("POST", "/api/v1/roles", { name: ROLE });
  const person = await api("POST", "/api/v1/users", {
    login_name: PERSON.login, email: `${PERSON.login}@example.com`, password: PERSON.password,
  });
  personId = person.id;
  await api("PUT", `/api/v1/roles/${role.id}/members/${person.id}`);
  await api("POST", "/api/v1/apps", {
    app_id: APP, name: "Living-room TV", client_id_type: "anything", token_type: "jwt_es256",
    auth_methods: ["device_code"], issue_refresh_tokens: true,
    scopes: [{ name: "watch", description: "Watch your films" }], user_access_roles: [ROLE],
  });
  await ctx.close();
});

async function deviceClient(baseURL) {
  const client = await import("openid-client");
  const config = await client.discovery(
    new URL(`${baseURL}/oauth2/${APP}`), "living-room-tv", undefined, client.None(),
    { execute: [client.allowInsecureRequests] },
  );
  return { client, config };
}

test("a person approves a device in the browser while openid-client polls for its tokens", async ({ page, baseURL }) => {
  const { client, config } = await deviceClient(baseURL);
  expect(config.serverMetadata().device_authorization_endpoint).toBe(`${baseURL}/oauth2/device/${APP}`);
  const d = await client.initiateDeviceAuthorization(config, { scope: "openid watch" });
  expect(d.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
  const polled = client.pollDeviceAuthorizationGrant(config, d);

  await page.goto(d.verification_uri_complete);
  await expect(page).toHaveURL(/\/login\?return_to=/);
  await page.getByLabel("Login Name").fill(PERSON.login);
  await page.getByLabel("Password").fill(PERSON.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Living-room TV wants to use your account" })).toBeVisible();
  await expect(page.locator("#device-user-code")).toHaveText(d.user_code);
  await expect(page.getByText("Watch your films")).toBeVisible();
  await page.getByRole("button", { name: "Approve" }).click();
  await expect(page.getByRole("status")).toHaveText("Done: the device is signed in. You can close this page.");

  const tokens = await polled;
  expect(tokens.claims()).toMatchObject({ sub: personId, aud: "living-room-tv", amr: ["pwd"] });
  expect(tokens.refresh_token).toBeTruthy();
  expect(tokens.scope).toBe("openid watch");
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  expect(refreshed.access_token).toBeTruthy();
});

test("a denied device gets access_denied, reported by openid-client", async ({ page, baseURL }) => {
  const { client, config } = await deviceClient(baseURL);
  const d = await client.initiateDeviceAuthorization(config, { scope: "watch" });
  const polled = client.pollDeviceAuthorizationGrant(config, d).then(
    () => null,
    (e) => e,
  );
  await signIn(page, PERSON.login, PERSON.password, "/device");
  // Typed by hand, in lower case and without the dash.
  await page.getByLabel("Code shown on your device").fill(d.user_code.replace("-", "").toLowerCase());
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("button", { name: "Deny" }).click();
  await expect(page.getByRole("status")).toHaveText("The request was denied: the device gets no access.");
  const error = await polled;
  expect(error && error.error).toBe("access_denied");
});
