// notificationStore: this session's notifications (notification.created on
// the person's own topic, api/mention): the bell's list, newest first, each
// once by id (an event may arrive twice), and how many arrived since the
// list was last opened. Showing one outside the page (the browser's
// Notification API, when the person allowed it) is the injected show.
import { createStore } from "zustand/vanilla";
import type { AppNotification } from "@/lib/types";

/** The bell keeps this many, newest first. */
export const MAX_NOTIFICATIONS = 50;

export interface NotificationState {
  items: AppNotification[];
  /** Arrived since the list was last opened. */
  unseen: number;
}

export interface NotificationActions {
  reset(): void;
  /** Adds n unless it is there already; true when it was new. */
  add(n: AppNotification): boolean;
  /** The list was opened: nothing is unseen. */
  seen(): void;
}

export type NotificationStore = NotificationState & NotificationActions;

export function createNotificationStore() {
  return createStore<NotificationStore>()((set, get) => ({
    items: [],
    unseen: 0,
    reset: () => set({ items: [], unseen: 0 }),
    add(n) {
      if (get().items.some((x) => x.id === n.id)) return false;
      set((s) => ({ items: [n, ...s.items].slice(0, MAX_NOTIFICATIONS), unseen: s.unseen + 1 }));
      return true;
    },
    seen: () => set({ unseen: 0 }),
  }));
}
