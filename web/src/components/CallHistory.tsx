"use client";
import Link from "next/link";
import { useCallHistory } from "@/hooks/usePersonal";
import type { CallHistoryEntry } from "@/lib/types";

/** The person's calls across every DM, newest first: who, which way, how it went, how long. */
export function CallHistory() {
  const h = useCallHistory();
  return (
    <section aria-labelledby="calls-title" className="flex min-h-0 flex-1 flex-col">
      <header className="border-b border-slate-200 px-4 py-2">
        <h1 id="calls-title" className="text-lg font-semibold">Call history</h1>
      </header>
      <ul aria-label="Calls" className="min-h-0 flex-1 overflow-y-auto p-2">
        {h.items.map((c) => (
          <li key={c.id}>
            <Entry c={c} />
          </li>
        ))}
        {h.loaded && h.items.length === 0 && !h.error && <li className="p-2 text-sm text-slate-500">No calls yet.</li>}
        {!h.loaded && <li className="p-2 text-sm text-slate-500">Loading…</li>}
      </ul>
      {h.error && <p role="alert" className="px-4 text-sm text-red-700">{h.error}</p>}
      {h.next && (
        <button type="button" disabled={h.loading} onClick={() => void h.more()} className="m-2 self-center rounded border border-slate-300 px-3 py-1 text-sm hover:bg-slate-50">
          Older calls
        </button>
      )}
    </section>
  );
}

const OUTCOME: Record<CallHistoryEntry["status"], string> = {
  calling: "Calling", ringing: "Ringing", active: "In progress", ended: "Ended", declined: "Declined", missed: "Missed",
};

export function duration(s: number): string {
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function Entry({ c }: { c: CallHistoryEntry }) {
  const who = c.peer.display_name || c.peer.username;
  const way = c.direction === "outgoing" ? "Outgoing" : "Incoming";
  const missedByMe = c.status === "missed" && c.direction === "incoming";
  return (
    <article
      data-testid="call-history-entry"
      data-status={c.status}
      data-direction={c.direction}
      aria-label={`${way} ${c.media === "video" ? "video" : "voice"} call with ${who}, ${OUTCOME[c.status].toLowerCase()}`}
      className="flex items-center gap-3 border-b border-slate-100 px-2 py-2 text-sm"
    >
      <span aria-hidden="true">{c.direction === "outgoing" ? "↗" : "↙"}</span>
      <div className="min-w-0 flex-1">
        <p className={`truncate font-medium ${missedByMe ? "text-red-700" : ""}`}>{who}</p>
        <p className="text-xs text-slate-500">
          {way} {c.media === "video" ? "video" : "voice"} call · {OUTCOME[c.status]}
          {c.duration_seconds !== null && ` · ${duration(c.duration_seconds)}`}
          {" · "}
          <time dateTime={c.created_at}>{new Date(c.created_at).toLocaleString([], { dateStyle: "medium", timeStyle: "short" })}</time>
        </p>
      </div>
      <Link href={`/c/${c.conversation_id}`} className="rounded border border-slate-300 px-2 py-0.5 text-xs hover:bg-slate-50">
        Open conversation
      </Link>
    </article>
  );
}
