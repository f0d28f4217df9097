// Unit tests of the stores and event handlers (npm test). Playwright's test
// runner runs them as plain TypeScript in Node — no browser is started —
// because it is already the project's pinned test runner (the E2E suite
// uses it), transpiles TS with the tsconfig paths, and prints a closing
// "N passed" / "N failed" summary and exits non-zero on any failure.
import { defineConfig } from "@playwright/test";

export default defineConfig({
  testDir: "./unit",
  testMatch: /.*\.test\.ts$/,
  fullyParallel: true,
  forbidOnly: true,
  retries: 0,
  workers: 2,
  reporter: [["list"]],
  outputDir: "test-results/unit",
});
