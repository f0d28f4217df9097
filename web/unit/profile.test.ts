import { expect, test } from "@playwright/test";
import { createConversationStore } from "../src/state/conversationStore";
import { FakeServer } from "./fakeApi";

test("user.updated replaces the person everywhere they are shown: the users map and every members list", () => {
  const srv = new FakeServer();
  const store = createConversationStore(srv.api());
  store.getState().reset("me");
  const ann = { id: "2", username: "ann", display_name: "Ann", created_at: "2026-12-01T00:00:00.000Z" };
  store.setState({
    users: { "2": ann },
    members: { a: [{ user_id: "2", role: "member", user: ann }], b: [{ user_id: "3", role: "owner" }] },
  });
  const next = { ...ann, display_name: "Ann L.", avatar_id: "99", status: { text: "away", emoji: "🌴", expires_at: null }, time_zone: "Europe/Paris" };
  store.getState().userUpdated(next);
  store.getState().userUpdated(next);
  expect(store.getState().users["2"]).toEqual(next);
  expect(store.getState().members.a![0]!.user).toEqual(next);
  expect(store.getState().members.b).toEqual([{ user_id: "3", role: "owner" }]);
});
