import { expect, test } from "@playwright/test";
import { createCallStore } from "../src/state/callStore";
import type { Call } from "../src/lib/types";

const call = (status: Call["status"], over: Partial<Call> = {}): Call => ({
  id: "900", conversation_id: "100", caller_id: "a", callee_id: "b", media: "video", status, created_at: "2026-01-01T00:00:00.000Z", ...over,
});

test("the callee's call moves incoming → connecting → ended, and late or repeated events never move it back", () => {
  const s = createCallStore();
  expect(s.getState().apply(call("calling"), "b")).toBe("incoming");
  expect(s.getState().apply(call("ringing"), "b")).toBe("incoming");
  expect(s.getState().apply(call("active"), "b")).toBe("connecting");
  expect(s.getState().apply(call("ringing"), "b")).toBe("connecting"); // late, older status
  expect(s.getState().apply(call("active"), "b")).toBe("connecting"); // repeat
  expect(s.getState().apply(call("ended"), "b")).toBe("ended");
  expect(s.getState().apply(call("active"), "b")).toBe("ended");
});

test("the caller sees ringing, then declined or missed", () => {
  const s = createCallStore();
  s.getState().begin(call("calling"), "a");
  expect(s.getState().phase).toBe("calling");
  expect(s.getState().apply(call("ringing"), "a")).toBe("ringing");
  expect(s.getState().peer).toBe("b");
  expect(s.getState().apply(call("missed"), "a")).toBe("missed");
  const d = createCallStore();
  d.getState().apply(call("ringing"), "a");
  d.getState().begin(call("calling"), "a"); // the REST answer after the event: stays ringing
  expect(d.getState().phase).toBe("ringing");
  expect(d.getState().apply(call("declined"), "a")).toBe("declined");
});

test("the end of a call this tab never showed is ignored", () => {
  const s = createCallStore();
  expect(s.getState().apply(call("ended", { id: "901" }), "b")).toBe("idle");
});
