"use client";
import { useRouter } from "next/navigation";
import { useCallback, useEffect, useMemo, useState } from "react";
import { useStore } from "zustand";
import { useConversation } from "@/hooks/useConversation";
import { useCall } from "@/hooks/useCall";
import type { Call, ID, Message } from "@/lib/types";
import type { PendingSend } from "@/state/messageList";
import { cmpId } from "@/state/messageList";
import { conversationStore } from "@/state/stores";
import { dmPeer } from "@/state/conversationStore";
import { PresenceDot } from "./Sidebar";
import { VirtualList, type VRow } from "./VirtualList";
import { MessageRow, PendingRow } from "./MessageRow";
import { Composer } from "./Composer";
import { ThreadPanel } from "./ThreadPanel";
import { MembersPanel } from "./MembersPanel";
import { PinsPanel } from "./PinsPanel";
import { ConversationSettings } from "./ConversationSettings";
import { duration } from "./CallHistory";

type Row =
  | (VRow & { t: "day"; label: string })
  | (VRow & { t: "msg"; m: Message })
  | (VRow & { t: "call"; c: Call })
  | (VRow & { t: "pending"; p: PendingSend });

const dayOf = (iso: string) => new Date(iso).toDateString();
const dayLabel = (iso: string) => {
  const d = new Date(iso);
  const today = new Date();
  const y = new Date(today.getTime() - 86400000);
  if (d.toDateString() === today.toDateString()) return "Today";
  if (d.toDateString() === y.toDateString()) return "Yesterday";
  return d.toLocaleDateString(undefined, { weekday: "long", year: "numeric", month: "long", day: "numeric" });
};

/** A message to show when the conversation opens (a search hit), and its thread's root for a reply. */
export interface Focus {
  message: ID;
  thread: ID | null;
}

export function ConversationView({ id, focus = null }: { id: ID; focus?: Focus | null }) {
  const c = useConversation(id);
  useFocus(focus);
  const router = useRouter();
  const call = useCall();
  const openThreadId = useStore(conversationStore, (s) => s.openThreadId);
  const [panel, setPanel] = useState<"members" | "pins" | "settings" | null>(null);
  const [atBottom, setAtBottom] = useState(true);
  const tl = c.timeline;

  const rows = useMemo<Row[]>(() => {
    if (!tl) return [];
    const calls = Object.values(tl.calls).filter((x) => x.status === "ended" || x.status === "declined" || x.status === "missed");
    const keys: { id: ID; at: string; row: Row }[] = [];
    for (const mid of tl.ids) {
      const m = tl.byId[mid]!;
      keys.push({ id: mid, at: m.created_at, row: { key: `m${mid}`, estimate: 64, t: "msg", m } });
    }
    const oldest = tl.ids[0];
    for (const x of calls) {
      // Calls older than the oldest loaded message wait until that page is loaded.
      if (oldest && tl.olderCursor && cmpId(x.id, oldest) < 0) continue;
      keys.push({ id: x.id, at: x.created_at, row: { key: `c${x.id}`, estimate: 40, t: "call", c: x } });
    }
    keys.sort((a, b) => cmpId(a.id, b.id));
    const out: Row[] = [];
    let day = "";
    for (const k of keys) {
      const d = dayOf(k.at);
      if (d !== day) {
        day = d;
        out.push({ key: `d${d}`, estimate: 32, anchor: false, t: "day", label: dayLabel(k.at) });
      }
      out.push(k.row);
    }
    for (const p of tl.pending) out.push({ key: `p${p.clientMsgId}`, estimate: 64, t: "pending", p });
    return out;
  }, [tl]);

  // Read markers follow the reader: at the newest row, with the page visible.
  const newest = tl?.ids[tl.ids.length - 1];
  const { markRead } = c;
  useEffect(() => {
    if (!atBottom || !newest) return;
    const mark = () => document.visibilityState === "visible" && void markRead();
    mark();
    document.addEventListener("visibilitychange", mark);
    window.addEventListener("focus", mark);
    return () => {
      document.removeEventListener("visibilitychange", mark);
      window.removeEventListener("focus", mark);
    };
  }, [atBottom, newest, markRead]);

  const { loadOlder } = c;
  const onNearTop = useCallback(() => void loadOlder(), [loadOlder]);

  if (!c.conversation) {
    return <p className="p-6 text-slate-500">{c.listLoaded ? "This conversation is not in your list." : "Loading…"}</p>;
  }
  const conv = c.conversation;
  const peer = dmPeer(conv, c.me);
  const callBusy = call.phase !== "idle" && !["ended", "declined", "missed", "failed"].includes(call.phase);

  const leave = async () => {
    const err = await c.leave();
    if (!err) router.push("/");
    else alert(err);
  };

  const renderRow = (r: Row) => {
    switch (r.t) {
      case "day":
        return (
          <div role="separator" aria-label={r.label} className="my-2 flex items-center gap-2 px-4 text-xs font-semibold text-slate-500">
            <span className="h-px flex-1 bg-slate-200" />
            {r.label}
            <span className="h-px flex-1 bg-slate-200" />
          </div>
        );
      case "msg":
        return <MessageRow m={r.m} conversationId={id} users={c.users} me={c.me} />;
      case "call":
        return <CallRow c={r.c} me={c.me} />;
      case "pending":
        return <PendingRow p={r.p} users={c.users} me={c.me} onRetry={() => void c.retry(r.p.clientMsgId)} />;
    }
  };

  return (
    <div className="flex min-h-0 flex-1">
      <section className="flex min-h-0 min-w-0 flex-1 flex-col" aria-label={c.title}>
        <header className="flex flex-wrap items-center gap-2 border-b border-slate-200 px-4 py-2">
          <h1 className="min-w-0 flex-1 truncate text-lg font-semibold">
            {conv.kind === "channel" ? "# " : ""}
            {c.title}
          </h1>
          {conv.kind === "dm" && <PresenceDot userId={peer} />}
          {conv.kind === "dm" && (
            <>
              <button type="button" disabled={callBusy} onClick={() => void call.start(id, "audio")} className="rounded border border-slate-300 px-2 py-1 text-sm hover:bg-slate-50 disabled:opacity-50">
                Start voice call
              </button>
              <button type="button" disabled={callBusy} onClick={() => void call.start(id, "video")} className="rounded border border-slate-300 px-2 py-1 text-sm hover:bg-slate-50 disabled:opacity-50">
                Start video call
              </button>
            </>
          )}
          <button type="button" aria-expanded={panel === "pins"} onClick={() => setPanel(panel === "pins" ? null : "pins")} className="rounded border border-slate-300 px-2 py-1 text-sm hover:bg-slate-50">
            Pinned
          </button>
          <button type="button" aria-expanded={panel === "members"} onClick={() => setPanel(panel === "members" ? null : "members")} className="rounded border border-slate-300 px-2 py-1 text-sm hover:bg-slate-50">
            Members
          </button>
          <button type="button" aria-expanded={panel === "settings"} onClick={() => setPanel(panel === "settings" ? null : "settings")} className="rounded border border-slate-300 px-2 py-1 text-sm hover:bg-slate-50">
            Settings
          </button>
          {conv.kind !== "dm" && (
            <button type="button" onClick={() => void leave()} className="rounded border border-slate-300 px-2 py-1 text-sm hover:bg-slate-50">
              Leave conversation
            </button>
          )}
        </header>
        {conv.archived_at && (
          <p role="status" data-testid="archived-banner" className="border-b border-amber-200 bg-amber-50 px-4 py-2 text-sm text-amber-900">
            This conversation was archived on {new Date(conv.archived_at).toLocaleDateString()}: it is read-only.
          </p>
        )}
        {tl?.error && !tl.loaded && <p role="alert" className="p-4 text-red-700">{tl.error}</p>}
        {tl?.loadingOlder && <p className="px-4 py-1 text-center text-xs text-slate-500">Loading older messages…</p>}
        <VirtualList rows={rows} render={renderRow} label="Messages" className="min-h-0 flex-1 py-2" onNearTop={onNearTop} onBottom={setAtBottom} />
        <p role="status" data-testid="typing" className="h-5 px-4 text-xs italic text-slate-500">
          {typingText(c.typingNames)}
        </p>
        <Composer label="Message" button="Send" onSend={(b, files) => void c.send(b, undefined, files)} attach onTyping={c.sendTyping} placeholder={`Message ${c.title}`} disabled={!!conv.archived_at} />
      </section>
      {openThreadId && <ThreadPanel conversationId={id} rootId={openThreadId} />}
      {panel === "members" && !openThreadId && <MembersPanel conversationId={id} onClose={() => setPanel(null)} />}
      {panel === "pins" && !openThreadId && <PinsPanel conversationId={id} onClose={() => setPanel(null)} />}
      {panel === "settings" && !openThreadId && <ConversationSettings conversationId={id} onClose={() => setPanel(null)} />}
    </div>
  );
}

