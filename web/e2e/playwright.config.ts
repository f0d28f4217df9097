// The E2E suite: Playwright driving the operating system's Chromium against
// the suite's own stack (stack.ts), inside the private network namespace
// run.sh makes. One worker: the tests share one stack, and two people's
// browsers per test are all a 2-core machine can drive. No retries: a test
// that needs one is a failure (reporter.ts counts it so).
import { existsSync } from "node:fs";
import path from "node:path";
import { defineConfig } from "@playwright/test";
import { SCRATCH, WEB_URL } from "./stack";

// The Debian package's real binary; /usr/bin/chromium is a wrapper script.
const chromium = ["/usr/lib/chromium/chromium", "/usr/bin/chromium"].find((p) => existsSync(p));

export default defineConfig({
  testDir: ".",
  testMatch: /.*\.spec\.ts$/,
  outputDir: path.join(SCRATCH, "results"),
  globalSetup: "./global-setup.ts",
  globalTeardown: "./global-teardown.ts",
  forbidOnly: true,
  retries: 0,
  workers: 1,
  fullyParallel: false,
  // Generous: on a loaded 2-core machine one browser action can take seconds;
  // the suite waits for conditions, so a calm machine never waits this long.
  timeout: 300_000,
  expect: { timeout: 20_000 },
  reporter: [["list"], ["./reporter.ts"]],
  use: {
    baseURL: WEB_URL,
    actionTimeout: 20_000,
    navigationTimeout: 60_000,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      executablePath: chromium,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        "--allow-loopback-in-peer-connection",
      ],
    },
  },
  projects: [{ name: "chromium", use: { browserName: "chromium" } }],
});
