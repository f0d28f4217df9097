import { expect, test } from "@playwright/test";
import { bodyParts, concerns } from "../src/lib/mentions";
import { createNotificationStore, MAX_NOTIFICATIONS } from "../src/state/notificationStore";
import { createConversationStore } from "../src/state/conversationStore";
import { FakeServer } from "./fakeApi";
import type { AppNotification, Mentions } from "../src/lib/types";

const m: Mentions = { users: [{ id: "1", username: "ann" }, { id: "2", username: "bob.s" }], channel: false, here: true };

test("a body's mentions are the ones the api resolved, the reader's own marked", () => {
  const parts = bodyParts("hi @Ann, @bob.s. and @carl; mail x@ann.com @here", m, "1");
  expect(parts).toEqual([
    { text: "hi " },
    { text: "@Ann", mention: "me" },
    { text: ", " },
    { text: "@bob.s", mention: "other" },
    { text: ". and @carl; mail x@ann.com " },
    { text: "@here", mention: "me" },
  ]);
  expect(bodyParts("no @channel", m, "1")).toEqual([{ text: "no @channel" }]);
  expect(bodyParts("@ann", null, "1")).toEqual([{ text: "@ann" }]);
  expect(concerns(m, "9")).toBe(true);
  expect(concerns({ ...m, here: false }, "9")).toBe(false);
  expect(concerns({ ...m, here: false }, "2")).toBe(true);
  expect(concerns(null, "1")).toBe(false);
});

test("the bell keeps each notification once, newest first, and counts the unseen", () => {
  const store = createNotificationStore();
  const n = (id: string): AppNotification => ({
    id, reason: "mention", conversation_id: "c", created_at: "2026-01-01T00:00:00.000Z",
    message: { id: "m" + id, conversation_id: "c", parent_id: null, body: "b", reply_count: 0, last_reply_at: null, created_at: "", deleted_at: null, reactions: [] },
  });
  expect(store.getState().add(n("1"))).toBe(true);
  expect(store.getState().add(n("1"))).toBe(false);
  store.getState().add(n("2"));
  expect(store.getState().items.map((x) => x.id)).toEqual(["2", "1"]);
  expect(store.getState().unseen).toBe(2);
  store.getState().seen();
  expect(store.getState().unseen).toBe(0);
  for (let i = 0; i < MAX_NOTIFICATIONS + 5; i++) store.getState().add(n("x" + i));
  expect(store.getState().items).toHaveLength(MAX_NOTIFICATIONS);
});

test("live messages that mention the person raise the conversation's mention count once each; archiving keeps it", async () => {
  const srv = new FakeServer();
  const store = createConversationStore(srv.api());
  store.getState().reset("me");
  store.setState({ conversations: { [srv.conv.id]: { ...srv.conv } }, listLoaded: true });
  await store.getState().open(srv.conv.id);
  const post = (user: string, mentions: Mentions | null) => {
    const e = srv.post(user, "hello");
    (e.data as { mentions: Mentions | null }).mentions = mentions;
    return e;
  };
  const count = () => store.getState().conversations[srv.conv.id]!.mention_count ?? 0;
  const named = post("2", { users: [{ id: "me", username: "me" }], channel: false, here: false });
  store.getState().receive(named);
  store.getState().receive(structuredClone(named));
  expect(count()).toBe(1);
  store.getState().receive(post("2", { users: [{ id: "3", username: "carl" }], channel: false, here: false }));
  store.getState().receive(post("2", null));
  expect(count()).toBe(1);
  store.getState().receive(post("2", { users: [], channel: true, here: false }));
  store.getState().receive(post("me", { users: [], channel: true, here: false }));
  expect(count()).toBe(2);
  store.getState().receive(srv.emit("conversation.archived", { ...srv.conv, archived_at: "2026-01-02T00:00:00.000Z" }));
  expect(store.getState().conversations[srv.conv.id]!.archived_at).toBe("2026-01-02T00:00:00.000Z");
  expect(count()).toBe(2);
});