function typingText(names: string[]): string {
  if (names.length === 0) return "";
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return "Several people are typing…";
}

function CallRow({ c, me }: { c: Call; me: ID | null }) {
  const kind = c.media === "video" ? "Video call" : "Voice call";
  let text = `${kind} ended`;
  if (c.status === "declined") text = `${kind} declined`;
  if (c.status === "missed") text = c.callee_id === me ? `You missed a ${kind.toLowerCase()}` : `${kind} missed`;
  if (c.status === "ended" && c.accepted_at && c.ended_at) {
    text += ` · ${duration(Math.max(0, Math.round((Date.parse(c.ended_at) - Date.parse(c.accepted_at)) / 1000)))}`;
  }
  const at = c.ended_at ?? c.declined_at ?? c.missed_at ?? c.created_at;
  return (
    <div data-testid="call-event" data-status={c.status} className="px-4 py-1 text-sm text-slate-600">
      <span aria-hidden="true">📞 </span>
      {text} <time dateTime={at} className="text-xs text-slate-400">{new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}</time>
    </div>
  );
}

/**
 * useFocus shows focus's message once it is on the page: its thread opened
 * for a reply, the row outlined and scrolled into view. The newest page is
 * what a conversation opens on, so an older message is only outlined once
 * it is loaded; the search hit itself showed its text.
 */
function useFocus(focus: Focus | null) {
  useEffect(() => {
    if (!focus) return;
    if (focus.thread) void conversationStore.getState().openThread(focus.thread);
    let tries = 0;
    const t = setInterval(() => {
      const el = document.querySelector<HTMLElement>(`[data-message-id="${CSS.escape(focus.message)}"]`);
      if (el) {
        el.dataset.highlighted = "true";
        el.style.outline = "2px solid #facc15";
        el.scrollIntoView({ block: "center" });
      }
      if (el || ++tries > 50) clearInterval(t);
    }, 100);
    return () => clearInterval(t);
  }, [focus]);
}
