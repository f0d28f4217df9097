// The suite's verdict and figures. It prints exactly one line
// "e2e: N passed, M failed" where M counts every test that did not pass
// cleanly: failed, timed out, flaky (passed only on a retry — retries are 0,
// so this is belt and braces), skipped or interrupted. Any M > 0 fails the
// run. Then the figures the tests recorded in metrics.jsonl: the p50 time
// from one person's send to the other's screen, the DOM row count after
// scrolling back 2,000 messages, and the suite's wall time.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { FullConfig, FullResult, Reporter, Suite, TestCase } from "@playwright/test/reporter";
import { SCRATCH } from "./stack";

interface Metric {
  kind: "send_to_screen_ms" | "dom_rows_after_2000";
  value: number;
}

export function readMetrics(): Metric[] {
  const f = path.join(SCRATCH, "metrics.jsonl");
  if (!existsSync(f)) return [];
  return readFileSync(f, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as Metric);
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}

export default class SummaryReporter implements Reporter {
  private tests: TestCase[] = [];
  private bad: string[] = [];

  // Every test the run meant to run, so one that never ran counts too.
  onBegin(_: FullConfig, suite: Suite) {
    this.tests = suite.allTests();
  }

  async onEnd(result: FullResult): Promise<{ status?: FullResult["status"] } | undefined> {
    let passed = 0;
    for (const t of this.tests) {
      const o = t.outcome();
      if (o === "expected" && t.results.length > 0 && t.results.every((r) => r.status === "passed")) passed++;
      else this.bad.push(`${o}: ${t.titlePath().slice(1).join(" › ")}`);
    }
    const failed = this.tests.length - passed;
    for (const b of this.bad) console.log(`e2e not passed — ${b}`);
    console.log(`e2e: ${passed} passed, ${failed} failed`);

    const m = readMetrics();
    const lat = m.filter((x) => x.kind === "send_to_screen_ms").map((x) => x.value);
    if (lat.length) {
      console.log(`e2e figure: send → other screen p50 ${percentile(lat, 50).toFixed(0)} ms, p90 ${percentile(lat, 90).toFixed(0)} ms over ${lat.length} messages`);
    }
    for (const x of m.filter((x) => x.kind === "dom_rows_after_2000")) {
      console.log(`e2e figure: message rows in the DOM after scrolling back 2,000 messages: ${x.value}`);
    }
    const startedFile = path.join(SCRATCH, "started-at");
    if (existsSync(startedFile)) {
      const s = (Date.now() - Number(readFileSync(startedFile, "utf8"))) / 1000;
      console.log(`e2e figure: suite wall time ${s.toFixed(1)} s (stack start included)`);
    }
    if (failed > 0 || this.tests.length === 0) return { status: "failed" };
    return result.status === "passed" ? undefined : { status: result.status };
  }

  printsToStdio() {
    return true;
  }
}
