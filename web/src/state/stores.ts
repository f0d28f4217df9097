// The app's store instances, wired to the real api client. Tests build their
// own with createConversationStore / createCallStore.
import * as api from "@/lib/api";
import { createConversationStore } from "./conversationStore";
import { createCallStore } from "./callStore";
import { createPersonalStore } from "./personalStore";
import { createSearchStore } from "./searchStore";
import { createNotificationStore } from "./notificationStore";

export { authStore } from "./authStore";
export const conversationStore = createConversationStore(api);
export const callStore = createCallStore();
export const personalStore = createPersonalStore(api);
export const searchStore = createSearchStore(api);
export const notificationStore = createNotificationStore();
