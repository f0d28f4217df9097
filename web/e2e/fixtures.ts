// What the tests share: people (a browser context each, signed up through
// the UI), the api for seeding, the figures file and the screenshots.
import { appendFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { type Browser, type BrowserContext, type Locator, type Page, expect, test as base } from "@playwright/test";
import { API_URL, SCRATCH } from "./stack";

export { expect };

/** A person of a test: their own browser context and page. */
export interface Person {
  username: string;
  display: string;
  password: string;
  ctx: BrowserContext;
  page: Page;
}

let seq = 0;
/** unique makes a name no other test (or run) uses: lowercase, ≤ 20 chars. */
export function unique(prefix: string): string {
  seq++;
  return `${prefix}${Date.now().toString(36).slice(-5)}${seq}`;
}

/**
 * Every page records when each message row enters its DOM
 * (window.__e2eSeen: [epoch ms, text]), so a send's arrival on the other
 * screen is timed by the receiving page itself, not by the test's polling.
 */
const recordArrivals = () => {
  const w = window as unknown as { __e2eSeen: [number, string][] };
  w.__e2eSeen = [];
  new MutationObserver((muts) => {
    const t = Date.now();
    for (const m of muts) {
      for (const n of m.addedNodes) {
        if (!(n instanceof Element)) continue;
        const rows = n.matches("article") ? [n] : Array.from(n.querySelectorAll("article"));
        for (const r of rows) w.__e2eSeen.push([t, r.textContent ?? ""]);
      }
    }
  }).observe(document, { subtree: true, childList: true });
};

/** newContext opens a browser context for one person. */
export async function newContext(browser: Browser): Promise<BrowserContext> {
  const ctx = await browser.newContext();
  await ctx.addInitScript(recordArrivals);
  return ctx;
}

/** signUp makes a person through the sign-up page. */
export async function signUp(browser: Browser, prefix: string): Promise<Person> {
  const username = unique(prefix);
  const display = prefix.charAt(0).toUpperCase() + prefix.slice(1) + " " + username.slice(-4);
  const password = "correct horse " + username;
  const ctx = await newContext(browser);
  const page = await ctx.newPage();
  await page.goto("/signup");
  await page.getByLabel("Email", { exact: true }).fill(`${username}@example.com`);
  await page.getByLabel("Username", { exact: true }).fill(username);
  await page.getByLabel("Display name").fill(display);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(shell(page)).toBeVisible();
  return { username, display, password, ctx, page };
}

/** shell is the signed-in app's sidebar. */
export const shell = (page: Page) => page.getByRole("navigation", { name: "Conversations" });

/** sidebarLink is a conversation's link in the sidebar. */
export const sidebarLink = (page: Page, name: string) =>
  shell(page).getByRole("link", { name: new RegExp("^" + escape(name)) });

/** messageRow is the message row whose text contains text. */
export const messageRow = (page: Page, text: string, log = "Messages") =>
  page.getByRole("log", { name: log }).getByRole("article").filter({ hasText: text });

export const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** composer is the message box of the open conversation. */
export const composer = (page: Page) => page.getByRole("textbox", { name: "Message", exact: true });

/** send types text into the composer and presses Enter. */
export async function send(p: Person, text: string) {
  const box = composer(p.page);
  await box.fill(text);
  await box.press("Enter");
}

/**
 * sendSeen sends text as from and waits until to's screen shows it,
 * recording the time from the keypress to the row entering to's DOM.
 */
export async function sendSeen(from: Person, to: Person, text: string) {
  const box = composer(from.page);
  await box.fill(text);
  const t0 = Date.now();
  await box.press("Enter");
  await expect(messageRow(to.page, text)).toBeVisible();
  const t1 = await to.page.evaluate(
    ([text, t0]) => (window as unknown as { __e2eSeen: [number, string][] }).__e2eSeen.find(([t, s]) => t >= t0 && s.includes(text))?.[0],
    [text, t0] as const,
  );
  expect(t1, `the receiving page recorded ${text}`).toBeDefined();
  metric("send_to_screen_ms", (t1 as number) - t0);
}

/** metric records one figure for the reporter. */
export function metric(kind: string, value: number) {
  mkdirSync(SCRATCH, { recursive: true });
  appendFileSync(path.join(SCRATCH, "metrics.jsonl"), JSON.stringify({ kind, value }) + "\n");
}

/** shot saves a screenshot of a main screen into the scratch folder. */
export async function shot(page: Page, name: string) {
  const dir = path.join(SCRATCH, "screenshots");
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`) });
}

/** openConversation clicks a conversation in the sidebar and waits for its heading. */
export async function openConversation(p: Person, name: string) {
  await sidebarLink(p.page, name).click();
  await expect(p.page.getByRole("heading", { level: 1, name })).toBeVisible();
}

/** createGroup makes a group named name with members, as p, and opens it. */
export async function createGroup(p: Person, name: string, members: Person[]) {
  await shell(p.page).getByRole("button", { name: "New group" }).click();
  const dialog = p.page.getByRole("dialog");
  await dialog.getByLabel("Name").fill(name);
  for (const m of members) {
    await dialog.getByRole("searchbox", { name: "Add people" }).fill(m.username);
    await dialog.getByRole("button", { name: m.username, exact: true }).click();
  }
  await dialog.getByRole("button", { name: "Create" }).click();
  await expect(p.page.getByRole("heading", { level: 1, name })).toBeVisible();
}

/** sharedGroup: a makes a group with b, both have it open; returns its name. */
export async function sharedGroup(a: Person, b: Person, prefix: string): Promise<string> {
  const name = unique(prefix);
  await createGroup(a, name, [b]);
  await expect(sidebarLink(b.page, name)).toBeVisible();
  await openConversation(b, name);
  return name;
}

/** openDm starts (or opens) p's direct conversation with peer. */
export async function openDm(p: Person, peer: Person) {
  await shell(p.page).getByRole("button", { name: "New direct message" }).click();
  const dialog = p.page.getByRole("dialog");
  await dialog.getByRole("searchbox", { name: "Add people" }).fill(peer.username);
  await dialog.getByRole("button", { name: peer.username, exact: true }).click();
  await expect(p.page.getByRole("heading", { level: 1, name: peer.display })).toBeVisible();
}

/** hoverAction shows a row's actions and clicks the one named name. */
export async function rowAction(row: Locator, name: string) {
  await row.hover();
  await row.getByRole("button", { name, exact: true }).click();
}

/** apiSession registers a person through the api directly (for seeding). */
export async function apiRegister(prefix: string): Promise<{ username: string; password: string; token: string; id: string }> {
  const username = unique(prefix);
  const password = "correct horse " + username;
  const r = await fetch(`${API_URL}/auth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: `${username}@example.com`, username, password }),
  });
  expect(r.status).toBe(201);
  const b = (await r.json()) as { token: string; user: { id: string } };
  return { username, password, token: b.token, id: b.user.id };
}

