"use client";
import { useState } from "react";
import { useStore } from "zustand";
import type { ID, NotifyLevel } from "@/lib/types";
import { conversationStore } from "@/state/stores";
import { setArchived, setNotificationSettings } from "@/hooks/useNotifications";

const MUTES: { label: string; hours: number }[] = [
  { label: "Not muted", hours: 0 },
  { label: "1 hour", hours: 1 },
  { label: "8 hours", hours: 8 },
  { label: "1 day", hours: 24 },
  { label: "1 week", hours: 168 },
];

/** The person's settings of a conversation: notification level, mute, and (owner and admins of a channel or group) archiving. */
export function ConversationSettings({ conversationId, onClose }: { conversationId: ID; onClose: () => void }) {
  const conv = useStore(conversationStore, (s) => s.conversations[conversationId]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (!conv) return null;
  const level = conv.notify_level ?? "all";
  const mutedUntil = conv.muted_until && Date.parse(conv.muted_until) > Date.now() ? conv.muted_until : null;
  const run = async (fn: () => Promise<string | null>) => {
    setBusy(true);
    setError(await fn());
    setBusy(false);
  };
  const manager = conv.kind !== "dm" && (conv.role === "owner" || conv.role === "admin");
  return (
    <aside role="complementary" aria-label="Conversation settings" className="fixed inset-0 z-20 flex flex-col border-l border-slate-200 bg-white md:static md:z-auto md:w-80">
      <header className="flex items-center justify-between border-b border-slate-200 px-4 py-2">
        <h2 className="font-semibold">Settings</h2>
        <button type="button" aria-label="Close settings" onClick={onClose} className="rounded px-2 hover:bg-slate-100">
          ×
        </button>
      </header>
      <div className="flex flex-col gap-3 p-4 text-sm">
        <label className="flex flex-col gap-1">
          <span className="font-medium">Notify me about</span>
          <select aria-label="Notification level" value={level} disabled={busy} onChange={(e) => void run(() => setNotificationSettings(conversationId, e.target.value as NotifyLevel, mutedUntil))} className="rounded border border-slate-300 px-2 py-1">
            <option value="all">Mentions, direct messages and replies to my threads</option>
            <option value="mentions">Mentions and direct messages only</option>
            <option value="none">Nothing</option>
          </select>
        </label>
        <label className="flex flex-col gap-1">
          <span className="font-medium">Mute</span>
          <select
            aria-label="Mute"
            value={mutedUntil ? "until" : "0"}
            disabled={busy}
            onChange={(e) => {
              const hours = Number(e.target.value);
              const until = hours > 0 ? new Date(Date.now() + hours * 3600_000).toISOString() : null;
              void run(() => setNotificationSettings(conversationId, level, until));
            }}
            className="rounded border border-slate-300 px-2 py-1"
          >
            {mutedUntil && <option value="until">Muted until {new Date(mutedUntil).toLocaleString()}</option>}
            {MUTES.map((m) => (
              <option key={m.hours} value={String(m.hours)}>
                {m.hours === 0 ? m.label : `For ${m.label}`}
              </option>
            ))}
          </select>
        </label>
        {manager && (
          <button type="button" disabled={busy} onClick={() => void run(() => setArchived(conversationId, !conv.archived_at))} className="rounded border border-slate-300 px-2 py-1 hover:bg-slate-50 disabled:opacity-50">
            {conv.archived_at ? "Unarchive conversation" : "Archive conversation"}
          </button>
        )}
        {error && <p role="alert" className="text-xs text-red-700">{error}</p>}
      </div>
    </aside>
  );
}
