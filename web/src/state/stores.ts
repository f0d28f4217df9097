// The app's store instances, wired to the real api client. Tests build their
// own with createConversationStore / createCallStore.
import * as api from "@/lib/api";
import { createConversationStore } from "./conversationStore";
import { createCallStore } from "./callStore";

export { authStore } from "./authStore";
export const conversationStore = createConversationStore(api);
export const callStore = createCallStore();
