// Browser tests drive Debian's /usr/bin/chromium (no browser is ever downloaded) against a
// gatehouse binary that serve.sh starts on a free loopback port with a fresh database.
const { defineConfig } = require("@playwright/test");

const port = process.env.E2E_PORT || "3100";
// Where serve.sh's SMTP sink writes the mail it receives (the tests read it from here).
process.env.E2E_MAIL_DIR ||= require("node:path").join(require("node:os").tmpdir(), `gatehouse-e2e-mail-${port}`);

module.exports = defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  // A stray test.only must never make CI pass on a subset.
  forbidOnly: !!process.env.CI,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    screenshot: "only-on-failure",
    trace: "off",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
      ],
    },
  },
  webServer: {
    command: `bash ./serve.sh ${port}`,
    url: `http://127.0.0.1:${port}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "ignore",
    stderr: "pipe",
  },
});
