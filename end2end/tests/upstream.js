// An upstream OpenID provider for the federation tests: node-oidc-provider (the OpenID-certified
// reference implementation, independent of Gatehouse) in this process, on a free loopback port,
// with its development login and consent pages (devInteractions: any login name, any password).
// One confidential client (client_secret_basic, authorization code, PKCE as the library does
// it: S256 only, enforced whenever a code_challenge is sent). Every login name is an account
// whose claims are derived from it: sub = login = preferred_username, `${login}@upstream.example`
// with email_verified true.
const http = require("node:http");
const crypto = require("node:crypto");

const EMAIL_DOMAIN = "upstream.example";

/** The claims the upstream holds for the account a login name signs in as. */
function account(login) {
  return {
    sub: login,
    email: `${login}@${EMAIL_DOMAIN}`,
    email_verified: true,
    preferred_username: login,
    name: `Upstream Person ${login}`,
  };
}

/**
 * Starts the upstream. `redirectUri` is the client's one redirect URI, or a function of the
 * issuer giving it (called once the port, hence the issuer, is known and before the provider
 * exists: the relying party can be registered with the issuer in between).
 * Resolves to { issuer, port, clientId, clientSecret, redirectUri, provider, server,
 * rewriteNextResponse(f), rewritePending }.
 */
async function start({ clientId = "gatehouse", clientSecret = crypto.randomBytes(24).toString("base64url"), redirectUri }) {
  const { default: Provider } = await import("oidc-provider");
  let handler = (req, res) => {
    res.writeHead(503, { "Content-Type": "text/plain" });
    res.end("upstream not configured yet");
  };
  const server = http.createServer((req, res) => handler(req, res));
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  try {
    const redirect = typeof redirectUri === "function" ? await redirectUri(issuer) : redirectUri;
    const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
    const key = { ...privateKey.export({ format: "jwk" }), use: "sig", alg: "RS256", kid: `upstream-${port}` };
    const provider = new Provider(issuer, {
      clients: [{
        client_id: clientId,
        client_secret: clientSecret,
        token_endpoint_auth_method: "client_secret_basic",
        grant_types: ["authorization_code"],
        response_types: ["code"],
        redirect_uris: [redirect],
      }],
      jwks: { keys: [key] },
      cookies: { keys: [crypto.randomBytes(32).toString("base64url")] },
      // `email` and `profile` release these claims (scope → claims).
      claims: {
        openid: ["sub"],
        email: ["email", "email_verified"],
        profile: ["name", "preferred_username"],
      },
      // node-oidc-provider's default (conformIdTokenClaims: true): a code flow's ID token carries
      // only sub and the protocol claims; the scopes' claims are at UserInfo alone, where
      // Gatehouse reads what the ID token leaves out.
      features: { devInteractions: { enabled: true } },
      findAccount: async (_ctx, id) => ({
        accountId: id,
        claims: async () => account(id),
      }),
    });
    // The next authorization response's redirect to the client passes through `rewrite` (a
    // function of its URL giving the URL to send instead): a tampered response as the browser
    // receives it. page.route cannot do this in the browser: it sees no redirect's target, and
    // the upstream comes back to the client with a 303 from /auth/:uid.
    let rewrite = null;
    provider.use(async (ctx, next) => {
      await next();
      const location = ctx.response.get("Location");
      if (rewrite && location && location.split(/[?#]/)[0] === redirect) {
        const f = rewrite;
        rewrite = null;
        ctx.set("Location", f(new URL(location)).href);
      }
    });
    handler = provider.callback();
    return {
      issuer, port, clientId, clientSecret, redirectUri: redirect, provider, server,
      rewriteNextResponse(f) { rewrite = f; },
      get rewritePending() { return rewrite !== null; },
    };
  } catch (e) {
    await close(server);
    throw e;
  }
}

function close(server) {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // A browser's keep-alive connections would hold close() open.
    server.closeAllConnections();
  });
}

/** Stops an upstream `start` gave. */
async function stop(upstream) {
  if (upstream) await close(upstream.server);
}

/**
 * In `page`, on its way to the upstream (which must ask for a sign-in: a context without the
 * upstream's cookies): signs in as `login` on the development login page and continues on the
 * consent page (if the upstream asks), until the browser has left the upstream.
 * devInteractions' pages (node_modules/oidc-provider/lib/views): the login page has an h1
 * "Sign-in", inputs name="login" and name="password" (any password) and a "Sign-in" button;
 * the consent page an h1 "Authorize" and a "Continue" button; both a "[ Cancel ]" link that
 * ends the request with error=access_denied.
 */
async function signInUpstream(page, upstream, login, password = "any-password") {
  const atUpstream = () => page.url().startsWith(`${upstream.issuer}/`);
  await page.waitForURL((u) => u.href.startsWith(`${upstream.issuer}/interaction/`));
  for (let step = 0; step < 4 && atUpstream(); step++) {
    const heading = (await page.locator("h1").first().textContent()).trim();
    const from = page.url();
    if (heading === "Sign-in") {
      await page.locator('input[name="login"]').fill(login);
      await page.locator('input[name="password"]').fill(password);
      await page.getByRole("button", { name: "Sign-in", exact: true }).click();
    } else if (heading === "Authorize") {
      await page.getByRole("button", { name: "Continue", exact: true }).click();
    } else {
      throw new Error(`unexpected upstream page "${heading}" at ${from}`);
    }
    // Each submission answers with a redirect to the next interaction (a new uid) or away.
    await page.waitForURL((u) => u.href !== from);
    await page.waitForLoadState();
  }
  if (atUpstream()) throw new Error(`still at the upstream: ${page.url()}`);
}

/** Refuses the requests of the dev pages' stylesheet to fonts.googleapis.com (no network). */
async function offline(context) {
  await context.route((url) => !["127.0.0.1", "localhost"].includes(url.hostname), (route) => route.abort());
}

module.exports = { start, stop, account, signInUpstream, offline, EMAIL_DOMAIN };
