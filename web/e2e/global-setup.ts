import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { SCRATCH, startStack, stopStack } from "./stack";

export default async function globalSetup() {
  mkdirSync(SCRATCH, { recursive: true });
  writeFileSync(path.join(SCRATCH, "started-at"), String(Date.now()));
  try {
    await startStack();
  } catch (err) {
    await stopStack();
    throw err;
  }
}
