// The suite's own Chatterly stack: Postgres and Redis (started through
// deploy/local/lib.sh, as make run does), migrations and keys, then the
// api, edge, worker and the web production server, all on loopback inside
// the private network namespace run.sh made (so the default ports are ours
// alone). globalSetup starts it and writes its state file; a test restarts
// the edge through restartEdge; globalTeardown stops everything by pid.
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

export const CHECKOUT = path.resolve(__dirname, "../..");
export const SCRATCH = process.env.E2E_SCRATCH ?? path.join(__dirname, ".scratch");
const STATE = path.join(SCRATCH, "stack.json");
const BIN = path.join(CHECKOUT, "bin");

export const WEB_ADDR = "127.0.0.1:3000";
export const WEB_URL = `http://${WEB_ADDR}`;
export const API_URL = "http://127.0.0.1:8080";
const EDGE_ADMIN = "http://127.0.0.1:8091";

/** The environment every Chatterly process of the suite gets. */
function env(stackDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    STACK_DIR: stackDir,
    LOCAL_PG_PORT: "5432",
    LOCAL_REDIS_PORT: "6379",
    DATABASE_URL: "postgres://postgres@127.0.0.1:5432/chatterly?sslmode=disable",
    REDIS_URL: "redis://127.0.0.1:6379/0",
    JWT_KEY_DIR: path.join(stackDir, "keys"),
    JWT_DEV_KEYS: "1",
    // Uploaded files stay in the suite's data folder.
    FILE_DIR: path.join(stackDir, "files"),
    LOG_LEVEL: "info",
    ALLOWED_ORIGINS: WEB_URL,
    WEB_ADDR,
    WEB_API_URL: API_URL,
    // The suite's own network namespace: the processes' default ports.
    API_ADDR: "127.0.0.1:8080",
    API_ADMIN_ADDR: "127.0.0.1:8090",
    WEB_CABLE_URL: "ws://127.0.0.1:8081/cable",
    NEXT_TELEMETRY_DISABLED: "1",
    // Two people sign up per test and the scroll test seeds 2,000 messages.
    RATE_MESSAGES: "1000000",
    RATE_REGISTER_PER_ADDR: "100000",
    RATE_LOGIN_PER_ADDR: "100000",
    RATE_CONVERSATIONS: "100000",
    RATE_USER_SEARCH: "100000",
    RATE_MESSAGE_SEARCH: "100000",
    RATE_REACTIONS: "100000",
    // A missed call within the suite's budget, yet long enough for a loaded
    // machine to show the incoming call first.
    CALL_RING_TIMEOUT: "12s",
    // Cheap password hashing: the suite signs up dozens of people.
    ARGON2_MEMORY_KIB: "8192",
    EDGE_SHUTDOWN_WINDOW: "200ms",
  };
}

interface State {
  stackDir: string;
  pids: Record<string, number>;
}

function readState(): State {
  return JSON.parse(readFileSync(STATE, "utf8")) as State;
}

function writeState(s: State) {
  writeFileSync(STATE, JSON.stringify(s, null, 2));
}

/** start runs cmd detached (its own process group), output to logs/<name>.log. */
function start(name: string, cmd: string, args: string[], e: NodeJS.ProcessEnv, cwd = CHECKOUT): number {
  mkdirSync(path.join(SCRATCH, "logs"), { recursive: true });
  const out = openSync(path.join(SCRATCH, "logs", `${name}.log`), "a");
  const p = spawn(cmd, args, { cwd, env: e, detached: true, stdio: ["ignore", out, out] });
  closeSync(out);
  p.unref();
  if (!p.pid) throw new Error(`could not start ${name}`);
  return p.pid;
}

