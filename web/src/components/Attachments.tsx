"use client";
import { useEffect, useState } from "react";
import { errorText, fileURL } from "@/lib/api";
import type { Attachment } from "@/lib/types";

const sizeText = (n: number) => (n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KB` : `${(n / (1 << 20)).toFixed(1)} MB`);
const isImage = (a: Attachment) => !!a.width && a.content_type.startsWith("image/");

/** A message's files: images inline (their thumbnails), every file as a download link. */
export function Attachments({ items }: { items: Attachment[] }) {
  if (!items.length) return null;
  return (
    <ul className="mt-1 flex flex-wrap gap-2" aria-label="Attachments">
      {items.map((a) => (
        <li key={a.id}>
          <AttachmentItem a={a} />
        </li>
      ))}
    </ul>
  );
}

/** One file: its signed URLs are asked for when shown (they expire; events never carry them). */
function AttachmentItem({ a }: { a: Attachment }) {
  const [href, setHref] = useState<string | null>(null);
  const [thumb, setThumb] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    fileURL(a.id).then((u) => live && setHref(u), (e: unknown) => live && setError(errorText(e)));
    if (isImage(a)) fileURL(a.id, a.thumbnail ? "thumbnail" : "original").then((u) => live && setThumb(u), () => undefined);
    return () => {
      live = false;
    };
  }, [a]);
  if (error) return <span className="text-xs text-slate-500">{a.name}: {error}</span>;
  return (
    <div data-testid="attachment" data-name={a.name} className="flex flex-col gap-1 rounded border border-slate-200 bg-white p-1 text-sm">
      {isImage(a) && thumb && (
        <a href={href ?? undefined} target="_blank" rel="noreferrer">
          {/* eslint-disable-next-line @next/next/no-img-element -- a signed URL of the api */}
          <img src={thumb} alt={a.name} data-testid="attachment-thumbnail" className="max-h-48 max-w-xs rounded object-contain" />
        </a>
      )}
      <a href={href ?? undefined} download={a.name} aria-disabled={!href} className="text-indigo-700 underline">
        Download {a.name}
      </a>
      <span className="text-xs text-slate-500">{sizeText(a.size)}</span>
    </div>
  );
}
