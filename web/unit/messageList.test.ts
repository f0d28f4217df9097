import { expect, test } from "@playwright/test";
import { cmpId, emptyList, insertId, setReaction, upsert } from "../src/state/messageList";
import type { Message } from "../src/lib/types";

export const msg = (id: string, over: Partial<Message> = {}): Message => ({
  id, conversation_id: "1", user_id: "7", parent_id: null, body: `m${id}`, reply_count: 0, last_reply_at: null,
  created_at: new Date(Number(id) * 1000).toISOString(), edited_at: null, deleted_at: null, reactions: [], ...over,
});

test("ids order as numbers, not strings", () => {
  expect(cmpId("9", "10")).toBeLessThan(0);
  expect(cmpId("384981121043009536", "384981121043009537")).toBeLessThan(0);
  expect(insertId(insertId(insertId([], "10"), "9"), "100")).toEqual(["9", "10", "100"]);
});

test("upserting a message twice keeps one row", () => {
  let l = upsert(emptyList(), msg("5"));
  l = upsert(l, msg("5"));
  expect(l.ids).toEqual(["5"]);
});

test("reaction totals are idempotent and me changes only for the viewer", () => {
  let m = setReaction(msg("1"), "👍", 1, true);
  m = setReaction(m, "👍", 1, true);
  expect(m.reactions).toEqual([{ emoji: "👍", count: 1, me: true }]);
  m = setReaction(m, "👍", 2, undefined);
  expect(m.reactions).toEqual([{ emoji: "👍", count: 2, me: true }]);
  m = setReaction(m, "👍", 0, false);
  expect(m.reactions).toEqual([]);
});
