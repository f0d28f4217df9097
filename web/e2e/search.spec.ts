// Message search: a person finds messages of their own conversations by
// words, sees the matched words marked in each snippet, never finds a
// conversation they are not in, and goes from a hit to the message in its
// conversation. The other people and their messages are made through the api.
import { api, apiRegister, expect, shot, test, unique } from "./fixtures";

test("search finds own conversations' messages, marks the matches and leads to the message", async ({ people }) => {
  const ann = await people("ann");
  const bo = await apiRegister("bo");
  const eve = await apiRegister("eve");
  const word = unique("zeb"); // a word no other test's message holds
  const users = await api<{ items: { id: string; username: string }[] }>(bo.token, "GET", `/users?query=${ann.username}`);
  const annId = users.items.find((u) => u.username === ann.username)!.id;
  const group = unique("Trip ");
  const g = await api<{ id: string }>(bo.token, "POST", "/conversations", { kind: "group", name: group, member_ids: [annId] });
  const hit = await api<{ id: string }>(bo.token, "POST", `/conversations/${g.id}/messages`, { body: `the ${word} tickets are booked for friday` });
  await api(bo.token, "POST", `/conversations/${g.id}/messages`, { body: `${word} hotel still open` });
  // eve's own group, which ann is not in: never found.
  const secret = await api<{ id: string }>(eve.token, "POST", "/conversations", { kind: "group", name: unique("Secret ") });
  await api(eve.token, "POST", `/conversations/${secret.id}/messages`, { body: `${word} tickets secret plan` });

  const page = ann.page;
  await page.getByRole("navigation", { name: "Your lists" }).getByRole("link", { name: "Search" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Search messages" })).toBeVisible();
  const box = page.getByRole("searchbox", { name: "Search messages" });
  const results = page.getByRole("list", { name: "Search results" }).getByTestId("search-hit");

  await box.fill(`${word} ticket`); // stemmed: "ticket" finds "tickets"
  await box.press("Enter");
  await expect(results).toHaveCount(1);
  await expect(results.first()).toContainText(`the ${word} tickets are booked for friday`);
  await expect(results.first().locator("mark")).toHaveText([word, "tickets"]);
  await expect(page.getByText("secret plan")).toHaveCount(0);

  // Both messages of the group; then an exclusion leaves one out.
  await box.fill(word);
  await box.press("Enter");
  await expect(results).toHaveCount(2);
  await box.fill(`${word} -hotel`);
  await box.press("Enter");
  await expect(results).toHaveCount(1);
  await box.fill(`"booked for friday" -${word}`);
  await box.press("Enter");
  await expect(page.getByText("No messages found.")).toBeVisible();
  await box.fill(`${word} ticket`);
  await box.press("Enter");
  await expect(results).toHaveCount(1);
  await shot(page, "search");

  // The hit leads to its message, outlined, in its conversation.
  await results.first().getByRole("link", { name: "Open in conversation" }).click();
  await expect(page.getByRole("heading", { level: 1, name: group })).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`/c/${g.id}\\?message=${hit.id}`));
  await expect(page.locator(`[data-message-id="${hit.id}"]`)).toHaveAttribute("data-highlighted", "true");
});
