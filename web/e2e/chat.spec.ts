// Two people chatting: a group and a DM, messages both ways in real time,
// typing, presence, unread counts, a reaction, a thread reply, edit and
// delete, each seen on the other person's screen.
import { composer, expect, messageRow, openConversation, openDm, rowAction, send, sendSeen, sharedGroup, shot, sidebarLink, test, unique } from "./fixtures";

test("group and DM: messages both ways in real time, typing, presence, unread counts", async ({ people }) => {
  const ann = await people("ann");
  const bo = await people("bo");
  // A group: ann creates it with bo; bo sees it appear and opens it.
  const group = await sharedGroup(ann, bo, "Launch ");

  for (let i = 0; i < 2; i++) {
    await sendSeen(ann, bo, `hello bo ${i} ${unique("m")}`);
    await sendSeen(bo, ann, `hi ann ${i} ${unique("m")}`);
  }

  // Typing: bo sees ann typing; ann never sees her own.
  await composer(ann.page).pressSequentially("I am typ", { delay: 30 });
  await expect(bo.page.getByTestId("typing")).toContainText(`${ann.display} is typing`);
  await expect(ann.page.getByTestId("typing")).not.toContainText("is typing");
  await composer(ann.page).fill("");

  // A DM: ann starts it; bo gets it; presence shows the other online.
  await openDm(ann, bo);
  await expect(sidebarLink(bo.page, ann.display)).toBeVisible();
  await openConversation(bo, ann.display);
  await sendSeen(ann, bo, `direct ${unique("m")}`);
  await sendSeen(bo, ann, `direct back ${unique("m")}`);
  await expect(sidebarLink(ann.page, bo.display).getByTestId("presence")).toHaveAttribute("data-online", "true");
  await expect(sidebarLink(bo.page, ann.display).getByTestId("presence")).toHaveAttribute("data-online", "true");

  // Unread counts: ann writes three in the group while bo reads the DM.
  await openConversation(ann, group);
  const unread = [unique("u"), unique("u"), unique("u")];
  const lastUnread = unread[2] as string;
  for (const u of unread) await send(ann, `unread ${u}`);
  await expect(messageRow(ann.page, lastUnread)).toBeVisible();
  await expect(sidebarLink(bo.page, group).getByTestId("unread-count")).toHaveText("3");
  await expect(sidebarLink(bo.page, ann.display).getByTestId("unread-count")).toHaveCount(0);
  await openConversation(bo, group);
  await expect(messageRow(bo.page, lastUnread)).toBeVisible();
  await expect(sidebarLink(bo.page, group).getByTestId("unread-count")).toHaveCount(0);
  // Reading moved bo's marker: it stays read after a reload.
  await bo.page.reload();
  await expect(sidebarLink(bo.page, group)).toBeVisible();
  await expect(sidebarLink(bo.page, group).getByTestId("unread-count")).toHaveCount(0);

  // Presence offline: bo's browser goes away; ann's DM dot turns off.
  await bo.ctx.close();
  await expect(sidebarLink(ann.page, bo.display).getByTestId("presence")).toHaveAttribute("data-online", "false", { timeout: 30_000 });
});

test("a reaction, a thread reply, edit and delete are seen by the other", async ({ people }) => {
  const cy = await people("cy");
  const di = await people("di");
  await sharedGroup(cy, di, "Design ");

  const text = `shall we ship ${unique("m")}`;
  await sendSeen(cy, di, text);

  // di reacts 👍: cy sees the chip (not hers), di's chip is pressed.
  await rowAction(messageRow(di.page, text), "Add reaction");
  await di.page.getByRole("button", { name: "👍", exact: true }).click();
  const diChip = messageRow(di.page, text).getByTestId("reaction").and(di.page.locator('[data-emoji="👍"]'));
  const cyChip = messageRow(cy.page, text).getByTestId("reaction").and(cy.page.locator('[data-emoji="👍"]'));
  await expect(diChip).toHaveAttribute("aria-pressed", "true");
  await expect(diChip).toContainText("1");
  await expect(cyChip).toHaveAttribute("aria-pressed", "false");
  await expect(cyChip).toContainText("1");

  // di replies in a thread: cy sees "1 reply" and the reply in the thread.
  await rowAction(messageRow(di.page, text), "Reply in thread");
  const diThread = di.page.getByRole("complementary", { name: "Thread" });
  const reply = `yes, today ${unique("r")}`;
  await diThread.getByRole("textbox", { name: "Reply" }).fill(reply);
  await diThread.getByRole("button", { name: "Send reply" }).click();
  await expect(diThread.getByRole("log", { name: "Thread messages" }).getByRole("article").filter({ hasText: reply })).toBeVisible();
  await messageRow(cy.page, text).getByRole("button", { name: "1 reply" }).click();
  const cyThread = cy.page.getByRole("complementary", { name: "Thread" });
  await expect(cyThread.getByRole("log", { name: "Thread messages" }).getByRole("article").filter({ hasText: reply })).toBeVisible();
  await shot(cy.page, "conversation-with-thread");

  // cy edits her message: di sees the new text, marked edited.
  const edited = `shall we ship on Friday ${unique("e")}`;
  await rowAction(messageRow(cy.page, text), "Edit message");
  const box = cy.page.getByRole("textbox", { name: "Edit message" });
  await box.fill(edited);
  await box.press("Enter");
  await expect(messageRow(di.page, edited)).toContainText("(edited)");
  await expect(messageRow(di.page, text)).toHaveCount(0);

  // cy deletes it: di sees a tombstone in its place.
  const id = await messageRow(cy.page, edited).getAttribute("data-message-id");
  await rowAction(messageRow(cy.page, edited), "Delete message");
  await cy.page.getByRole("dialog").getByRole("button", { name: "Delete", exact: true }).click();
  const diRow = di.page.getByRole("log", { name: "Messages" }).locator(`[data-message-id="${id}"]`);
  await expect(diRow).toContainText("This message was deleted");
  await expect(diRow).not.toContainText(edited);
  await expect(cy.page.getByRole("log", { name: "Messages" }).locator(`[data-message-id="${id}"]`)).toContainText("This message was deleted");
});
