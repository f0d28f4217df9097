// Mentions and notifications, and an archived conversation: bob (made
// through the api) mentions ann in her group; ann's sidebar shows the @1
// badge, her bell and the browser's Notification API show it, the row
// highlights her name; her notification level and mute take effect (a
// mention at level none notifies nothing, a DM still does); she archives the
// group (banner, disabled composer, bob's send refused) and unarchives it.
import { API_URL } from "./stack";
import { api, apiRegister, composer, createGroup, expect, messageRow, type Person, sidebarLink, shot, test, unique } from "./fixtures";

/** Records what the page shows through the Notification API (permission granted). */
const stubNotifications = () => {
  const w = window as unknown as { __shown: string[]; Notification: unknown };
  w.__shown = [];
  class Shown {
    onclick: (() => void) | null = null;
    static permission = "granted";
    static requestPermission = () => Promise.resolve("granted");
    constructor(title: string) {
      w.__shown.push(title);
    }
  }
  w.Notification = Shown;
};

const shown = (p: Person) => p.page.evaluate(() => (window as unknown as { __shown: string[] }).__shown);

test("mentions: badge, bell, browser notification, highlight, levels and mute, archive", async ({ people }) => {
  const ann = await people("ann");
  await ann.ctx.addInitScript(stubNotifications);
  const bob = await apiRegister("bob");
  const name = unique("Mentions ");
  await createGroup(ann, name, [{ username: bob.username } as Person]);
  const cid = new URL(ann.page.url()).pathname.split("/").pop() as string;
  await ann.page.goto("/");
  await expect(sidebarLink(ann.page, name)).toBeVisible();
  const bell = ann.page.getByRole("button", { name: /^Notifications/ });
  // Her own stream (where notifications come) is subscribed: what is sent
  // before it is not replayed.
  await expect(bell).toHaveAttribute("data-live", "true");

  // bob mentions ann: badge, bell and browser notification.
  const first = `@${ann.username} can you look? ${unique("m")}`;
  await api(bob.token, "POST", `/conversations/${cid}/messages`, { body: first });
  await expect(sidebarLink(ann.page, name).getByTestId("mention-count")).toHaveText("@1");
  await expect(ann.page.getByTestId("notification-count")).toHaveText("1");
  await expect.poll(() => shown(ann)).toEqual([expect.stringContaining("mentioned you")]);
  await bell.click();
  const list = ann.page.getByRole("dialog", { name: "Notifications" });
  await expect(list.getByTestId("notification")).toHaveCount(1);
  await list.getByTestId("notification").first().click();
  await expect(ann.page.getByRole("heading", { level: 1, name })).toBeVisible();
  const mention = messageRow(ann.page, "can you look?").getByTestId("mention");
  await expect(mention).toHaveText(`@${ann.username}`);
  await expect(mention).toHaveAttribute("data-me", "true");
  await expect(sidebarLink(ann.page, name).getByTestId("mention-count")).toHaveCount(0);
  await expect(ann.page.getByTestId("notification-count")).toHaveCount(0);

  // Level none: a mention notifies nothing; a DM still does.
  await ann.page.getByRole("button", { name: "Settings", exact: true }).click();
  const settings = ann.page.getByRole("complementary", { name: "Conversation settings" });
  await settings.getByLabel("Notification level").selectOption("none");
  await expect(settings.getByLabel("Notification level")).toHaveValue("none");
  const quiet = `@${ann.username} quiet please ${unique("m")}`;
  await api(bob.token, "POST", `/conversations/${cid}/messages`, { body: quiet });
  await expect(messageRow(ann.page, quiet)).toBeVisible();
  const members = await api<{ items: { user_id: string }[] }>(bob.token, "GET", `/conversations/${cid}/members`);
  const annId = members.items.map((m) => m.user_id).find((u) => u !== bob.id) as string;
  const dm = await api<{ id: string }>(bob.token, "POST", "/conversations", { kind: "dm", member_ids: [annId] });
  await api(bob.token, "POST", `/conversations/${dm.id}/messages`, { body: "psst" });
  await expect(ann.page.getByTestId("notification-count")).toHaveText("1");
  await bell.click();
  await expect(list.getByTestId("notification")).toHaveCount(2);
  await expect(list.getByTestId("notification").first()).toHaveAttribute("data-reason", "dm");
  await bell.click();

  // A mute for an hour.
  await settings.getByLabel("Mute").selectOption("1");
  await expect(settings.getByLabel("Mute")).toHaveValue("until");
  await shot(ann.page, "mentions");

  // ann owns the group: she archives it; it is read-only for everyone.
  await settings.getByRole("button", { name: "Archive conversation" }).click();
  await expect(ann.page.getByTestId("archived-banner")).toBeVisible();
  await expect(composer(ann.page)).toBeDisabled();
  const refused = await fetch(`${API_URL}/conversations/${cid}/messages`, {
    method: "POST",
    headers: { authorization: `Bearer ${bob.token}`, "content-type": "application/json" },
    body: JSON.stringify({ body: "still there?" }),
  });
  expect(refused.status).toBe(409);
  expect(((await refused.json()) as { code: string }).code).toBe("conversation_archived");
  await shot(ann.page, "archived");
  await settings.getByRole("button", { name: "Unarchive conversation" }).click();
  await expect(ann.page.getByTestId("archived-banner")).toHaveCount(0);
  await expect(composer(ann.page)).toBeEnabled();
});
