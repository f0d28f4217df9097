// Sessions in the browser: sign up, sign in, a reload (two tabs at once)
// keeps the session, the access token is never where a script could read
// it across pages, and signing out ends the session.
import { expect, newContext, shell, shot, signUp, test } from "./fixtures";
import { API_URL } from "./stack";

test("sign-in form, sign up, reload keeps the session, no token in storage, logout ends it", async ({ browser }) => {
  // Signed out, / is the sign-in form itself: one form, "Email or username" first.
  const visitor = await newContext(browser);
  const vp = await visitor.newPage();
  await vp.goto("/");
  const form = vp.getByRole("form", { name: "Sign in" }).or(vp.locator("form"));
  await expect(form).toHaveCount(1);
  const first = form.locator("input").first();
  await expect(first).toHaveAccessibleName("Email or username");
  await expect(first).toHaveAttribute("type", "text");
  await expect(first).toHaveAttribute("autocomplete", "username");
  await expect(form.getByLabel("Password")).toBeVisible();
  await expect(vp.getByRole("link", { name: "Create an account" })).toBeVisible();
  await shot(vp, "sign-in");
  await visitor.close();

  const ada = await signUp(browser, "ada");
  const { page } = ada;
  try {
    // Every access token the page is handed, from here on.
    const tokens: string[] = [];
    page.on("response", async (r) => {
      if (r.url().startsWith(`${API_URL}/auth/`) && r.request().method() === "POST" && r.ok()) {
        const b = (await r.json().catch(() => ({}))) as { token?: string; refresh_token?: string };
        if (b.token) tokens.push(b.token);
        expect(b.refresh_token, "a browser never gets the refresh token in JSON").toBeUndefined();
      }
    });
    const storageHolds = async (tok: string) =>
      page.evaluate((tok) => {
        const all = [document.cookie];
        for (const s of [localStorage, sessionStorage]) for (let i = 0; i < s.length; i++) all.push(String(s.key(i)), String(s.getItem(String(s.key(i)))));
        return all.some((v) => v.includes(tok) || v.includes(tok.split(".")[1] ?? tok));
      }, tok);

    // A reload keeps the person signed in (refresh from the HttpOnly cookie).
    await page.reload();
    await expect(shell(page)).toBeVisible();
    await expect.poll(() => tokens.length, { message: "the reload refreshed through the cookie" }).toBeGreaterThan(0);

    // Two tabs of the session reloaded together both stay signed in.
    const tab2 = await ada.ctx.newPage();
    await tab2.goto("/");
    await expect(shell(tab2)).toBeVisible();
    await Promise.all([page.reload(), tab2.reload()]);
    await expect(shell(page)).toBeVisible();
    await expect(shell(tab2)).toBeVisible();
    await tab2.close();

    // A reload in the middle of a refresh: the page goes away once its
    // refresh request is on the wire (the api may rotate the cookie's token
    // while the answer is dropped), and the next page still signs in.
    const refreshing = page.waitForRequest((r) => r.url() === `${API_URL}/auth/refresh`);
    const first = page.reload().catch(() => undefined);
    await refreshing;
    await page.reload();
    await first;
    await expect(shell(page)).toBeVisible();

    // No access token, nor its claims, where a script of the page could keep it.
    expect(tokens.length).toBeGreaterThan(1);
    for (const t of tokens) expect(await storageHolds(t), "access token in storage or document.cookie").toBe(false);
    expect(await page.evaluate(() => document.cookie)).not.toContain("chatterly_refresh");
    const cookies = await ada.ctx.cookies(`${API_URL}/auth/refresh`);
    const rc = cookies.find((c) => c.name === "chatterly_refresh");
    expect(rc?.httpOnly).toBe(true);
    expect(rc?.sameSite).toBe("Strict");
    expect(rc?.path).toBe("/auth");

    // Sign out: the form again, a reload stays signed out, the token is dead.
    const last = tokens[tokens.length - 1];
    expect((await fetch(`${API_URL}/me`, { headers: { authorization: `Bearer ${last}` } })).status).toBe(200);
    await page.getByRole("button", { name: "Account" }).click();
    await page.getByRole("menuitem", { name: "Sign out", exact: true }).click();
    await expect(page.getByLabel("Email or username")).toBeVisible();
    await page.reload();
    await expect(page.getByLabel("Email or username")).toBeVisible();
    await expect(shell(page)).toHaveCount(0);
    expect((await fetch(`${API_URL}/me`, { headers: { authorization: `Bearer ${last}` } })).status).toBe(401);
    expect((await ada.ctx.cookies(`${API_URL}/auth/refresh`)).find((c) => c.name === "chatterly_refresh")).toBeUndefined();

    // Sign in again by username; Enter submits.
    await page.getByLabel("Email or username").fill(ada.username);
    await page.getByLabel("Password").fill(ada.password);
    await page.getByLabel("Password").press("Enter");
    await expect(shell(page)).toBeVisible();

    // A wrong password is the api's detail, in an alert.
    await page.getByRole("button", { name: "Account" }).click();
    await page.getByRole("menuitem", { name: "Sign out everywhere" }).click();
    await page.getByLabel("Email or username").fill(ada.username);
    await page.getByLabel("Password").fill("not the password");
    await page.getByLabel("Password").press("Enter");
    // (Next's route announcer is an alert too: pick the form's.)
    await expect(page.getByRole("alert").filter({ hasText: "wrong login or password" })).toBeVisible();
  } finally {
    await ada.ctx.close();
  }
});
