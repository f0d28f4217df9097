"use client";
import { useMemo } from "react";
import { useStore } from "zustand";
import type { ID } from "@/lib/types";
import { conversationStore } from "@/state/stores";
import { Composer } from "./Composer";
import { MessageRow, PendingRow } from "./MessageRow";

/** A thread: its root, its replies (oldest first), and a reply box. */
export function ThreadPanel({ conversationId, rootId }: { conversationId: ID; rootId: ID }) {
  const root = useStore(conversationStore, (s) => s.timelines[conversationId]?.byId[rootId]);
  const thread = useStore(conversationStore, (s) => s.threads[rootId]);
  const users = useStore(conversationStore, (s) => s.users);
  const me = useStore(conversationStore, (s) => s.me);
  const archived = useStore(conversationStore, (s) => !!s.conversations[conversationId]?.archived_at);
  const replies = useMemo(() => (thread ? thread.ids.map((i) => thread.byId[i]!) : []), [thread]);
  const st = conversationStore.getState();
  return (
    <aside role="complementary" aria-label="Thread" className="fixed inset-0 z-20 flex flex-col border-l border-slate-200 bg-white md:static md:z-auto md:w-96">
      <header className="flex items-center justify-between border-b border-slate-200 px-4 py-2">
        <h2 className="font-semibold">Thread</h2>
        <button type="button" aria-label="Close thread" onClick={() => void st.openThread(null)} className="rounded px-2 hover:bg-slate-100">
          ×
        </button>
      </header>
      {root && (
        <div className="border-b border-slate-100">
          <MessageRow m={root} conversationId={conversationId} users={users} me={me} inThread />
        </div>
      )}
      <div role="log" aria-label="Thread messages" className="min-h-0 flex-1 overflow-y-auto py-2">
        {!thread?.loaded && <p className="px-4 text-sm text-slate-500">Loading…</p>}
        {replies.map((m) => (
          <MessageRow key={m.id} m={m} conversationId={conversationId} users={users} me={me} inThread />
        ))}
        {thread?.pending.map((p) => (
          <PendingRow key={p.clientMsgId} p={p} users={users} me={me} onRetry={() => void st.retry(conversationId, p.clientMsgId, rootId)} />
        ))}
      </div>
      <Composer label="Reply" button="Send reply" onSend={(b, files) => void st.send(conversationId, b, rootId, files)} attach disabled={archived} />
    </aside>
  );
}
