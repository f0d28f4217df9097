"use client";
import Link from "next/link";
import { useParams } from "next/navigation";
import { useMemo, useState } from "react";
import { useStore } from "zustand";
import type { Conversation, Kind } from "@/lib/types";
import { conversationStore } from "@/state/stores";
import { conversationTitle, dmPeer, sortedConversations } from "@/state/conversationStore";
import { usePresence } from "@/hooks/usePresence";
import { BrowseChannelsDialog, CreateConversationDialog, NewDirectMessageDialog } from "./Dialogs";

const SECTIONS: { kind: Kind; title: string }[] = [
  { kind: "channel", title: "Channels" },
  { kind: "group", title: "Groups" },
  { kind: "dm", title: "Direct messages" },
];

type DialogKind = "channel" | "group" | "dm" | "browse" | null;

export function Sidebar() {
  const conversations = useStore(conversationStore, (s) => s.conversations);
  const listLoaded = useStore(conversationStore, (s) => s.listLoaded);
  const sorted = useMemo(() => sortedConversations(conversations), [conversations]);
  const [dialog, setDialog] = useState<DialogKind>(null);
  const btn = "rounded border border-slate-300 bg-white px-2 py-1 text-xs hover:bg-slate-50";
  return (
    <nav aria-label="Conversations" className="flex min-h-0 flex-1 flex-col overflow-y-auto px-2 py-2">
      <div className="mb-2 flex flex-wrap gap-1">
        <button type="button" className={btn} onClick={() => setDialog("channel")}>New channel</button>
        <button type="button" className={btn} onClick={() => setDialog("group")}>New group</button>
        <button type="button" className={btn} onClick={() => setDialog("dm")}>New direct message</button>
        <button type="button" className={btn} onClick={() => setDialog("browse")}>Browse channels</button>
      </div>
      {!listLoaded && <p className="px-2 text-sm text-slate-500">Loading…</p>}
      {SECTIONS.map(({ kind, title }) => {
        const items = sorted.filter((c) => c.kind === kind);
        return (
          <section key={kind} className="mb-3" aria-labelledby={`section-${kind}`}>
            <h2 id={`section-${kind}`} className="px-2 pb-1 text-xs font-semibold uppercase tracking-wide text-slate-500">
              {title}
            </h2>
            <ul>
              {items.map((c) => (
                <li key={c.id}>
                  <ConversationLink c={c} />
                </li>
              ))}
              {items.length === 0 && listLoaded && <li className="px-2 text-xs text-slate-400">None yet</li>}
            </ul>
          </section>
        );
      })}
      {(dialog === "channel" || dialog === "group") && <CreateConversationDialog kind={dialog} onClose={() => setDialog(null)} />}
      {dialog === "dm" && <NewDirectMessageDialog onClose={() => setDialog(null)} />}
      {dialog === "browse" && <BrowseChannelsDialog onClose={() => setDialog(null)} />}
    </nav>
  );
}

function ConversationLink({ c }: { c: Conversation }) {
  const params = useParams<{ id?: string }>();
  const users = useStore(conversationStore, (s) => s.users);
  const me = useStore(conversationStore, (s) => s.me);
  const title = conversationTitle(c, users, me);
  const active = params.id === c.id;
  const unread = c.unread_count ?? 0;
  const mentions = c.mention_count ?? 0;
  return (
    <Link
      href={`/c/${c.id}`}
      aria-current={active ? "page" : undefined}
      className={`flex items-center gap-2 rounded px-2 py-1 text-sm ${active ? "bg-indigo-100 font-semibold text-indigo-900" : "hover:bg-slate-200"} ${unread && !active ? "font-semibold" : ""}`}
    >
      {c.kind === "channel" && <span aria-hidden="true" className="text-slate-400">#</span>}
      <span className="min-w-0 flex-1 truncate">{title}</span>
      {c.kind === "dm" && <PresenceDot userId={dmPeer(c, me)} />}
      {mentions > 0 && (
        <span data-testid="mention-count" aria-label={`${mentions} mention${mentions === 1 ? "" : "s"}`} className="rounded-full bg-amber-500 px-2 text-xs font-semibold text-white">
          @{mentions}
        </span>
      )}
      {c.archived_at && <span className="text-xs text-slate-400" title="Archived">archived</span>}
      {unread > 0 && (
        <span data-testid="unread-count" aria-label={`${unread} unread`} className="rounded-full bg-indigo-600 px-2 text-xs font-semibold text-white">
          {unread}
        </span>
      )}
    </Link>
  );
}

export function PresenceDot({ userId }: { userId: string | undefined }) {
  const online = usePresence(userId);
  return (
    <span
      data-testid="presence"
      data-online={online ? "true" : "false"}
      title={online ? "Online" : "Offline"}
      className={`inline-block h-2.5 w-2.5 shrink-0 rounded-full ${online ? "bg-green-500" : "border border-slate-400 bg-transparent"}`}
    >
      <span className="sr-only">{online ? "(online)" : "(offline)"}</span>
    </span>
  );
}
