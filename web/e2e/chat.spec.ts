// Two people chatting: a group and a DM, messages both ways in real time,
// typing, presence, unread counts, a reaction, a pin, a thread reply, edit
// and delete, each seen on the other person's screen; a saved message, and
// a block that collapses the blocked person's messages for the blocker.
import { composer, expect, messageRow, openConversation, openDm, rowAction, send, sendSeen, sharedGroup, shot, sidebarLink, test, unique } from "./fixtures";

test("group and DM: messages both ways in real time, typing, presence, unread counts, roles, blocking", async ({ people }) => {
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

  // Then ann blocks bo: his messages in the group collapse on her screen (only
  // hers), one is shown on request; her blocked people list him until she
  // unblocks him.
  await openConversation(ann, group);
  await ann.page.getByRole("button", { name: "Members", exact: true }).click();
  const members = ann.page.getByRole("complementary", { name: "Members" });
  // ann owns the group: she makes bo an admin; bo's open members list follows.
  await bo.page.getByRole("button", { name: "Members", exact: true }).click();
  const boRole = bo.page.getByRole("complementary", { name: "Members" }).getByRole("listitem").filter({ hasText: bo.username }).getByTestId("member-role");
  await expect(boRole).toHaveText("member");
  await members.getByRole("button", { name: `Make ${bo.username} admin` }).click();
  await expect(members.getByRole("listitem").filter({ hasText: bo.username }).getByTestId("member-role")).toHaveText("admin");
  await expect(boRole).toHaveText("admin");
  await members.getByRole("button", { name: `Block ${bo.username}` }).click();
  await expect(members.getByRole("button", { name: `Unblock ${bo.username}` })).toBeVisible();
  const blockedText = `after the block ${unique("b")}`;
  await send(bo, blockedText);
  await expect(messageRow(bo.page, blockedText)).toBeVisible();
  const collapsed = ann.page.getByRole("log", { name: "Messages" }).getByTestId("blocked-message");
  await expect(collapsed).toHaveCount(3); // his two greetings and this one
  await expect(messageRow(ann.page, blockedText)).toHaveCount(0);
  await collapsed.last().getByRole("button", { name: "Show" }).click();
  await expect(messageRow(ann.page, blockedText)).toBeVisible();
  await ann.page.getByRole("navigation", { name: "Your lists" }).getByRole("link", { name: "Blocked people" }).click();
  const blockedList = ann.page.getByRole("list", { name: "Blocked people" });
  await expect(blockedList.getByTestId("blocked-person")).toContainText(bo.username);
  await blockedList.getByRole("button", { name: `Unblock ${bo.username}` }).click();
  await expect(blockedList.getByTestId("blocked-person")).toHaveCount(0);

  // Presence offline: bo's browser goes away; ann's DM dot turns off.
  await bo.ctx.close();
  await expect(sidebarLink(ann.page, bo.display).getByTestId("presence")).toHaveAttribute("data-online", "false", { timeout: 30_000 });
});

test("a reaction, a pin, a thread reply, edit and delete are seen by the other; a saved message", async ({ people }) => {
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

  // di pins it for both: cy sees it pinned, and in the conversation's pinned list.
  await rowAction(messageRow(di.page, text), "Pin message");
  await expect(messageRow(cy.page, text).getByTestId("pinned-badge")).toBeVisible();
  await cy.page.getByRole("button", { name: "Pinned", exact: true }).click();
  const pinsPanel = cy.page.getByRole("complementary", { name: "Pinned messages" });
  await expect(pinsPanel.getByTestId("pinned-message").filter({ hasText: text })).toBeVisible();
  await pinsPanel.getByRole("button", { name: "Close pinned messages" }).click();
  // cy saves it for herself: her saved messages list it and lead back to it.
  await rowAction(messageRow(cy.page, text), "Save message");
  await expect(messageRow(cy.page, text).getByTestId("saved-badge")).toBeVisible();
  await expect(messageRow(di.page, text).getByTestId("saved-badge")).toHaveCount(0);
  await cy.page.getByRole("navigation", { name: "Your lists" }).getByRole("link", { name: "Saved messages" }).click();
  const saved = cy.page.getByRole("list", { name: "Saved messages" }).getByTestId("saved-message").filter({ hasText: text });
  await expect(saved).toBeVisible();
  await saved.getByRole("link", { name: "Open conversation" }).click();
  await expect(messageRow(cy.page, text)).toBeVisible();

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
