"use client";
import { useRef, useState } from "react";
import { errorText, uploadFile } from "@/lib/api";
import type { Attachment } from "@/lib/types";

/** A file chosen in the composer: uploading (progress 0–1), done, or failed. */
interface Chosen {
  key: string;
  name: string;
  progress: number;
  done?: Attachment;
  error?: string;
}

/**
 * A message box: Enter sends, Shift+Enter is a newline. With attach, an
 * "Attach files" button uploads the chosen files at once (with progress);
 * the send carries those that finished, and waits while any is uploading.
 */
export function Composer({ label, button, onSend, onTyping, placeholder, disabled, attach = false }: { label: string; button: string; onSend: (body: string, attachments: Attachment[]) => void; onTyping?: () => void; placeholder?: string; disabled?: boolean; attach?: boolean }) {
  const [v, setV] = useState("");
  const [files, setFiles] = useState<Chosen[]>([]);
  const input = useRef<HTMLInputElement>(null);
  const uploading = files.some((f) => !f.done && !f.error);
  const ready = files.flatMap((f) => (f.done ? [f.done] : []));
  const send = () => {
    if ((!v.trim() && !ready.length) || disabled || uploading) return;
    onSend(v, ready);
    setV("");
    setFiles([]);
  };
  const patch = (key: string, p: Partial<Chosen>) => setFiles((fs) => fs.map((f) => (f.key === key ? { ...f, ...p } : f)));
  const choose = (list: FileList | null) => {
    for (const file of Array.from(list ?? [])) {
      const key = `${file.name}-${Math.random().toString(36).slice(2)}`;
      setFiles((fs) => [...fs, { key, name: file.name, progress: 0 }]);
      uploadFile(file, "attachment", (p) => patch(key, { progress: p })).then(
        (f) => patch(key, { progress: 1, done: { id: f.id, name: f.name, size: f.size, content_type: f.content_type ?? "", width: f.width, height: f.height, thumbnail: f.thumbnail } }),
        (e: unknown) => patch(key, { error: errorText(e) }),
      );
    }
    if (input.current) input.current.value = "";
  };
  return (
    <form
      className="border-t border-slate-200 p-2"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      {files.length > 0 && (
        <ul aria-label="Files to send" className="mb-2 flex flex-wrap gap-2">
          {files.map((f) => (
            <li key={f.key} data-testid="upload" data-state={f.error ? "failed" : f.done ? "done" : "uploading"} className="flex items-center gap-2 rounded border border-slate-200 px-2 py-1 text-xs">
              <span className="max-w-[12rem] truncate">{f.name}</span>
              {f.error ? (
                <span role="alert" className="text-red-700">{f.error}</span>
              ) : (
                <progress aria-label={`Uploading ${f.name}`} max={1} value={f.progress} className="w-20" />
              )}
              <button type="button" aria-label={`Remove ${f.name}`} onClick={() => setFiles((fs) => fs.filter((x) => x.key !== f.key))} className="rounded px-1 hover:bg-slate-100">
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="flex items-end gap-2">
        {attach && (
          <>
            <input ref={input} type="file" multiple hidden data-testid="attach-input" onChange={(e) => choose(e.target.files)} />
            <button type="button" disabled={disabled} onClick={() => input.current?.click()} className="rounded border border-slate-300 px-3 py-2 text-sm hover:bg-slate-50 disabled:opacity-50">
              Attach files
            </button>
          </>
        )}
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
        <button type="submit" disabled={disabled || uploading} className="rounded bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-700 disabled:opacity-50">
          {button}
        </button>
      </div>
    </form>
  );
}
