// Pinned messages of a conversation, newest pin first, as conversationStore
// keeps them. Every function returns a new list and is idempotent: a pin
// event applied twice, or one the list already reflects, changes nothing.
import type { ID, Message, Pin } from "@/lib/types";
import { cmpId } from "./messageList";

/** Adds pin (with its message) unless the message is pinned already. */
export function addPin(pins: Pin[], pin: Pin): Pin[] {
  if (pins.some((p) => p.message_id === pin.message_id)) return pins;
  return [...pins, pin].sort((a, b) => (a.pinned_at === b.pinned_at ? cmpId(b.message_id, a.message_id) : a.pinned_at < b.pinned_at ? 1 : -1));
}

/** Drops the pin of messageId. */
export function dropPin(pins: Pin[], messageId: ID): Pin[] {
  return pins.some((p) => p.message_id === messageId) ? pins.filter((p) => p.message_id !== messageId) : pins;
}

/** Follows an edit or deletion of a pinned message (a deleted one is no longer listed, as the api does). */
export function pinnedMessageChanged(pins: Pin[], m: Message): Pin[] {
  if (!pins.some((p) => p.message_id === m.id)) return pins;
  if (m.deleted_at) return dropPin(pins, m.id);
  return pins.map((p) => (p.message_id === m.id ? { ...p, message: m } : p));
}
