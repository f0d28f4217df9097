"use client";
import { useBlocks } from "@/hooks/usePersonal";

/** The people the person blocks, each with Unblock. Nobody else sees this list. */
export function BlockedPeople() {
  const b = useBlocks();
  return (
    <section aria-labelledby="blocked-title" className="flex min-h-0 flex-1 flex-col">
      <header className="border-b border-slate-200 px-4 py-2">
        <h1 id="blocked-title" className="text-lg font-semibold">Blocked people</h1>
        <p className="text-xs text-slate-500">They cannot start a direct message or a call with you, or add you to a group; their messages are collapsed. They are not told.</p>
      </header>
      <ul aria-label="Blocked people" className="min-h-0 flex-1 overflow-y-auto p-2">
        {b.items.map((x) => (
          <li key={x.user_id} data-testid="blocked-person" className="flex items-center justify-between gap-2 border-b border-slate-100 px-2 py-2 text-sm">
            <span className="min-w-0 truncate">
              {x.user.display_name || x.user.username} <span className="text-slate-500">@{x.user.username}</span>
            </span>
            <button type="button" aria-label={`Unblock ${x.user.username}`} onClick={() => void b.toggle(x.user)} className="rounded border border-slate-300 px-2 py-0.5 text-xs hover:bg-slate-50">
              Unblock
            </button>
          </li>
        ))}
        {b.loaded && b.items.length === 0 && !b.error && <li className="p-2 text-sm text-slate-500">You block nobody.</li>}
      </ul>
      {b.error && <p role="alert" className="px-4 text-sm text-red-700">{b.error}</p>}
    </section>
  );
}
