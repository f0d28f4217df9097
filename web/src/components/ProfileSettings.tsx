"use client";
import { useState } from "react";
import { useStore } from "zustand";
import { errorText, updateProfile, uploadFile } from "@/lib/api";
import type { ID, User } from "@/lib/types";
import { authStore, conversationStore } from "@/state/stores";
import { Avatar } from "./Avatar";

/** How long a status stays, in minutes (0: until cleared). */
const DURATIONS: { label: string; minutes: number }[] = [
  { label: "Don't clear", minutes: 0 },
  { label: "30 minutes", minutes: 30 },
  { label: "1 hour", minutes: 60 },
  { label: "4 hours", minutes: 240 },
  { label: "1 day", minutes: 1440 },
];

const zones = (): string[] => {
  const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] };
  return intl.supportedValuesOf?.("timeZone") ?? [];
};

const input = "w-full rounded border border-slate-300 px-3 py-2 focus:outline-none focus:ring-2 focus:ring-indigo-500";

/** The person's profile: display name, avatar, status (emoji, text, expiry) and time zone. */
export function ProfileSettings() {
  const user = useStore(authStore, (s) => s.user);
  // The form starts from the profile once the session has it (after a reload, a moment later).
  return user ? <ProfileForm key={user.id} user={user} /> : null;
}

function ProfileForm({ user }: { user: User }) {
  const [name, setName] = useState(user?.display_name ?? "");
  const [emoji, setEmoji] = useState(user?.status?.emoji ?? "");
  const [text, setText] = useState(user?.status?.text ?? "");
  const [minutes, setMinutes] = useState(0);
  const [zone, setZone] = useState(user?.time_zone || Intl.DateTimeFormat().resolvedOptions().timeZone || "");
  const [progress, setProgress] = useState<number | null>(null);
  const [note, setNote] = useState<{ ok: boolean; text: string } | null>(null);

  const adopt = (u: User) => {
    authStore.getState().profileChanged(u);
    conversationStore.getState().userUpdated(u);
  };
  const save = async (patch: Parameters<typeof updateProfile>[0], done: string) => {
    try {
      adopt(await updateProfile(patch));
      setNote({ ok: true, text: done });
    } catch (e) {
      setNote({ ok: false, text: errorText(e) });
    }
  };
  const saveAll = () => {
    const status = emoji.trim() || text.trim()
      ? { emoji: emoji.trim(), text: text.trim(), expires_at: minutes ? new Date(Date.now() + minutes * 60000).toISOString() : null }
      : null;
    void save({ display_name: name, status, time_zone: zone }, "Profile saved");
  };
  const avatar = async (f: File | undefined) => {
    if (!f) return;
    setNote(null);
    try {
      setProgress(0);
      const up = await uploadFile(f, "avatar", setProgress);
      await save({ avatar_id: up.id as ID }, "Avatar updated");
    } catch (e) {
      setNote({ ok: false, text: errorText(e) });
    } finally {
      setProgress(null);
    }
  };

  return (
    <section aria-labelledby="profile-title" className="mx-auto w-full max-w-lg overflow-y-auto p-4">
      <h1 id="profile-title" className="mb-4 text-xl font-semibold">Your profile</h1>
      <div className="mb-4 flex items-center gap-3">
        <Avatar user={user} size={64} />
        <label className="cursor-pointer rounded border border-slate-300 px-3 py-2 text-sm hover:bg-slate-50">
          Upload avatar
          <input type="file" accept="image/png,image/jpeg,image/gif" hidden data-testid="avatar-input" onChange={(e) => void avatar(e.target.files?.[0])} />
        </label>
        {user.avatar_id && (
          <button type="button" className="rounded px-2 py-1 text-sm text-slate-600 hover:bg-slate-100" onClick={() => void save({ avatar_id: null }, "Avatar removed")}>
            Remove avatar
          </button>
        )}
        {progress !== null && <progress aria-label="Uploading avatar" max={1} value={progress} className="w-24" />}
      </div>
      <form
        className="flex flex-col gap-3"
        onSubmit={(e) => {
          e.preventDefault();
          saveAll();
        }}
      >
        <label className="flex flex-col gap-1 text-sm">
          Display name
          <input className={input} value={name} maxLength={64} onChange={(e) => setName(e.target.value)} />
        </label>
        <fieldset className="flex flex-col gap-2 rounded border border-slate-200 p-3">
          <legend className="px-1 text-sm font-medium">Status</legend>
          <div className="flex gap-2">
            <label className="flex w-24 flex-col gap-1 text-sm">
              Emoji
              <input className={input} value={emoji} onChange={(e) => setEmoji(e.target.value)} placeholder="🌴" />
            </label>
            <label className="flex flex-1 flex-col gap-1 text-sm">
              Status text
              <input className={input} value={text} maxLength={100} onChange={(e) => setText(e.target.value)} placeholder="On holiday" />
            </label>
          </div>
          <label className="flex flex-col gap-1 text-sm">
            Clear after
            <select className={input} value={minutes} onChange={(e) => setMinutes(Number(e.target.value))}>
              {DURATIONS.map((d) => (
                <option key={d.minutes} value={d.minutes}>{d.label}</option>
              ))}
            </select>
          </label>
          {user.status && (
            <button type="button" className="self-start rounded px-2 py-1 text-sm text-slate-600 hover:bg-slate-100" onClick={() => {
              setEmoji("");
              setText("");
              void save({ status: null }, "Status cleared");
            }}>
              Clear status
            </button>
          )}
        </fieldset>
        <label className="flex flex-col gap-1 text-sm">
          Time zone
          <input className={input} list="time-zones" value={zone} onChange={(e) => setZone(e.target.value)} placeholder="Europe/Paris" />
          <datalist id="time-zones">
            {zones().map((z) => (
              <option key={z} value={z} />
            ))}
          </datalist>
        </label>
        <button type="submit" className="self-start rounded bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-700">
          Save profile
        </button>
        {note && (
          <p role={note.ok ? "status" : "alert"} className={`text-sm ${note.ok ? "text-green-700" : "text-red-700"}`}>
            {note.text}
          </p>
        )}
      </form>
    </section>
  );
}
