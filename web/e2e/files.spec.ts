// Files in messages: ann attaches an image and a text file in the composer
// (upload progress, then sent with her caption); bob sees the image's
// thumbnail inline and downloads the text file by its signed link; someone
// outside the group gets no link; when ann deletes the message the links
// bob held stop working.
import { API_URL } from "./stack";
import { apiRegister, canvasPNG, composer, expect, messageRow, rowAction, sharedGroup, shot, test, unique } from "./fixtures";

test("files: attach with progress, thumbnail inline, signed download, members only, gone with the message", async ({ people }) => {
  const ann = await people("ann");
  const bob = await people("bob");
  await sharedGroup(ann, bob, "Files ");

  const png = await canvasPNG(ann.page, 800, 600);
  await ann.page.getByTestId("attach-input").setInputFiles([
    { name: "sunset.png", mimeType: "image/png", buffer: png },
    { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hello notes\n") },
  ]);
  const uploads = ann.page.getByTestId("upload");
  await expect(uploads).toHaveCount(2);
  await expect(uploads.filter({ hasText: "sunset.png" })).toHaveAttribute("data-state", "done");
  await expect(uploads.filter({ hasText: "notes.txt" })).toHaveAttribute("data-state", "done");
  const caption = unique("holiday pics ");
  await composer(ann.page).fill(caption);
  await composer(ann.page).press("Enter");
  await expect(uploads).toHaveCount(0);

  // bob: the image's thumbnail (the api made it: 360 px wide), a download link of each.
  const row = messageRow(bob.page, caption);
  const thumb = row.getByTestId("attachment-thumbnail");
  await expect(thumb).toBeVisible();
  await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(360);
  const link = row.getByRole("link", { name: "Download notes.txt" });
  await expect(link).toHaveAttribute("href", /\/files\/\d+\/blob\?/);
  const href = (await link.getAttribute("href"))!;
  const got = await bob.page.request.get(href);
  expect(got.status()).toBe(200);
  expect(await got.text()).toBe("hello notes\n");
  await shot(bob.page, "files");

  // Outside the group: no link for the file.
  const fileId = new URL(href).pathname.split("/")[2]!;
  const eve = await apiRegister("eve");
  const r = await fetch(`${API_URL}/files/${fileId}/url`, { headers: { authorization: `Bearer ${eve.token}` } });
  expect(r.status).toBe(404);

  // ann deletes the message: the link bob holds serves nothing any more.
  await rowAction(messageRow(ann.page, caption), "Delete message");
  await ann.page.getByRole("dialog").getByRole("button", { name: "Delete", exact: true }).click();
  await expect(bob.page.getByRole("log", { name: "Messages" }).getByText("This message was deleted")).toBeVisible();
  expect((await bob.page.request.get(href)).status()).toBe(404);
});
