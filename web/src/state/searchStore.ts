// searchStore: the message search screen's state. A search reads the first
// page of hits for a query (optionally within one conversation); "more"
// appends the next page by the api's next_cursor. A result that comes back
// after a newer search started is dropped, so typing fast never shows the
// hits of an older query.
import { createStore } from "zustand/vanilla";
import type * as Api from "@/lib/api";
import type { ID, SearchHit } from "@/lib/types";

/** The slice of lib/api the store uses (injected, so the store runs in unit tests). */
export type SearchApi = Pick<typeof Api, "searchMessages" | "errorText">;

export interface SearchState {
  query: string;
  conversationId: ID | null;
  hits: SearchHit[];
  next: string | null;
  /** A search has answered (the hits are its answer, possibly none). */
  searched: boolean;
  loading: boolean;
  error: string | null;
}

export interface SearchActions {
  reset(): void;
  search(query: string, conversationId: ID | null): Promise<void>;
  more(): Promise<void>;
}

export type SearchStore = SearchState & SearchActions;

const initial = (): SearchState => ({ query: "", conversationId: null, hits: [], next: null, searched: false, loading: false, error: null });

export function createSearchStore(api: SearchApi) {
  return createStore<SearchStore>()((set, get) => {
    let generation = 0;
    const run = async (older: boolean) => {
      const { query, conversationId, next } = get();
      const mine = older ? generation : ++generation;
      set({ loading: true, error: null });
      try {
        const page = await api.searchMessages(query, { conversationId: conversationId ?? undefined, cursor: older ? next ?? undefined : undefined });
        if (mine !== generation) return;
        set((s) => ({
          hits: older ? [...s.hits, ...page.items.filter((h) => !s.hits.some((x) => x.message_id === h.message_id))] : page.items,
          next: page.next_cursor,
          searched: true,
          loading: false,
        }));
      } catch (err) {
        if (mine !== generation) return;
        set({ loading: false, searched: true, error: api.errorText(err) });
      }
    };
    return {
      ...initial(),
      reset: () => {
        generation++;
        set(initial());
      },
      async search(query, conversationId) {
        const q = query.trim();
        if (!q) {
          generation++;
          set({ ...initial(), conversationId });
          return;
        }
        set({ query: q, conversationId, hits: [], next: null, searched: false });
        await run(false);
      },
      async more() {
        const s = get();
        if (s.loading || !s.next) return;
        await run(true);
      },
    };
  });
}
