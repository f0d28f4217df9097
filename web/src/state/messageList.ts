// A list of messages kept by id (ids are time-ordered 64-bit decimals, so
// sorting by id is sorting by time), plus the person's own sends that the
// server has not confirmed yet. Every function returns a new list and is
// idempotent: applying the same message twice leaves one row.
import type { Attachment, ID, Message } from "@/lib/types";

export interface PendingSend {
  clientMsgId: string;
  conversationId: ID;
  parentId: ID | null;
  body: string;
  /** Files sent with it (complete uploads, attached by the send). */
  attachments?: Attachment[];
  createdAt: string;
  state: "pending" | "failed";
  error?: string;
}

export interface MessageList {
  byId: Record<ID, Message>;
  ids: ID[];
  pending: PendingSend[];
}

export const emptyList = (): MessageList => ({ byId: {}, ids: [], pending: [] });

/** Orders two ids as numbers (they are decimal strings without leading zeros). */
export function cmpId(a: ID, b: ID): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Inserts id into the sorted ids, once. */
export function insertId(ids: ID[], id: ID): ID[] {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const c = cmpId(ids[mid]!, id);
    if (c === 0) return ids;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return [...ids.slice(0, lo), id, ...ids.slice(lo)];
}

/** Adds or replaces m; its pending send (same client_msg_id) is settled. */
export function upsert(l: MessageList, m: Message): MessageList {
  const prev = l.byId[m.id];
  let next = m;
  if (prev) {
    // Events carry no per-viewer `me`: keep what we knew, per emoji.
    next = { ...m, reactions: m.reactions.map((r) => ({ ...r, me: r.me ?? prev.reactions.find((p) => p.emoji === r.emoji)?.me })) };
    if (m.client_msg_id === undefined && prev.client_msg_id) next.client_msg_id = prev.client_msg_id;
  }
  const pending = m.client_msg_id ? l.pending.filter((p) => p.clientMsgId !== m.client_msg_id) : l.pending;
  return { byId: { ...l.byId, [m.id]: next }, ids: prev ? l.ids : insertId(l.ids, m.id), pending };
}

/** Replaces m only if the list holds it (an edit or delete of an unloaded message is ignored). */
export function replaceIfPresent(l: MessageList, m: Message): MessageList {
  return l.byId[m.id] ? upsert(l, m) : l;
}

/** Merges a page from the REST api (newest first or oldest first). */
export function mergePage(l: MessageList, items: Message[]): MessageList {
  let out = l;
  for (const m of items) out = upsert(out, m);
  return out;
}

export function updateMessage(l: MessageList, id: ID, fn: (m: Message) => Message): MessageList {
  const m = l.byId[id];
  if (!m) return l;
  return { ...l, byId: { ...l.byId, [id]: fn(m) } };
}

/**
 * Sets emoji's aggregated count on m (counts travel as totals, so applying
 * the same change twice is harmless). `me` changes only when the reactor is
 * the viewer.
 */
export function setReaction(m: Message, emoji: string, count: number, mine: boolean | undefined): Message {
  const i = m.reactions.findIndex((r) => r.emoji === emoji);
  const reactions = [...m.reactions];
  if (count <= 0) {
    if (i >= 0) reactions.splice(i, 1);
  } else if (i >= 0) {
    const r = reactions[i]!;
    reactions[i] = { ...r, count, me: mine === undefined ? r.me : mine };
  } else {
    reactions.push({ emoji, count, me: mine ?? false });
  }
  return { ...m, reactions };
}

export function addPending(l: MessageList, p: PendingSend): MessageList {
  if (l.pending.some((x) => x.clientMsgId === p.clientMsgId)) return l;
  return { ...l, pending: [...l.pending, p] };
}

export function setPending(l: MessageList, clientMsgId: string, patch: Partial<PendingSend>): MessageList {
  return { ...l, pending: l.pending.map((p) => (p.clientMsgId === clientMsgId ? { ...p, ...patch } : p)) };
}

/** True when a message with this client_msg_id is in the list (already confirmed). */
export function hasClientMsg(l: MessageList, clientMsgId: string): boolean {
  return l.ids.some((id) => l.byId[id]?.client_msg_id === clientMsgId);
}
