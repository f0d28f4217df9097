"use client";
import { useEffect, useState } from "react";
import { useStore } from "zustand";
import type { ID, Role } from "@/lib/types";
import { conversationStore, personalStore } from "@/state/stores";
import { Avatar, StatusText } from "./Avatar";

/** The conversation's members and their roles. */
export function MembersPanel({ conversationId, onClose }: { conversationId: ID; onClose: () => void }) {
  const members = useStore(conversationStore, (s) => s.members[conversationId]);
  const users = useStore(conversationStore, (s) => s.users);
  const me = useStore(conversationStore, (s) => s.me);
  const blockedIds = useStore(personalStore, (s) => s.blockedIds);
  const owner = useStore(conversationStore, (s) => s.conversations[conversationId]?.role === "owner");
  const [error, setError] = useState<string | null>(null);
  const change = async (userId: ID, role: Role) => setError(await conversationStore.getState().changeRole(conversationId, userId, role));
  useEffect(() => {
    void conversationStore.getState().loadMembers(conversationId);
  }, [conversationId]);
  return (
    <aside role="complementary" aria-label="Members" className="fixed inset-0 z-20 flex flex-col border-l border-slate-200 bg-white md:static md:z-auto md:w-72">
      <header className="flex items-center justify-between border-b border-slate-200 px-4 py-2">
        <h2 className="font-semibold">Members{members ? ` (${members.length})` : ""}</h2>
        <button type="button" aria-label="Close members" onClick={onClose} className="rounded px-2 hover:bg-slate-100">
          ×
        </button>
      </header>
      <ul className="min-h-0 flex-1 overflow-y-auto p-2">
        {!members && <li className="text-sm text-slate-500">Loading…</li>}
        {members?.map((m) => {
          const u = m.user ?? users[m.user_id];
          return (
            <li key={m.user_id} className="flex items-center gap-2 px-2 py-1 text-sm">
              <Avatar user={u} size={24} />
              <span className="flex min-w-0 flex-1 flex-col">
                <span className="truncate">
                  {u ? u.display_name || u.username : m.user_id}
                  {u && <span className="text-slate-500"> @{u.username}</span>}
                </span>
                <StatusText user={u} />
              </span>
              <span data-testid="member-role" className="rounded bg-slate-100 px-1.5 text-xs text-slate-600">{m.role}</span>
              {owner && u && m.user_id !== me && (
                <>
                  <button type="button" aria-label={`Make ${u.username} ${m.role === "admin" ? "member" : "admin"}`} onClick={() => void change(m.user_id, m.role === "admin" ? "member" : "admin")} className="rounded border border-slate-300 px-1.5 text-xs hover:bg-slate-50">
                    {m.role === "admin" ? "Make member" : "Make admin"}
                  </button>
                  <button type="button" aria-label={`Make ${u.username} owner`} onClick={() => void change(m.user_id, "owner")} className="rounded border border-slate-300 px-1.5 text-xs hover:bg-slate-50">
                    Make owner
                  </button>
                </>
              )}
              {u && m.user_id !== me && (
                <button
                  type="button"
                  aria-label={`${blockedIds[m.user_id] ? "Unblock" : "Block"} ${u.username}`}
                  onClick={() => void personalStore.getState().toggleBlock(u)}
                  className="rounded border border-slate-300 px-1.5 text-xs hover:bg-slate-50"
                >
                  {blockedIds[m.user_id] ? "Unblock" : "Block"}
                </button>
              )}
            </li>
          );
        })}
      </ul>
      {error && <p role="alert" className="px-4 pb-2 text-sm text-red-700">{error}</p>}
    </aside>
  );
}
