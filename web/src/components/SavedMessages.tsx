"use client";
import Link from "next/link";
import { useEffect } from "react";
import { useStore } from "zustand";
import { useSavedMessages } from "@/hooks/usePersonal";
import { conversationTitle } from "@/state/conversationStore";
import { conversationStore } from "@/state/stores";

/** The person's saved messages, newest save first, each with where it was said. */
export function SavedMessages() {
  const saved = useSavedMessages();
  const conversations = useStore(conversationStore, (s) => s.conversations);
  const users = useStore(conversationStore, (s) => s.users);
  const me = useStore(conversationStore, (s) => s.me);
  useEffect(() => {
    conversationStore.getState().ensureUsers(saved.items.flatMap((x) => (x.message.user_id ? [x.message.user_id] : [])));
  }, [saved.items]);
  const name = (u: string | undefined) => (u && users[u] ? users[u]!.display_name || users[u]!.username : "…");
  return (
    <section aria-labelledby="saved-title" className="flex min-h-0 flex-1 flex-col">
      <header className="border-b border-slate-200 px-4 py-2">
        <h1 id="saved-title" className="text-lg font-semibold">Saved messages</h1>
      </header>
      <ul aria-label="Saved messages" className="min-h-0 flex-1 overflow-y-auto p-2">
        {saved.items.map((x) => {
          const conv = conversations[x.conversation_id];
          const where = conv ? conversationTitle(conv, users, me) : "a conversation";
          return (
            <li key={x.message_id}>
              <article data-testid="saved-message" aria-label={`${name(x.message.user_id)}: ${x.message.body ?? ""}`} className="border-b border-slate-100 px-2 py-2 text-sm">
                <p className="text-xs text-slate-500">
                  {name(x.message.user_id)} in {conv?.kind === "channel" ? "#" : ""}
                  {where} · <time dateTime={x.message.created_at}>{new Date(x.message.created_at).toLocaleString([], { dateStyle: "medium", timeStyle: "short" })}</time>
                </p>
                <p className="whitespace-pre-wrap break-words">{x.message.body}</p>
                <p className="mt-1 flex gap-2">
                  <Link href={`/c/${x.conversation_id}`} className="rounded border border-slate-300 px-2 py-0.5 text-xs hover:bg-slate-50">
                    Open conversation
                  </Link>
                  <button type="button" onClick={() => void saved.toggle(x.message)} className="rounded border border-slate-300 px-2 py-0.5 text-xs hover:bg-slate-50">
                    Remove from saved
                  </button>
                </p>
              </article>
            </li>
          );
        })}
        {saved.loaded && saved.items.length === 0 && !saved.error && <li className="p-2 text-sm text-slate-500">Nothing saved yet.</li>}
      </ul>
      {saved.error && <p role="alert" className="px-4 text-sm text-red-700">{saved.error}</p>}
      {saved.next && (
        <button type="button" disabled={saved.loading} onClick={() => void saved.more()} className="m-2 self-center rounded border border-slate-300 px-3 py-1 text-sm hover:bg-slate-50">
          Older saves
        </button>
      )}
    </section>
  );
}
