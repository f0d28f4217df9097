"use client";
import Link from "next/link";
import { useEffect, useState } from "react";
import { useStore } from "zustand";
import type { SnippetSegment } from "@/lib/types";
import { conversationTitle } from "@/state/conversationStore";
import { conversationStore, searchStore } from "@/state/stores";

/**
 * Message search: a query over the person's own conversations (all, or
 * one), best match first; each hit shows its snippet with the matched
 * words marked (rendered as text, never as HTML) and leads to the message
 * in its conversation.
 */
export function SearchPanel() {
  const s = useStore(searchStore);
  const conversations = useStore(conversationStore, (x) => x.conversations);
  const users = useStore(conversationStore, (x) => x.users);
  const me = useStore(conversationStore, (x) => x.me);
  const [query, setQuery] = useState(s.query);
  const [where, setWhere] = useState(s.conversationId ?? "");
  useEffect(() => {
    conversationStore.getState().ensureUsers(s.hits.flatMap((h) => (h.message.user_id ? [h.message.user_id] : [])));
  }, [s.hits]);
  const name = (u: string | undefined) => (u && users[u] ? users[u]!.display_name || users[u]!.username : "…");
  const titleOf = (id: string) => {
    const c = conversations[id];
    return c ? (c.kind === "channel" ? "#" : "") + conversationTitle(c, users, me) : "a conversation";
  };
  const mine = Object.values(conversations).sort((a, b) => titleOf(a.id).localeCompare(titleOf(b.id)));
  return (
    <section aria-labelledby="search-title" className="flex min-h-0 flex-1 flex-col">
      <header className="border-b border-slate-200 px-4 py-2">
        <h1 id="search-title" className="text-lg font-semibold">Search messages</h1>
        <form
          role="search"
          className="mt-2 flex flex-wrap gap-2"
          onSubmit={(e) => {
            e.preventDefault();
            void searchStore.getState().search(query, where || null);
          }}
        >
          <input
            type="search"
            aria-label="Search messages"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            maxLength={500}
            placeholder='words, "a phrase", pre*, -leave out'
            className="min-w-0 flex-1 rounded border border-slate-300 px-2 py-1 text-sm"
          />
          <select aria-label="In" value={where} onChange={(e) => setWhere(e.target.value)} className="rounded border border-slate-300 px-2 py-1 text-sm">
            <option value="">All my conversations</option>
            {mine.map((c) => (
              <option key={c.id} value={c.id}>
                {titleOf(c.id)}
              </option>
            ))}
          </select>
          <button type="submit" className="rounded bg-indigo-600 px-3 py-1 text-sm text-white hover:bg-indigo-700">
            Search
          </button>
        </form>
      </header>
      <ul aria-label="Search results" aria-busy={s.loading} className="min-h-0 flex-1 overflow-y-auto p-2">
        {s.hits.map((h) => (
          <li key={h.message_id}>
            <article data-testid="search-hit" className="border-b border-slate-100 px-2 py-2 text-sm">
              <p className="text-xs text-slate-500">
                {name(h.message.user_id)} in {titleOf(h.conversation_id)} ·{" "}
                <time dateTime={h.message.created_at}>{new Date(h.message.created_at).toLocaleString([], { dateStyle: "medium", timeStyle: "short" })}</time>
              </p>
              <p className="whitespace-pre-wrap break-words">
                <Snippet segments={h.snippet} />
              </p>
              <p className="mt-1">
                <Link
                  href={`/c/${h.conversation_id}?message=${h.message_id}${h.message.parent_id ? `&thread=${h.message.parent_id}` : ""}`}
                  className="rounded border border-slate-300 px-2 py-0.5 text-xs hover:bg-slate-50"
                >
                  Open in conversation
                </Link>
              </p>
            </article>
          </li>
        ))}
        {s.searched && !s.loading && s.hits.length === 0 && !s.error && <li className="p-2 text-sm text-slate-500">No messages found.</li>}
      </ul>
      {s.error && <p role="alert" className="px-4 text-sm text-red-700">{s.error}</p>}
      {s.next && (
        <button type="button" disabled={s.loading} onClick={() => void searchStore.getState().more()} className="m-2 self-center rounded border border-slate-300 px-3 py-1 text-sm hover:bg-slate-50">
          More results
        </button>
      )}
    </section>
  );
}

/** A snippet: its text, the matched words in <mark>. */
function Snippet({ segments }: { segments: SnippetSegment[] }) {
  return (
    <>
      {segments.map((g, i) =>
        g.match ? (
          <mark key={i} className="rounded bg-yellow-200 px-0.5">
            {g.text}
          </mark>
        ) : (
          <span key={i}>{g.text}</span>
        ),
      )}
    </>
  );
}
