"use client";
// Notifications: notification.created events of the person's own topic go
// to notificationStore (the bell) and, when the person allowed it and is
// not already looking at that conversation, to the browser's Notification
// API. The settings of a conversation (level, mute, archive) are changed
// here too, each answered with an error's text or null.
import { useStore } from "zustand";
import * as api from "@/lib/api";
import type { AppNotification, ID, NotifyLevel } from "@/lib/types";
import { conversationStore, notificationStore } from "@/state/stores";
import { conversationTitle } from "@/state/conversationStore";

const REASON_TEXT: Record<AppNotification["reason"], string> = {
  mention: "mentioned you",
  dm: "sent you a message",
  reply: "replied to your thread",
  channel: "notified @channel",
  here: "notified @here",
};

/** The line a notification reads as: who, why, where. */
export function notificationTitle(n: AppNotification): string {
  const s = conversationStore.getState();
  const author = n.message.user_id ? s.users[n.message.user_id] : undefined;
  const who = author ? author.display_name || author.username : "Someone";
  const conv = s.conversations[n.conversation_id];
  const where = conv && conv.kind !== "dm" ? ` in ${conv.kind === "channel" ? "#" : ""}${conversationTitle(conv, s.users, s.me)}` : "";
  return `${who} ${REASON_TEXT[n.reason]}${where}`;
}

/** Whether the browser may show notifications, may ask, or cannot. */
export function browserPermission(): NotificationPermission | "unsupported" {
  return typeof Notification === "undefined" ? "unsupported" : Notification.permission;
}

export function notificationArrived(n: AppNotification): void {
  if (n.message.user_id) conversationStore.getState().ensureUsers([n.message.user_id]);
  if (!notificationStore.getState().add(n)) return;
  const looking = conversationStore.getState().activeId === n.conversation_id && document.visibilityState === "visible";
  if (browserPermission() !== "granted" || looking) return;
  try {
    const shown = new Notification(notificationTitle(n), { body: n.message.body ?? "", tag: n.id });
    shown.onclick = () => {
      window.focus();
      window.location.assign(`/c/${n.conversation_id}`);
    };
  } catch {
    // Some browsers only show notifications from a service worker: the bell has it.
  }
}

export function useNotifications() {
  const items = useStore(notificationStore, (s) => s.items);
  const unseen = useStore(notificationStore, (s) => s.unseen);
  return { items, unseen, seen: () => notificationStore.getState().seen() };
}

/** Sets the person's level and mute in a conversation. */
export async function setNotificationSettings(id: ID, level: NotifyLevel, mutedUntil: string | null): Promise<string | null> {
  try {
    const r = await api.setNotifications(id, level, mutedUntil);
    const c = conversationStore.getState().conversations[id];
    if (c) conversationStore.getState().merge({ ...c, notify_level: r.level, muted_until: r.muted_until });
    return null;
  } catch (err) {
    return api.errorText(err);
  }
}

/** Archives (on) or unarchives a channel or group. */
export async function setArchived(id: ID, on: boolean): Promise<string | null> {
  try {
    conversationStore.getState().merge(on ? await api.archiveConversation(id) : await api.unarchiveConversation(id));
    return null;
  } catch (err) {
    return api.errorText(err);
  }
}
