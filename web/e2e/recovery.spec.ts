// Reconnects and long histories: the edge restarts while messages are sent
// (every one appears once, in order), and scrolling back 2,000 messages
// keeps the page's row count bounded (the list is virtualized).
import { api, apiRegister, expect, messageRow, metric, newContext, send, sendSeen, sharedGroup, shell, sidebarLink, test, unique } from "./fixtures";
import { startEdge, stopEdge } from "./stack";

test("an edge restart: messages sent meanwhile appear once, in order", async ({ people }) => {
  const ed = await people("ed");
  const flo = await people("flo");
  await sharedGroup(ed, flo, "Ops ");
  await sendSeen(ed, flo, `before ${unique("m")}`);

  await stopEdge();
  const during = Array.from({ length: 6 }, (_, i) => `during ${i} ${unique("m")}`);
  try {
    // The api takes them while no socket is up; ed's own rows confirm.
    for (const t of during) await send(ed, t);
    for (const t of during) await expect(messageRow(ed.page, t)).not.toHaveAttribute("data-state", /pending|failed/);
  } finally {
    await startEdge();
  }

  // flo's client reconnects, re-subscribes and fetches what it missed.
  for (const t of during) await expect(messageRow(flo.page, t)).toHaveCount(1, { timeout: 30_000 });
  const texts = await flo.page.getByRole("log", { name: "Messages" }).getByRole("article").allTextContents();
  const at = during.map((t) => texts.findIndex((x) => x.includes(t)));
  expect(at.every((i) => i >= 0)).toBe(true);
  expect([...at].sort((a, b) => a - b), "in the order sent").toEqual(at);
  for (const t of during) expect(texts.filter((x) => x.includes(t)), `${t} once`).toHaveLength(1);

  // And the live path works again, both ways.
  await sendSeen(flo, ed, `after ${unique("m")}`);
  await sendSeen(ed, flo, `after too ${unique("m")}`);
});

test("scrolling back 2,000 messages keeps the DOM bounded", async ({ browser }) => {
  const gus = await apiRegister("gus");
  const name = unique("History ");
  const conv = await api<{ id: string }>(gus.token, "POST", "/conversations", { kind: "group", name });
  // Seed 2,000 messages through the REST api, a few requests at a time.
  const total = 2000;
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let i = next++; i < total; i = next++) {
        await api(gus.token, "POST", `/conversations/${conv.id}/messages`, { body: `seed ${String(i).padStart(4, "0")}`, client_msg_id: `seed-${i}` });
      }
    }),
  );

  const ctx = await newContext(browser);
  try {
    const page = await ctx.newPage();
    await page.goto("/");
    await page.getByLabel("Email or username").fill(gus.username);
    await page.getByLabel("Password").fill(gus.password);
    await page.getByLabel("Password").press("Enter");
    await expect(shell(page)).toBeVisible();
    await sidebarLink(page, name).click();
    const log = page.getByRole("log", { name: "Messages" });
    await expect(log.getByRole("article").filter({ hasText: "seed 1999" })).toBeVisible();

    // Scroll to the top until the first message is on screen.
    const first = log.getByRole("article").filter({ hasText: "seed 0000" });
    let maxRows = 0;
    for (let i = 0; i < 200 && !(await first.isVisible()); i++) {
      await log.evaluate((el) => {
        el.scrollTop = 0;
      });
      // An older page arrived (the list keeps its anchor, so the view moves
      // off the top) or there is none left.
      await expect.poll(async () => (await log.evaluate((el) => el.scrollTop > 0)) || (await first.isVisible()), { timeout: 15_000 }).toBe(true);
      maxRows = Math.max(maxRows, await log.getByRole("article").count());
    }
    await expect(first).toBeVisible();
    const rows = await log.getByRole("article").count();
    metric("dom_rows_after_2000", rows);
    expect(rows, "message rows in the DOM").toBeLessThan(300);
    expect(maxRows).toBeLessThan(300);
  } finally {
    await ctx.close();
  }
});
