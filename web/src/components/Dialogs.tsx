"use client";
import { useRouter } from "next/navigation";
import { useEffect, useId, useRef, useState } from "react";
import { useStore } from "zustand";
import type { ChannelListing, ID, User } from "@/lib/types";
import { conversationStore } from "@/state/stores";

/** A modal dialog: labelled, focus moved in, Escape closes. */
export function Dialog({ title, onClose, children, role = "dialog" }: { title: string; onClose: () => void; children: React.ReactNode; role?: "dialog" | "alertdialog" }) {
  const id = useId();
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = ref.current?.querySelector<HTMLElement>("input, button, [tabindex]");
    el?.focus();
  }, []);
  return (
    <div className="fixed inset-0 z-30 flex items-center justify-center bg-black/40 p-4" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        ref={ref}
        role={role}
        aria-modal="true"
        aria-labelledby={id}
        onKeyDown={(e) => e.key === "Escape" && onClose()}
        className="w-full max-w-md rounded-lg bg-white p-5 shadow-xl"
      >
        <div className="mb-3 flex items-center justify-between">
          <h2 id={id} className="text-lg font-semibold">
            {title}
          </h2>
          <button type="button" onClick={onClose} aria-label="Close" className="rounded px-2 text-slate-500 hover:bg-slate-100">
            ×
          </button>
        </div>
        {children}
      </div>
    </div>
  );
}

/** A searchbox "Add people" over the user directory; results are buttons named by username. */
function PeoplePicker({ onPick, exclude }: { onPick: (u: User) => void; exclude: Set<ID> }) {
  const [q, setQ] = useState("");
  const [results, setResults] = useState<User[]>([]);
  const me = useStore(conversationStore, (s) => s.me);
  useEffect(() => {
    if (!q.trim()) {
      setResults([]);
      return;
    }
    let live = true;
    const t = setTimeout(() => {
      conversationStore
        .getState()
        .searchUsers(q)
        .then((r) => live && setResults(r))
        .catch(() => live && setResults([]));
    }, 150);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [q]);
  const shown = results.filter((u) => u.id !== me && !exclude.has(u.id));
  return (
    <div className="flex flex-col gap-1">
      <label className="text-sm font-medium">
        Add people
        <input type="search" role="searchbox" aria-label="Add people" value={q} onChange={(e) => setQ(e.target.value)} placeholder="Search by username" className="mt-1 w-full rounded border border-slate-300 px-3 py-2" />
      </label>
      <ul className="max-h-40 overflow-y-auto" aria-label="People found">
        {shown.map((u) => (
          <li key={u.id}>
            <button type="button" aria-label={u.username} onClick={() => onPick(u)} className="w-full rounded px-2 py-1 text-left text-sm hover:bg-slate-100">
              {u.username} <span className="text-slate-500">{u.display_name !== u.username ? u.display_name : ""}</span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function CreateConversationDialog({ kind, onClose }: { kind: "channel" | "group"; onClose: () => void }) {
  const router = useRouter();
  const [name, setName] = useState("");
  const [picked, setPicked] = useState<User[]>([]);
  const [error, setError] = useState<{ text: string; field?: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const nameErr = error?.field === "name" ? error.text : undefined;
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    const r = await conversationStore.getState().create({ kind, name: name.trim(), member_ids: picked.map((u) => u.id) });
    setBusy(false);
    if (r.id) {
      onClose();
      router.push(`/c/${r.id}`);
    } else setError({ text: r.error ?? "Could not create it.", field: r.field });
  };
  return (
    <Dialog title={kind === "channel" ? "New channel" : "New group"} onClose={onClose}>
      <form onSubmit={submit} className="flex flex-col gap-3">
        <label className="flex flex-col gap-1 text-sm font-medium">
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} required aria-invalid={nameErr ? true : undefined} aria-describedby={nameErr ? "create-name-error" : undefined} className="rounded border border-slate-300 px-3 py-2 font-normal" placeholder={kind === "channel" ? "e.g. general" : "e.g. Launch team"} />
        </label>
        {nameErr && <p id="create-name-error" className="text-sm text-red-700">{nameErr}</p>}
        {picked.length > 0 && (
          <ul className="flex flex-wrap gap-1" aria-label="Members to add">
            {picked.map((u) => (
              <li key={u.id} className="flex items-center gap-1 rounded bg-indigo-50 px-2 py-0.5 text-sm">
                {u.username}
                <button type="button" aria-label={`Remove ${u.username}`} onClick={() => setPicked(picked.filter((x) => x.id !== u.id))}>×</button>
              </li>
            ))}
          </ul>
        )}
        <PeoplePicker exclude={new Set(picked.map((u) => u.id))} onPick={(u) => setPicked([...picked, u])} />
        {error && !nameErr && <p role="alert" className="text-sm text-red-700">{error.text}</p>}
        {nameErr && <p role="alert" className="sr-only">{nameErr}</p>}
        <button type="submit" disabled={busy} className="rounded bg-indigo-600 px-4 py-2 font-medium text-white disabled:opacity-60">
          Create
        </button>
      </form>
    </Dialog>
  );
}

export function NewDirectMessageDialog({ onClose }: { onClose: () => void }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const pick = async (u: User) => {
    const r = await conversationStore.getState().create({ kind: "dm", member_ids: [u.id] });
    if (r.id) {
      onClose();
      router.push(`/c/${r.id}`);
    } else setError(r.error ?? "Could not start it.");
  };
  return (
    <Dialog title="New direct message" onClose={onClose}>
      <PeoplePicker exclude={new Set()} onPick={(u) => void pick(u)} />
      {error && <p role="alert" className="mt-2 text-sm text-red-700">{error}</p>}
    </Dialog>
  );
}

export function BrowseChannelsDialog({ onClose }: { onClose: () => void }) {
  const router = useRouter();
  const [q, setQ] = useState("");
  const [items, setItems] = useState<ChannelListing[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    const t = setTimeout(() => {
      conversationStore.getState().browseChannels(q).then((r) => live && setItems(r)).catch(() => live && setItems([]));
    }, 150);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [q]);
  const join = async (c: ChannelListing) => {
    if (!c.is_member) {
      const err = await conversationStore.getState().join(c.id);
      if (err) return setError(err);
    }
    onClose();
    router.push(`/c/${c.id}`);
  };
  return (
    <Dialog title="Browse channels" onClose={onClose}>
      <input type="search" aria-label="Find channels" value={q} onChange={(e) => setQ(e.target.value)} placeholder="Channel name" className="mb-2 w-full rounded border border-slate-300 px-3 py-2" />
      <ul className="max-h-72 overflow-y-auto" aria-label="Public channels">
        {items.map((c) => (
          <li key={c.id} className="flex items-center justify-between gap-2 border-b border-slate-100 py-1">
            <span className="truncate text-sm">
              # {c.name} <span className="text-slate-500">· {c.member_count} members</span>
            </span>
            <button type="button" onClick={() => void join(c)} className="rounded border border-slate-300 px-2 py-0.5 text-sm hover:bg-slate-50">
              {c.is_member ? `Open ${c.name}` : `Join ${c.name}`}
            </button>
          </li>
        ))}
        {items.length === 0 && <li className="text-sm text-slate-500">No channels found.</li>}
      </ul>
      {error && <p role="alert" className="mt-2 text-sm text-red-700">{error}</p>}
    </Dialog>
  );
}