/** lib runs a bash snippet with deploy/local/lib.sh sourced, to completion. */
function lib(snippet: string, e: NodeJS.ProcessEnv) {
  const r = spawnSync("bash", ["-c", `source deploy/local/lib.sh; ${snippet}`], { cwd: CHECKOUT, env: e, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`lib.sh ${snippet}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** until polls ok (a readiness probe of a process just started) until it holds. */
async function until(what: string, ok: () => Promise<boolean> | boolean, ms = 30_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await ok()) return;
    await delay(100);
  }
  throw new Error(`${what} not ready within ${ms} ms (logs in ${path.join(SCRATCH, "logs")})`);
}

async function answers(url: string): Promise<boolean> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return r.ok;
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** startStack brings the whole stack up on a fresh data folder. */
export async function startStack(): Promise<void> {
  const stackDir = `/var/tmp/chatterly-e2e-${process.pid}`;
  rmSync(stackDir, { recursive: true, force: true });
  mkdirSync(SCRATCH, { recursive: true });
  rmSync(path.join(SCRATCH, "logs"), { recursive: true, force: true });
  const e = env(stackDir);
  const s: State = { stackDir, pids: {} };
  writeState(s);

  lib("prepare_dirs", e);
  const pg = lib('pg_argv; printf "%s\\n" "${PG_ARGV[@]}"', e).trim().split("\n");
  s.pids.postgres = start("postgres", pg[0] ?? "postgres", pg.slice(1), e);
  s.pids.redis = start("redis", "redis-server", ["--port", "6379", "--bind", "127.0.0.1", "--dir", stackDir,
    "--save", "", "--appendonly", "no", "--loglevel", "warning", "--daemonize", "no"], e);
  writeState(s);
  await until("postgres", () => spawnSync("pg_isready", ["-q", "-h", "127.0.0.1", "-p", "5432", "-U", "postgres"]).status === 0);
  await until("redis", () => spawnSync("redis-cli", ["-p", "6379", "ping"], { encoding: "utf8" }).stdout.includes("PONG"));
  lib('create_db "$LOCAL_ADMIN_URL" chatterly', e);
  for (const sub of ["migrate", "keygen"]) {
    const r = spawnSync(path.join(BIN, "chatterly-api"), [sub], { env: e, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`chatterly-api ${sub}: ${r.stderr}`);
  }
  s.pids.api = start("api", path.join(BIN, "chatterly-api"), [], e);
  s.pids.worker = start("worker", path.join(BIN, "chatterly-worker"), [], e);
  s.pids.edge = start("edge", path.join(BIN, "chatterly-edge"), [], e);
  const web = path.join(CHECKOUT, "web");
  // `npm run start`, run as make run runs it: the script itself, by bash.
  const script = (JSON.parse(readFileSync(path.join(web, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts.start ?? "node scripts/start.mjs";
  s.pids.web = start("web", "bash", ["-c", script], { ...e, PATH: `${web}/node_modules/.bin:${e.PATH}` }, web);
  writeState(s);
  await until("api", () => answers(`${API_URL}/readyz`));
  await until("worker", () => answers("http://127.0.0.1:8092/readyz"));
  await until("edge", () => answers(`${EDGE_ADMIN}/readyz`));
  await until("web", () => answers(`${WEB_URL}/`), 60_000);
}

/** stopEdge stops the edge (SIGTERM: it drains its sockets) and waits for it. */
export async function stopEdge(): Promise<void> {
  const s = readState();
  const pid = s.pids.edge;
  if (pid && alive(pid)) {
    process.kill(-pid, "SIGTERM");
    await until("edge exit", () => !alive(pid), 15_000);
  }
  delete s.pids.edge;
  writeState(s);
}

/** startEdge starts the edge again and waits until it is ready. */
export async function startEdge(): Promise<void> {
  const s = readState();
  s.pids.edge = start("edge", path.join(BIN, "chatterly-edge"), [], env(s.stackDir));
  writeState(s);
  await until("edge", () => answers(`${EDGE_ADMIN}/readyz`));
}

/** stopStack stops every process, applications first, and removes the data. */
export async function stopStack(): Promise<void> {
  if (!existsSync(STATE)) return;
  const s = readState();
  const order = ["web", "edge", "worker", "api", "redis", "postgres"];
  for (const name of order) {
    const pid = s.pids[name];
    if (!pid || !alive(pid)) continue;
    // Postgres' fast shutdown is SIGINT.
    process.kill(-pid, name === "postgres" ? "SIGINT" : "SIGTERM");
    try {
      await until(`${name} exit`, () => !alive(pid), 15_000);
    } catch {
      process.kill(-pid, "SIGKILL");
    }
  }
  rmSync(s.stackDir, { recursive: true, force: true });
  rmSync(STATE, { force: true });
}