/** api calls the REST api with a bearer token. */
export async function api<T>(token: string, method: string, p: string, body?: unknown): Promise<T> {
  const r = await fetch(`${API_URL}${p}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${await r.text()}`);
  return (r.status === 204 ? undefined : await r.json()) as T;
}

/** The test object: people are closed after each test. */
export const test = base.extend<{ people: (prefix: string) => Promise<Person> }>({
  people: async ({ browser }, use) => {
    const made: Person[] = [];
    await use(async (prefix) => {
      const p = await signUp(browser, prefix);
      made.push(p);
      return p;
    });
    for (const p of made) await p.ctx.close();
  },
});

/** canvasPNG is a w×h PNG drawn by the page's own canvas. */
export async function canvasPNG(page: Page, w: number, h: number): Promise<Buffer> {
  const url = await page.evaluate(([w, h]) => {
    const c = document.createElement("canvas");
    c.width = w;
    c.height = h;
    const g = c.getContext("2d")!;
    const grad = g.createLinearGradient(0, 0, w, h);
    grad.addColorStop(0, "#f97316");
    grad.addColorStop(1, "#4f46e5");
    g.fillStyle = grad;
    g.fillRect(0, 0, w, h);
    return c.toDataURL("image/png");
  }, [w, h] as const);
  return Buffer.from(url.split(",")[1]!, "base64");
}
