import { expect, test } from "@playwright/test";
import { createConversationStore } from "../src/state/conversationStore";
import { FakeServer } from "./fakeApi";

test("member.updated moves a member's role in the members list and one's own role in the conversation", async () => {
  const srv = new FakeServer();
  const store = createConversationStore(srv.api());
  store.getState().reset("me");
  const cid = srv.conv.id;
  store.setState({
    conversations: { [cid]: { ...srv.conv, role: "owner" } },
    listLoaded: true,
    members: { [cid]: [{ user_id: "me", role: "owner" }, { user_id: "2", role: "member" }] },
  });
  await store.getState().open(cid);
  const handover = [srv.emit("member.updated", { user_id: "2", role: "owner" }), srv.emit("member.updated", { user_id: "me", role: "admin" })];
  for (const e of [...handover, ...handover]) store.getState().receive(e);
  expect(store.getState().members[cid]).toEqual([{ user_id: "me", role: "admin" }, { user_id: "2", role: "owner" }]);
  expect(store.getState().conversations[cid]!.role).toBe("admin");
});
