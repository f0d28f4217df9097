import { expect, test } from "@playwright/test";
import { createConversationStore } from "../src/state/conversationStore";
import type { Message, Pin } from "../src/lib/types";
import { FakeServer } from "./fakeApi";

const pinOf = (srv: FakeServer, messageId: string, at: string): Pin => ({
  conversation_id: srv.conv.id, message_id: messageId, pinned_by: "2", pinned_at: at,
});

test("pin events keep the pinned list: once each, with the message, newest first; a deleted message drops out", async () => {
  const srv = new FakeServer();
  const a = srv.post("2", "first").data as Message;
  const b = srv.post("2", "second").data as Message;
  srv.pins = [{ ...pinOf(srv, a.id, "2026-01-01T00:01:00.000Z"), message: a }];
  const store = createConversationStore(srv.api());
  store.getState().reset("me");
  store.setState({ conversations: { [srv.conv.id]: { ...srv.conv } }, listLoaded: true });
  await store.getState().open(srv.conv.id);
  await expect.poll(() => store.getState().pins[srv.conv.id]?.length).toBe(1);
  const pinned = () => store.getState().pins[srv.conv.id]!.map((p) => `${p.message_id}:${p.message?.body}`);

  const added = srv.emit("pin.added", pinOf(srv, b.id, "2026-01-01T00:02:00.000Z"));
  store.getState().receive(added);
  store.getState().receive(added);
  expect(pinned()).toEqual([`${b.id}:second`, `${a.id}:first`]);

  store.getState().receive(srv.emit("pin.removed", pinOf(srv, b.id, "2026-01-01T00:02:00.000Z")));
  expect(pinned()).toEqual([`${a.id}:first`]);

  store.getState().receive(srv.emit("message.deleted", { ...a, body: null, deleted_at: "2026-01-01T00:03:00.000Z", reactions: [] }));
  expect(pinned()).toEqual([]);
  expect(store.getState().lastSeq(srv.conv.id)).toBe(srv.log.length);
});
