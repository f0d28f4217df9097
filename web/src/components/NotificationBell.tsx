"use client";
import Link from "next/link";
import { useState } from "react";
import { browserPermission, notificationTitle, useNotifications } from "@/hooks/useNotifications";
import { useLive } from "@/hooks/useSession";

/** The bell: this session's notifications, newest first, and the browser permission to show them outside the page. */
export function NotificationBell() {
  const { items, unseen, seen } = useNotifications();
  const live = useLive();
  const [open, setOpen] = useState(false);
  const [permission, setPermission] = useState(browserPermission);
  const toggle = () => {
    if (!open) seen();
    setOpen(!open);
  };
  const ask = async () => setPermission(await Notification.requestPermission());
  return (
    <div className="relative">
      <button type="button" aria-label={`Notifications${unseen ? `, ${unseen} new` : ""}`} aria-expanded={open} data-live={live ? "true" : "false"} title={live ? "Notifications" : "Notifications (connecting: new ones show once connected)"} onClick={toggle} onKeyDown={(e) => e.key === "Escape" && setOpen(false)} className="relative rounded px-2 py-1 text-sm hover:bg-slate-200">
        <svg aria-hidden="true" viewBox="0 0 24 24" className="h-5 w-5 fill-none stroke-current stroke-2 text-slate-700">
          <path d="M6 8a6 6 0 1 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
          <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />
        </svg>
        {!live && <span aria-hidden="true" className="absolute -bottom-0.5 -right-0.5 h-2 w-2 rounded-full bg-amber-500" />}
        {unseen > 0 && (
          <span data-testid="notification-count" className="absolute -right-1 -top-1 rounded-full bg-red-600 px-1.5 text-[10px] font-semibold text-white">
            {unseen}
          </span>
        )}
      </button>
      {open && (
        <div role="dialog" aria-label="Notifications" className="absolute left-0 z-20 mt-1 w-72 rounded border border-slate-200 bg-white shadow-lg md:left-auto md:right-0" onKeyDown={(e) => e.key === "Escape" && setOpen(false)}>
          {permission === "default" && (
            <button type="button" onClick={() => void ask()} className="block w-full border-b border-slate-100 px-3 py-2 text-left text-xs text-indigo-700 hover:bg-slate-50">
              Show notifications on this device
            </button>
          )}
          <ul className="max-h-80 overflow-y-auto">
            {items.length === 0 && <li className="px-3 py-2 text-sm text-slate-500">No notifications yet.</li>}
            {items.map((n) => (
              <li key={n.id}>
                <Link href={`/c/${n.conversation_id}`} onClick={() => setOpen(false)} data-testid="notification" data-reason={n.reason} className="block border-b border-slate-100 px-3 py-2 text-sm hover:bg-slate-50">
                  <span className="block font-semibold">{notificationTitle(n)}</span>
                  <span className="block truncate text-slate-600">{n.message.body}</span>
                </Link>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}
