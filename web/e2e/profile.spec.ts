// Profiles: ann sets her display name, avatar (uploaded, resized by the
// api), status (emoji, text, cleared after an hour) and time zone on the
// Profile screen; bob, who shares a group with her, sees the avatar and the
// status in the members list as it changes (user.updated) and her avatar
// beside her messages; the profile stays after a reload.
import { canvasPNG, expect, messageRow, send, sharedGroup, shot, test } from "./fixtures";

test("profile: display name, avatar, status and time zone, seen live by a group member", async ({ people }) => {
  const ann = await people("ann");
  const bob = await people("bob");
  await sharedGroup(ann, bob, "Profile ");
  await bob.page.getByRole("button", { name: "Members", exact: true }).click();
  const annInList = bob.page.getByRole("complementary", { name: "Members" }).getByRole("listitem").filter({ hasText: ann.username });
  await expect(annInList.getByTestId("avatar-initial")).toBeVisible();

  await ann.page.getByRole("navigation", { name: "Your lists" }).getByRole("link", { name: "Profile", exact: true }).click();
  await expect(ann.page.getByRole("heading", { name: "Your profile" })).toBeVisible();
  await ann.page.getByTestId("avatar-input").setInputFiles({ name: "me.png", mimeType: "image/png", buffer: await canvasPNG(ann.page, 300, 300) });
  await expect(ann.page.getByRole("status")).toHaveText("Avatar updated");
  await ann.page.getByLabel("Display name").fill("Ann Lovelace");
  await ann.page.getByLabel("Emoji").fill("🌴");
  await ann.page.getByLabel("Status text").fill("On holiday");
  await ann.page.getByLabel("Clear after").selectOption({ label: "1 hour" });
  await ann.page.getByLabel("Time zone").fill("Europe/Paris");
  await ann.page.getByRole("button", { name: "Save profile" }).click();
  await expect(ann.page.getByRole("status")).toHaveText("Profile saved");
  await shot(ann.page, "profile");

  // bob sees it live: the avatar (a 64 px square from the api) and the status.
  const avatar = annInList.getByTestId("avatar");
  await expect(avatar).toBeVisible();
  await expect.poll(() => avatar.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(64);
  await expect(annInList.getByTestId("user-status")).toHaveText("🌴 On holiday");
  await expect(annInList).toContainText("Ann Lovelace");

  // Her messages carry her avatar on bob's screen.
  await ann.page.goBack();
  await send(ann, "hello with a face");
  await expect(messageRow(bob.page, "hello with a face").getByTestId("avatar")).toBeVisible();

  // Kept: after a reload the Profile screen shows what was saved.
  await ann.page.goto("/profile");
  await expect(ann.page.getByLabel("Display name")).toHaveValue("Ann Lovelace");
  await expect(ann.page.getByLabel("Status text")).toHaveValue("On holiday");
  await expect(ann.page.getByLabel("Time zone")).toHaveValue("Europe/Paris");
});
