import { expect, test } from "@playwright/test";
import { createConversationStore } from "../src/state/conversationStore";
import type { Message } from "../src/lib/types";
import { FakeServer } from "./fakeApi";

/** A store with the conversation open (baseline taken) against a fresh server. */
async function setup(prepare?: (srv: FakeServer) => void) {
  const srv = new FakeServer();
  prepare?.(srv);
  const store = createConversationStore(srv.api());
  store.getState().reset("me");
  store.setState({ conversations: { [srv.conv.id]: { ...srv.conv } }, listLoaded: true });
  await store.getState().open(srv.conv.id);
  const id = srv.conv.id;
  const bodies = () => {
    const tl = store.getState().timelines[id]!;
    return tl.ids.map((i) => tl.byId[i]!.body);
  };
  return { srv, store, id, bodies, s: () => store.getState() };
}

test("a duplicated event is applied once", async () => {
  const { srv, s, id, bodies } = await setup((srv) => srv.post("2", "before"));
  const e = srv.post("2", "hello");
  s().receive(e);
  s().receive(e);
  s().receive(structuredClone(e));
  await s().catchUp(id);
  expect(bodies()).toEqual(["before", "hello"]);
  expect(s().lastSeq(id)).toBe(2);
  expect(s().conversations[id]!.unread_count).toBe(1);
});

test("events out of order are applied in seq order, each once", async () => {
  const { srv, s, id, bodies } = await setup();
  const a = srv.post("2", "one");
  const b = srv.post("2", "two");
  const c = srv.post("2", "three");
  s().receive(c);
  s().receive(a);
  s().receive(b);
  await s().catchUp(id);
  s().receive(a);
  expect(bodies()).toEqual(["one", "two", "three"]);
  expect(s().lastSeq(id)).toBe(3);
  expect(s().conversations[id]!.unread_count).toBe(3);
});

test("a gap in seq is filled from the event log before newer events", async () => {
  const { srv, s, id, bodies } = await setup();
  s().receive(srv.post("2", "one"));
  srv.post("2", "lost two");
  srv.post("2", "lost three");
  srv.post("2", "lost four");
  const five = srv.post("2", "five");
  s().receive(five);
  await s().catchUp(id);
  expect(bodies()).toEqual(["one", "lost two", "lost three", "lost four", "five"]);
  expect(s().lastSeq(id)).toBe(5);
  expect(srv.calls.replayEvents).toBeGreaterThanOrEqual(2); // pages of 2
});

test("410 resync_required reloads the conversation and resumes from its last seq", async () => {
  const { srv, s, id, bodies } = await setup();
  s().receive(srv.post("2", "one"));
  for (let i = 2; i <= 6; i++) srv.post("2", `m${i}`);
  srv.trimmedThrough = 4; // the log no longer holds seq 2..4
  const loads = srv.calls.listMessages ?? 0;
  s().receive(srv.post("2", "seven"));
  await s().catchUp(id);
  expect(srv.calls.listMessages).toBe(loads + 1);
  expect(bodies()).toEqual(["one", "m2", "m3", "m4", "m5", "m6", "seven"]);
  expect(s().lastSeq(id)).toBe(7);
});

test("an optimistic send is reconciled with its message.created by client_msg_id", async () => {
  const { srv, s, id, bodies } = await setup();
  const sending = s().send(id, "hi there");
  expect(s().timelines[id]!.pending.map((p) => p.state)).toEqual(["pending"]);
  await sending;
  // The event of the same message arrives after the REST answer.
  s().receive(srv.log[srv.log.length - 1]!);
  await s().catchUp(id);
  expect(bodies()).toEqual(["hi there"]);
  expect(s().timelines[id]!.pending).toEqual([]);
  expect(s().conversations[id]!.unread_count).toBe(0); // one's own message is not unread
});

