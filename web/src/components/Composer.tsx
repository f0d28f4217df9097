"use client";
import { useState } from "react";

/** A message box: Enter sends, Shift+Enter is a newline. */
export function Composer({ label, button, onSend, onTyping, placeholder, disabled }: { label: string; button: string; onSend: (body: string) => void; onTyping?: () => void; placeholder?: string; disabled?: boolean }) {
  const [v, setV] = useState("");
  const send = () => {
    if (!v.trim() || disabled) return;
    onSend(v);
    setV("");
  };
  return (
    <form
      className="flex items-end gap-2 border-t border-slate-200 p-2"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <textarea
        aria-label={label}
        value={v}
        rows={Math.min(5, Math.max(1, v.split("\n").length))}
        placeholder={disabled ? "This conversation is archived: it is read-only" : placeholder}
        disabled={disabled}
        onChange={(e) => {
          setV(e.target.value);
          if (e.target.value) onTyping?.();
        }}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
            e.preventDefault();
            send();
          }
        }}
        className="min-h-[2.5rem] flex-1 resize-none rounded border border-slate-300 px-3 py-2 focus:outline-none focus:ring-2 focus:ring-indigo-500 disabled:bg-slate-100"
      />
      <button type="submit" disabled={disabled} className="rounded bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-700 disabled:opacity-50">
        {button}
      </button>
    </form>
  );
}
