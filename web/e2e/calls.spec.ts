// 1:1 calls in a DM with Chromium's fake camera and microphone: a video
// call both sides reach ICE "connected" on and decode remote frames of,
// then a declined call (found in both people's call history) and a missed
// call (CALL_RING_TIMEOUT is 12 s in the suite's stack), each ending on both
// screens.
import type { Page } from "@playwright/test";
import { expect, openConversation, openDm, type Person, shot, sidebarLink, test } from "./fixtures";

async function dmPair(people: (p: string) => Promise<Person>) {
  const a = await people("hal");
  const b = await people("ivy");
  await openDm(a, b);
  await expect(sidebarLink(b.page, a.display)).toBeVisible();
  await openConversation(b, a.display);
  return [a, b] as const;
}

const incoming = (p: Page) => p.getByRole("alertdialog", { name: "Incoming call" });
const callState = (p: Page) => p.getByTestId("call-state");
const callRegion = (p: Page) => p.getByRole("region", { name: "Call" });

/** framesDecoded waits for the remote video to present decoded frames. */
async function remoteFrames(p: Page): Promise<number> {
  return p.getByTestId("remote-video").evaluate(
    (v: HTMLVideoElement) =>
      new Promise<number>((resolve, reject) => {
        setTimeout(() => reject(new Error("no remote video frame within 15 s")), 15_000);
        let n = 0;
        const tick = () =>
          v.requestVideoFrameCallback((_, meta) => {
            n++;
            if (n >= 3) resolve(meta.presentedFrames);
            else tick();
          });
        tick();
      }),
  );
}

test("a video call: both reach ICE connected and decode remote video; hang up ends it on both", async ({ people }) => {
  const [hal, ivy] = await dmPair(people);
  await hal.page.getByRole("button", { name: "Start video call" }).click();
  await expect(incoming(ivy.page)).toBeVisible();
  await expect(incoming(ivy.page)).toContainText(hal.display);
  await expect(callState(hal.page)).toHaveAttribute("data-state", /calling|ringing/);
  await shot(ivy.page, "incoming-call");
  await incoming(ivy.page).getByRole("button", { name: "Accept" }).click();

  for (const p of [hal.page, ivy.page]) {
    await expect(callRegion(p)).toHaveAttribute("data-ice-state", /connected|completed/, { timeout: 20_000 });
    await expect(callState(p)).toHaveAttribute("data-state", "active");
  }
  expect(await remoteFrames(hal.page)).toBeGreaterThan(0);
  expect(await remoteFrames(ivy.page)).toBeGreaterThan(0);
  await shot(hal.page, "active-call");

  await callRegion(hal.page).getByRole("button", { name: "Mute" }).click();
  await expect(callRegion(hal.page).getByRole("button", { name: "Unmute" })).toBeVisible();
  await callRegion(hal.page).getByRole("button", { name: "Hang up" }).click();
  for (const p of [hal.page, ivy.page]) {
    await expect(callRegion(p)).toHaveCount(0);
    await expect(p.getByTestId("call-event").filter({ hasText: "ended" })).toBeVisible();
  }
});

test("a declined call ends on both screens", async ({ people }) => {
  const [hal, ivy] = await dmPair(people);
  await hal.page.getByRole("button", { name: "Start voice call" }).click();
  await expect(incoming(ivy.page)).toBeVisible();
  await incoming(ivy.page).getByRole("button", { name: "Decline" }).click();
  await expect(incoming(ivy.page)).toHaveCount(0);
  await expect(callRegion(hal.page)).toHaveCount(0);
  for (const p of [hal.page, ivy.page]) await expect(p.getByTestId("call-event").filter({ hasText: "declined" })).toBeVisible();

  // Each one's call history lists it: the other person, which way, how it went.
  for (const [p, peer, direction] of [[hal, ivy, "outgoing"], [ivy, hal, "incoming"]] as const) {
    await p.page.getByRole("navigation", { name: "Your lists" }).getByRole("link", { name: "Call history" }).click();
    const entry = p.page.getByRole("list", { name: "Calls" }).getByTestId("call-history-entry").first();
    await expect(entry).toHaveAttribute("data-direction", direction);
    await expect(entry).toHaveAttribute("data-status", "declined");
    await expect(entry).toContainText(peer.display);
  }
  await hal.page.getByTestId("call-history-entry").first().getByRole("link", { name: "Open conversation" }).click();
  await expect(hal.page.getByRole("heading", { level: 1, name: ivy.display })).toBeVisible();
});

test("a missed call ends on both screens", async ({ people }) => {
  const [hal, ivy] = await dmPair(people);
  await hal.page.getByRole("button", { name: "Start video call" }).click();
  await expect(incoming(ivy.page)).toBeVisible();
  // Nobody answers: after CALL_RING_TIMEOUT the worker marks it missed.
  await expect(incoming(ivy.page)).toHaveCount(0, { timeout: 40_000 });
  await expect(callRegion(hal.page)).toHaveCount(0);
  for (const p of [hal.page, ivy.page]) await expect(p.getByTestId("call-event").filter({ hasText: "missed" })).toBeVisible();
});