test("the event can beat the REST answer: still one row", async () => {
  const { srv, s, id, bodies } = await setup();
  const api = srv.api();
  // Deliver the event before the send resolves, as a fast socket would.
  const orig = api.sendMessage;
  const store = createConversationStore({
    ...api,
    sendMessage: async (cid, b) => {
      const m = await orig(cid, b);
      store.getState().receive(srv.log[srv.log.length - 1]!);
      return m;
    },
  });
  store.getState().reset("me");
  store.setState({ conversations: { [id]: { ...srv.conv } }, listLoaded: true });
  await store.getState().open(id);
  await store.getState().send(id, "race");
  await store.getState().catchUp(id);
  const tl = store.getState().timelines[id]!;
  expect(tl.ids.map((i) => tl.byId[i]!.body)).toEqual(["race"]);
  expect(tl.pending).toEqual([]);
  expect(bodies()).toEqual([]); // the first store saw none of it
});

test("a failed send shows as failed; its retry reuses the client_msg_id and never duplicates", async () => {
  const { srv, s, id, bodies } = await setup();
  srv.sendFails = 1;
  await s().send(id, "flaky");
  const [p] = s().timelines[id]!.pending;
  expect(p!.state).toBe("failed");
  await s().retry(id, p!.clientMsgId);
  expect(s().timelines[id]!.pending).toEqual([]);
  // A second retry of the same id (double click) answers the same message.
  await s().retry(id, p!.clientMsgId);
  for (const e of srv.log) s().receive(e);
  await s().catchUp(id);
  expect(bodies()).toEqual(["flaky"]);
  expect((srv.messages[0] as Message).client_msg_id).toBe(p!.clientMsgId);
  expect(srv.messages).toHaveLength(1);
});

test("reaction counts are idempotent under replays and duplicates", async () => {
  const { srv, s, id } = await setup((srv) => srv.post("2", "react to me"));
  const mid = srv.messages[0]!.id;
  const add = srv.react("2", mid, "👍", true);
  s().receive(add);
  s().receive(add);
  await s().react(id, mid, "👍"); // mine: count 2, me
  const mine = srv.log[srv.log.length - 1]!;
  s().receive(mine);
  s().receive(mine);
  await s().catchUp(id);
  const m = s().timelines[id]!.byId[mid]!;
  expect(m.reactions).toEqual([{ emoji: "👍", count: 2, me: true }]);
  s().receive(srv.react("2", mid, "👍", false));
  await s().catchUp(id);
  expect(s().timelines[id]!.byId[mid]!.reactions).toEqual([{ emoji: "👍", count: 1, me: true }]);
});

test("a reply counts once on its root and lands in an open thread", async () => {
  const { srv, s, id } = await setup((srv) => srv.post("2", "root"));
  const root = srv.messages[0]!.id;
  s().receive(srv.post("2", "reply", undefined, root));
  s().receive(srv.log[srv.log.length - 1]!);
  await s().catchUp(id);
  expect(s().timelines[id]!.byId[root]!.reply_count).toBe(1);
  expect(s().timelines[id]!.ids).toHaveLength(1); // replies stay out of the main list
});

test("typing is never shown to the typist and expires", async () => {
  const { s, id } = await setup();
  s().receive({ type: "typing", conversation_id: id, at: "", data: { user_id: "me" } });
  expect(s().typing[id]).toBeUndefined();
  s().receive({ type: "typing", conversation_id: id, at: "", data: { user_id: "2" } });
  expect(Object.keys(s().typing[id]!)).toEqual(["2"]);
  s().expireTyping(Date.now() + 10000);
  expect(Object.keys(s().typing[id]!)).toEqual([]);
});

test("opening a conversation while its subscription's catch-up runs still loads its messages and live events", async () => {
  const srv = new FakeServer();
  srv.post("2", "old");
  const store = createConversationStore(srv.api());
  const s = () => store.getState();
  s().reset("me");
  store.setState({ conversations: { [srv.conv.id]: { ...srv.conv } }, listLoaded: true });
  const id = srv.conv.id;
  const sub = s().catchUp(id); // the subscription confirmed first: summary-only baseline
  const open = s().open(id);
  await Promise.all([sub, open]);
  s().receive(srv.post("2", "live"));
  await s().catchUp(id);
  const tl = s().timelines[id]!;
  expect(tl.loaded).toBe(true);
  expect(tl.ids.map((i) => tl.byId[i]!.body)).toEqual(["old", "live"]);
});
