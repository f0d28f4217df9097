"use client";
import { useStore } from "zustand";
import type { ID } from "@/lib/types";
import { conversationStore } from "@/state/stores";

/** The conversation's pinned messages, newest pin first, each with Unpin. */
export function PinsPanel({ conversationId, onClose }: { conversationId: ID; onClose: () => void }) {
  const pins = useStore(conversationStore, (s) => s.pins[conversationId]);
  const users = useStore(conversationStore, (s) => s.users);
  const name = (u: ID | undefined) => (u && users[u] ? users[u]!.display_name || users[u]!.username : "…");
  return (
    <aside role="complementary" aria-label="Pinned messages" className="fixed inset-0 z-20 flex flex-col border-l border-slate-200 bg-white md:static md:z-auto md:w-80">
      <header className="flex items-center justify-between border-b border-slate-200 px-4 py-2">
        <h2 className="font-semibold">Pinned{pins ? ` (${pins.length})` : ""}</h2>
        <button type="button" aria-label="Close pinned messages" onClick={onClose} className="rounded px-2 hover:bg-slate-100">
          ×
        </button>
      </header>
      <ul className="min-h-0 flex-1 overflow-y-auto p-2">
        {!pins && <li className="text-sm text-slate-500">Loading…</li>}
        {pins?.length === 0 && <li className="text-sm text-slate-500">Nothing is pinned here.</li>}
        {pins?.map((p) => (
          <li key={p.message_id}>
            <article data-testid="pinned-message" aria-label={`${name(p.message?.user_id)}: ${p.message?.body ?? ""}`} className="border-b border-slate-100 px-2 py-2 text-sm">
              <p className="font-semibold">{name(p.message?.user_id)}</p>
              <p className="whitespace-pre-wrap break-words">{p.message?.body}</p>
              <p className="mt-1 flex items-center justify-between text-xs text-slate-500">
                <span>Pinned by {name(p.pinned_by)}</span>
                <button type="button" onClick={() => void conversationStore.getState().togglePin(conversationId, p.message_id)} className="rounded border border-slate-300 px-2 py-0.5 hover:bg-slate-50">
                  Unpin
                </button>
              </p>
            </article>
          </li>
        ))}
      </ul>
    </aside>
  );
}
