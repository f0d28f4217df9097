"use client";
import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { useState } from "react";
import { useStore } from "zustand";
import { useConversationSubscriptions } from "@/hooks/useConversation";
import { usePresenceWatch } from "@/hooks/usePresence";
import { useSessionRuntime } from "@/hooks/useSession";
import { authStore } from "@/state/stores";
import { Sidebar } from "./Sidebar";
import { CallLayer } from "./CallLayer";
import { NotificationBell } from "./NotificationBell";

/** The signed-in app: sidebar, the page (a conversation), the call layer. */
export function Shell({ children }: { children: React.ReactNode }) {
  useSessionRuntime();
  useConversationSubscriptions();
  usePresenceWatch();
  const [menuOpen, setMenuOpen] = useState(false);
  return (
    <div className="flex h-full flex-col md:flex-row">
      <aside className="flex max-h-[45vh] w-full shrink-0 flex-col border-b border-slate-200 bg-slate-100 md:max-h-none md:w-72 md:border-b-0 md:border-r">
        <div className="flex items-center justify-between gap-2 border-b border-slate-200 px-3 py-2">
          <Link href="/" className="text-lg font-bold text-indigo-700">
            Chatterly
          </Link>
          <div className="flex items-center gap-1">
            <NotificationBell />
            <AccountMenu open={menuOpen} setOpen={setMenuOpen} />
          </div>
        </div>
        <PersonalLinks />
        <Sidebar />
      </aside>
      <main className="flex min-h-0 min-w-0 flex-1 flex-col">{children}</main>
      <CallLayer />
    </div>
  );
}

/** The person's own lists, which belong to no conversation. */
function PersonalLinks() {
  const path = usePathname();
  const links = [
    { href: "/search", label: "Search" },
    { href: "/calls", label: "Call history" },
    { href: "/saved", label: "Saved messages" },
    { href: "/blocked", label: "Blocked people" },
    { href: "/profile", label: "Profile" },
  ];
  return (
    <nav aria-label="Your lists" className="flex flex-wrap gap-1 border-b border-slate-200 px-3 py-1">
      {links.map((l) => (
        <Link key={l.href} href={l.href} aria-current={path === l.href ? "page" : undefined} className={`rounded px-2 py-0.5 text-xs ${path === l.href ? "bg-indigo-100 font-semibold text-indigo-900" : "text-slate-700 hover:bg-slate-200"}`}>
          {l.label}
        </Link>
      ))}
    </nav>
  );
}

function AccountMenu({ open, setOpen }: { open: boolean; setOpen: (v: boolean) => void }) {
  const user = useStore(authStore, (s) => s.user);
  const router = useRouter();
  const out = async (everywhere: boolean) => {
    setOpen(false);
    await authStore.getState().signOut(everywhere);
    router.replace("/");
  };
  return (
    <div className="relative">
      <button
        type="button"
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
        onKeyDown={(e) => e.key === "Escape" && setOpen(false)}
        className="rounded px-2 py-1 text-sm hover:bg-slate-200"
        aria-label="Account"
      >
        {user?.display_name || user?.username}
      </button>
      {open && (
        <div role="menu" aria-label="Account" className="absolute right-0 z-20 mt-1 w-48 rounded border border-slate-200 bg-white py-1 shadow-lg" onKeyDown={(e) => e.key === "Escape" && setOpen(false)}>
          <p className="px-3 py-1 text-xs text-slate-500">@{user?.username}</p>
          <button role="menuitem" type="button" className="block w-full px-3 py-2 text-left text-sm hover:bg-slate-100" onClick={() => void out(false)}>
            Sign out
          </button>
          <button role="menuitem" type="button" className="block w-full px-3 py-2 text-left text-sm hover:bg-slate-100" onClick={() => void out(true)}>
            Sign out everywhere
          </button>
        </div>
      )}
    </div>
  );
}
