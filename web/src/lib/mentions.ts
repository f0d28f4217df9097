// Mentions in a message body, as the api parsed them (Message.mentions):
// which `@name` tokens of the body to highlight, and whether a message
// concerns the signed-in person. The token rule mirrors the api's parser
// (api/mention): `@` at the start or after a character that is not a
// letter, digit, `_` or `.`, then username characters; a trailing `.`
// ends the sentence, not the name.
import type { ID, Mentions } from "./types";

export interface BodyPart {
  text: string;
  /** Set on a mention the api resolved: "me" when it concerns the reader. */
  mention?: "me" | "other";
}

const TOKEN = /@([A-Za-z0-9_.]+)/g;
const NAME_CHAR = /[A-Za-z0-9_.]/;

/** Whether m mentions the person: by name, @channel or @here. */
export function concerns(m: Mentions | null | undefined, me: ID | null): boolean {
  if (!m || !me) return false;
  return m.channel || m.here || m.users.some((u) => u.id === me);
}

/** Splits body into plain text and the mentions the api resolved. */
export function bodyParts(body: string, m: Mentions | null | undefined, me: ID | null): BodyPart[] {
  if (!m) return [{ text: body }];
  const parts: BodyPart[] = [];
  let from = 0;
  for (const match of body.matchAll(TOKEN)) {
    const at = match.index ?? 0;
    if (at > 0 && NAME_CHAR.test(body[at - 1]!)) continue;
    const name = match[1]!.replace(/\.+$/, "").toLowerCase();
    let kind: BodyPart["mention"];
    if (name === "channel" || name === "here") {
      if (name === "channel" ? m.channel : m.here) kind = "me";
    } else {
      const u = m.users.find((x) => x.username === name);
      if (u) kind = u.id === me ? "me" : "other";
    }
    if (!kind) continue;
    const end = at + 1 + name.length;
    if (at > from) parts.push({ text: body.slice(from, at) });
    parts.push({ text: body.slice(at, end), mention: kind });
    from = end;
  }
  if (from < body.length) parts.push({ text: body.slice(from) });
  return parts;
}
