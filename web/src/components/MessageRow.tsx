"use client";
import { useState } from "react";
import { useStore } from "zustand";
import type { ID, Mentions, Message, User } from "@/lib/types";
import { bodyParts } from "@/lib/mentions";
import type { PendingSend } from "@/state/messageList";
import { conversationStore, personalStore } from "@/state/stores";
import { Attachments } from "./Attachments";
import { Avatar, StatusText } from "./Avatar";
import { Dialog } from "./Dialogs";

export const EMOJIS = ["👍", "❤️", "😂", "🎉", "😮", "😢"];

const nameOf = (users: Record<ID, User>, id: ID | undefined) => {
  const u = id ? users[id] : undefined;
  return u ? u.display_name || u.username : "…";
};
const timeOf = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

function Header({ name, at, user }: { name: string; at: string; user?: User }) {
  return (
    <div className="flex items-baseline gap-2">
      <span className="font-semibold">{name}</span>
      <StatusText user={user} compact />
      <time dateTime={at} title={new Date(at).toLocaleString()} className="text-xs text-slate-500">
        {timeOf(at)}
      </time>
    </div>
  );
}

const actionBtn = "rounded px-1.5 py-0.5 text-xs text-slate-600 hover:bg-slate-200 focus:bg-slate-200";

/** One message (or its tombstone) with reactions, thread link and actions. */
export function MessageRow({ m, conversationId, users, me, inThread = false }: { m: Message; conversationId: ID; users: Record<ID, User>; me: ID | null; inThread?: boolean }) {
  const [picker, setPicker] = useState(false);
  const [editing, setEditing] = useState(false);
  const [confirm, setConfirm] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const pinned = useStore(conversationStore, (s) => !!s.pins[conversationId]?.some((p) => p.message_id === m.id));
  const saved = useStore(personalStore, (s) => !!s.savedIds[m.id]);
  const blocked = useStore(personalStore, (s) => !!m.user_id && !!s.blockedIds[m.user_id]);
  const [shown, setShown] = useState(false);
  const st = conversationStore.getState();
  if (m.deleted_at) {
    return (
      <article data-message-id={m.id} className="msg-row px-4 py-1 text-sm italic text-slate-400">
        <time dateTime={m.created_at} className="mr-2 text-xs not-italic">{timeOf(m.created_at)}</time>
        This message was deleted
        {!inThread && m.reply_count > 0 && <ThreadLink m={m} />}
      </article>
    );
  }
  if (blocked && !shown) {
    return (
      <article data-message-id={m.id} data-testid="blocked-message" className="msg-row flex items-center gap-2 px-4 py-1 text-sm italic text-slate-400">
        <time dateTime={m.created_at} className="text-xs not-italic">{timeOf(m.created_at)}</time>
        Message from someone you blocked
        <button type="button" onClick={() => setShown(true)} className="rounded px-1.5 text-xs not-italic text-indigo-700 hover:bg-slate-200">
          Show
        </button>
      </article>
    );
  }
  const own = m.user_id === me;
  const save = async (body: string) => {
    const err = await st.edit(m.id, body);
    if (err) setError(err);
    else setEditing(false);
  };
  const act = async (fn: () => Promise<string | null>) => setError(await fn());
  return (
    <article data-message-id={m.id} aria-label={`${nameOf(users, m.user_id)}: ${m.body ?? ""}`} className="msg-row group relative px-4 py-1 hover:bg-slate-50 focus-within:bg-slate-50">
      <div className="flex gap-2">
      <Avatar user={m.user_id ? users[m.user_id] : undefined} />
      <div className="min-w-0 flex-1">
      <Header name={nameOf(users, m.user_id)} at={m.created_at} user={m.user_id ? users[m.user_id] : undefined} />
      {(pinned || saved) && (
        <p className="flex gap-2 text-xs font-medium text-amber-700">
          {pinned && <span data-testid="pinned-badge">Pinned</span>}
          {saved && <span data-testid="saved-badge" className="text-indigo-700">Saved</span>}
        </p>
      )}
      {editing ? (
        <EditBox initial={m.body ?? ""} onSave={(b) => void save(b)} onCancel={() => setEditing(false)} />
      ) : (
        <p className="whitespace-pre-wrap break-words">
          <MessageBody body={m.body ?? ""} mentions={m.mentions} me={me} />
          {m.edited_at && <span className="ml-1 text-xs text-slate-500">(edited)</span>}
        </p>
      )}
      {m.attachments && m.attachments.length > 0 && <Attachments items={m.attachments} />}
      {error && <p role="alert" className="text-xs text-red-700">{error}</p>}
      {m.reactions.length > 0 && (
        <div className="mt-1 flex flex-wrap gap-1">
          {m.reactions.map((r) => (
            <button
              key={r.emoji}
              type="button"
              data-testid="reaction"
              data-emoji={r.emoji}
              aria-pressed={r.me === true}
              aria-label={`${r.emoji} ${r.count}${r.me ? ", you reacted" : ""}`}
              onClick={() => void st.react(conversationId, m.id, r.emoji)}
              className={`rounded-full border px-2 text-sm ${r.me ? "border-indigo-400 bg-indigo-50" : "border-slate-300 bg-white"}`}
            >
              {r.emoji} {r.count}
            </button>
          ))}
        </div>
      )}
      {!inThread && m.reply_count > 0 && <ThreadLink m={m} />}
      </div>
      </div>
      <div className="msg-actions absolute right-3 top-0 flex gap-1 rounded border border-slate-200 bg-white shadow-sm">
        <button type="button" className={actionBtn} aria-expanded={picker} onClick={() => setPicker(!picker)}>
          Add reaction
        </button>
        {!inThread && (
          <button type="button" className={actionBtn} onClick={() => void st.openThread(m.id)}>
            Reply in thread
          </button>
        )}
        <button type="button" className={actionBtn} onClick={() => void act(() => st.togglePin(conversationId, m.id))}>
          {pinned ? "Unpin message" : "Pin message"}
        </button>
        <button type="button" className={actionBtn} onClick={() => void act(() => personalStore.getState().toggleSave(m))}>
          {saved ? "Unsave message" : "Save message"}
        </button>
        {own && (
          <button type="button" className={actionBtn} onClick={() => setEditing(true)}>
            Edit message
          </button>
        )}
        {own && (
          <button type="button" className={actionBtn} onClick={() => setConfirm(true)}>
            Delete message
          </button>
        )}
      </div>
      {picker && (
        <div role="group" aria-label="Pick a reaction" className="absolute right-3 top-7 z-10 flex gap-1 rounded border border-slate-200 bg-white p-1 shadow" onKeyDown={(e) => e.key === "Escape" && setPicker(false)}>
          {EMOJIS.map((e) => (
            <button
              key={e}
              type="button"
              aria-label={e}
              className="rounded px-1 text-lg hover:bg-slate-100"
              onClick={() => {
                setPicker(false);
                void st.react(conversationId, m.id, e);
              }}
            >
              {e}
            </button>
          ))}
        </div>
      )}
      {confirm && (
        <Dialog title="Delete message?" onClose={() => setConfirm(false)}>
          <p className="mb-3 text-sm">It will show as deleted for everyone.</p>
          <div className="flex justify-end gap-2">
            <button type="button" onClick={() => setConfirm(false)} className="rounded border border-slate-300 px-3 py-1">Cancel</button>
            <button
              type="button"
              onClick={async () => {
                setConfirm(false);
                const err = await st.remove(m.id);
                if (err) setError(err);
              }}
              className="rounded bg-red-600 px-3 py-1 text-white"
            >
              Delete
            </button>
          </div>
        </Dialog>
      )}
    </article>
  );
}

