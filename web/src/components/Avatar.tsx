"use client";
import { avatarURL } from "@/lib/api";
import type { User } from "@/lib/types";

/** A person's avatar (their uploaded picture, or their initial), square. */
export function Avatar({ user, size = 32 }: { user: User | undefined; size?: number }) {
  const name = user ? user.display_name || user.username : "?";
  const px = { width: size, height: size };
  if (user?.avatar_id) {
    return (
      // eslint-disable-next-line @next/next/no-img-element -- the api serves it, sized already
      <img data-testid="avatar" src={avatarURL(user.avatar_id, size > 64 ? 256 : 64)} alt={`${name}'s avatar`} style={px} className="shrink-0 rounded object-cover" />
    );
  }
  return (
    <span data-testid="avatar-initial" aria-hidden="true" style={px} className="flex shrink-0 items-center justify-center rounded bg-indigo-100 text-sm font-semibold text-indigo-800">
      {name.slice(0, 1).toUpperCase()}
    </span>
  );
}

/** A person's status (emoji and text), when they have one that has not expired. */
export function StatusText({ user, compact = false }: { user: User | undefined; compact?: boolean }) {
  const st = user?.status;
  if (!st || (st.expires_at && new Date(st.expires_at).getTime() <= Date.now())) return null;
  const label = [st.emoji, st.text].filter(Boolean).join(" ");
  return (
    <span data-testid="user-status" title={label} className="truncate text-xs text-slate-500">
      {compact ? st.emoji || st.text : label}
    </span>
  );
}
