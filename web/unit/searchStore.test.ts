import { expect, test } from "@playwright/test";
import { createSearchStore, type SearchApi } from "../src/state/searchStore";
import type { Page, SearchHit } from "../src/lib/types";

const hit = (id: string, text: string): SearchHit => ({
  message_id: id, conversation_id: "c1", rank: 0.1, snippet: [{ text, match: true }],
  message: { id, conversation_id: "c1", user_id: "u1", parent_id: null, body: text, reply_count: 0, last_reply_at: null,
    created_at: "2026-01-01T00:00:00.000Z", deleted_at: null, reactions: [] },
});

/** An api whose answers the test releases, in any order. */
function controlled() {
  const calls: { query: string; cursor?: string; resolve: (p: Page<SearchHit>) => void }[] = [];
  const api: SearchApi = {
    searchMessages: (query, opts = {}) => new Promise((resolve) => calls.push({ query, cursor: opts.cursor, resolve })),
    errorText: (e) => String(e),
  };
  return { api, calls };
}

test("a slower answer to an older query never replaces the newer query's hits; more appends the next page once", async () => {
  const { api, calls } = controlled();
  const store = createSearchStore(api);
  const first = store.getState().search("old", null);
  const second = store.getState().search("new", null);
  calls[1]!.resolve({ items: [hit("2", "new")], next_cursor: "c" });
  await second;
  calls[0]!.resolve({ items: [hit("1", "old")], next_cursor: null });
  await first;
  expect(store.getState().hits.map((h) => h.message_id)).toEqual(["2"]);
  expect(store.getState().query).toBe("new");

  const more = store.getState().more();
  expect(calls[2]!.cursor).toBe("c");
  calls[2]!.resolve({ items: [hit("2", "new"), hit("3", "newer page")], next_cursor: null });
  await more;
  expect(store.getState().hits.map((h) => h.message_id)).toEqual(["2", "3"]);
  expect(store.getState().next).toBeNull();

  await store.getState().search("   ", null);
  expect(store.getState().hits).toEqual([]);
  expect(calls).toHaveLength(3);
});