function ThreadLink({ m }: { m: Message }) {
  return (
    <button type="button" onClick={() => void conversationStore.getState().openThread(m.id)} className="mt-1 block text-xs font-semibold text-indigo-700 hover:underline">
      {m.reply_count === 1 ? "1 reply" : `${m.reply_count} replies`}
    </button>
  );
}

function EditBox({ initial, onSave, onCancel }: { initial: string; onSave: (b: string) => void; onCancel: () => void }) {
  const [v, setV] = useState(initial);
  return (
    <textarea
      aria-label="Edit message"
      autoFocus
      value={v}
      rows={Math.min(6, v.split("\n").length)}
      onChange={(e) => setV(e.target.value)}
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.preventDefault();
          onCancel();
        } else if (e.key === "Enter" && !e.shiftKey) {
          e.preventDefault();
          if (v.trim()) onSave(v.trim());
        }
      }}
      className="mt-1 w-full rounded border border-indigo-400 px-2 py-1"
    />
  );
}

/** One of the person's own sends not confirmed yet: pending, or failed with Retry. */
export function PendingRow({ p, users, me, onRetry }: { p: PendingSend; users: Record<ID, User>; me: ID | null; onRetry: () => void }) {
  return (
    <article data-state={p.state} data-client-msg-id={p.clientMsgId} className={`px-4 py-1 ${p.state === "pending" ? "opacity-60" : ""}`}>
      <Header name={nameOf(users, me ?? undefined)} at={p.createdAt} />
      <p className="whitespace-pre-wrap break-words">{p.body}</p>
      {p.state === "failed" && (
        <p className="text-xs text-red-700">
          Not sent{p.error ? `: ${p.error}` : ""}.{" "}
          <button type="button" onClick={onRetry} className="font-semibold underline">
            Retry
          </button>
        </p>
      )}
    </article>
  );
}

/** A body with the mentions the api resolved highlighted (the reader's own more strongly). */
export function MessageBody({ body, mentions, me }: { body: string; mentions: Mentions | null | undefined; me: ID | null }) {
  return (
    <>
      {bodyParts(body, mentions, me).map((p, i) =>
        p.mention ? (
          <span key={i} data-testid="mention" data-me={p.mention === "me" ? "true" : "false"} className={`rounded px-0.5 font-medium ${p.mention === "me" ? "bg-amber-200 text-amber-900" : "bg-indigo-100 text-indigo-800"}`}>
            {p.text}
          </span>
        ) : (
          p.text
        ),
      )}
    </>
  );
}
