// personalStore: the signed-in person's own lists, which belong to no
// conversation: their call history across DMs, their saved messages and
// the people they block. Each list is read from the api when its screen
// opens (saved messages and blocks also when the session starts, so a
// message row knows whether it is saved, or its author blocked) and paged
// with the api's next_cursor; nothing here comes from the cable.
import { createStore } from "zustand/vanilla";
import type * as Api from "@/lib/api";
import type { Block, CallHistoryEntry, ID, Message, Page, SavedMessage, User } from "@/lib/types";

/** The slice of lib/api the store uses (injected, so the store runs in unit tests). */
export type PersonalApi = Pick<
  typeof Api,
  "recentCalls" | "listSaved" | "saveMessage" | "unsaveMessage" | "listBlocks" | "blockUser" | "unblockUser" | "errorText"
>;

/** One paged list: its rows, the cursor of the next page, and its state. */
export interface Paged<T> {
  items: T[];
  next: string | null;
  loaded: boolean;
  loading: boolean;
  error?: string;
}

export interface PersonalState {
  calls: Paged<CallHistoryEntry>;
  saved: Paged<SavedMessage>;
  /** Ids of the messages known to be saved. */
  savedIds: Record<ID, true>;
  blocks: Paged<Block>;
  /** Ids of the people blocked: their messages are collapsed. */
  blockedIds: Record<ID, true>;
}

export interface PersonalActions {
  reset(): void;
  /** Reads the newest page of the call history (again). */
  loadCalls(): Promise<void>;
  /** Appends the next older page, if there is one. */
  moreCalls(): Promise<void>;
  loadSaved(): Promise<void>;
  moreSaved(): Promise<void>;
  /** Saves the message, or unsaves it when saved; an error's text, or null. */
  toggleSave(m: Message): Promise<string | null>;
  loadBlocks(): Promise<void>;
  /** Blocks the person, or unblocks them when blocked; an error's text, or null. */
  toggleBlock(u: User): Promise<string | null>;
}

export type PersonalStore = PersonalState & PersonalActions;

const emptyPaged = <T>(): Paged<T> => ({ items: [], next: null, loaded: false, loading: false });
const initial = (): PersonalState => ({ calls: emptyPaged(), saved: emptyPaged(), savedIds: {}, blocks: emptyPaged(), blockedIds: {} });

type ListKey = "calls" | "saved" | "blocks";

export function createPersonalStore(api: PersonalApi) {
  return createStore<PersonalStore>()((set, get) => {
    /**
     * Loads a page of list key: the newest (replacing the list) or, when
     * older, the one after its cursor (appended, each row once).
     */
    const pageOf = async <T>(key: ListKey, fetch: (cursor?: string) => Promise<Page<T>>, keyOf: (x: T) => ID, older: boolean) => {
      const cur = get()[key] as unknown as Paged<T>;
      if (cur.loading || (older && !cur.next)) return;
      set({ [key]: { ...cur, loading: true } } as Partial<PersonalState>);
      try {
        const page = await fetch(older ? cur.next ?? undefined : undefined);
        const have = (get()[key] as unknown as Paged<T>).items;
        const items = older ? [...have, ...page.items.filter((x) => !have.some((h) => keyOf(h) === keyOf(x)))] : page.items;
        set({ [key]: { items, next: page.next_cursor, loaded: true, loading: false } } as Partial<PersonalState>);
      } catch (err) {
        set({ [key]: { ...(get()[key] as unknown as Paged<T>), loaded: true, loading: false, error: api.errorText(err) } } as Partial<PersonalState>);
      }
    };
    const loadSavedPage = async (older: boolean) => {
      await pageOf<SavedMessage>("saved", api.listSaved, (x) => x.message_id, older);
      set((s) => {
        const savedIds = { ...(older ? s.savedIds : {}) };
        for (const x of s.saved.items) savedIds[x.message_id] = true;
        return { savedIds };
      });
    };
    const loadBlocksPage = async () => {
      await pageOf<Block>("blocks", api.listBlocks, (x) => x.user_id, false);
      set((s) => ({ blockedIds: Object.fromEntries(s.blocks.items.map((b) => [b.user_id, true as const])) }));
    };
    return {
      ...initial(),
      reset: () => set(initial()),
      loadCalls: () => pageOf<CallHistoryEntry>("calls", api.recentCalls, (x) => x.id, false),
      moreCalls: () => pageOf<CallHistoryEntry>("calls", api.recentCalls, (x) => x.id, true),
      loadSaved: () => loadSavedPage(false),
      moreSaved: () => loadSavedPage(true),

      async toggleSave(m) {
        const saved = !!get().savedIds[m.id];
        try {
          if (saved) {
            await api.unsaveMessage(m.id);
            set((s) => {
              const savedIds = { ...s.savedIds };
              delete savedIds[m.id];
              return { savedIds, saved: { ...s.saved, items: s.saved.items.filter((x) => x.message_id !== m.id) } };
            });
          } else {
            const x = await api.saveMessage(m.id);
            set((s) => ({
              savedIds: { ...s.savedIds, [m.id]: true },
              saved: { ...s.saved, items: [x, ...s.saved.items.filter((y) => y.message_id !== m.id)] },
            }));
          }
          return null;
        } catch (err) {
          return api.errorText(err);
        }
      },

      loadBlocks: loadBlocksPage,

      async toggleBlock(u) {
        const blocked = !!get().blockedIds[u.id];
        try {
          if (blocked) {
            await api.unblockUser(u.id);
            set((s) => {
              const blockedIds = { ...s.blockedIds };
              delete blockedIds[u.id];
              return { blockedIds, blocks: { ...s.blocks, items: s.blocks.items.filter((b) => b.user_id !== u.id) } };
            });
          } else {
            const b = await api.blockUser(u.id);
            set((s) => ({
              blockedIds: { ...s.blockedIds, [u.id]: true },
              blocks: { ...s.blocks, items: [...s.blocks.items.filter((x) => x.user_id !== u.id), b] },
            }));
          }
          return null;
        } catch (err) {
          return api.errorText(err);
        }
      },
    };
  });
}
