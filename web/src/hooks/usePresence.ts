"use client";
// usePresence: one PresenceChannel subscription watching the people this
// person's DMs are with (a watch list, not a global broadcast). The watch is
// sent again whenever the set changes and after every (re)subscribe, which
// also brings a fresh snapshot.
import { useEffect, useMemo, useRef } from "react";
import { useStore } from "zustand";
import type { ChannelSub } from "@/lib/cable";
import type { Envelope, ID } from "@/lib/types";
import { conversationStore } from "@/state/stores";
import { dmPeer } from "@/state/conversationStore";
import { useCable } from "./useSession";

export function usePresenceWatch(): void {
  const cable = useCable();
  const conversations = useStore(conversationStore, (s) => s.conversations);
  const me = useStore(conversationStore, (s) => s.me);
  const peers = useMemo(() => {
    const ids = new Set<ID>();
    for (const c of Object.values(conversations)) {
      const p = dmPeer(c, me);
      if (p) ids.add(p);
    }
    return [...ids].sort().slice(0, 500).join(",");
  }, [conversations, me]);
  const peersRef = useRef(peers);
  peersRef.current = peers;
  const sub = useRef<ChannelSub | null>(null);

  useEffect(() => {
    if (!cable) return;
    const watch = () => sub.current?.perform("watch", { user_ids: peersRef.current ? peersRef.current.split(",") : [] });
    sub.current = cable.subscribe(
      { channel: "PresenceChannel" },
      {
        connected: watch,
        received: (m) => {
          const env = m as Envelope<{ users: { id: ID; online: boolean }[] }>;
          if (env.type === "presence") conversationStore.getState().setPresence(env.data.users);
        },
      },
    );
    return () => {
      sub.current?.unsubscribe();
      sub.current = null;
    };
  }, [cable]);

  useEffect(() => {
    sub.current?.perform("watch", { user_ids: peers ? peers.split(",") : [] });
  }, [peers]);
}

/** Whether a user is online, as last reported (false when unknown). */
export function usePresence(userId: ID | undefined): boolean {
  return useStore(conversationStore, (s) => (userId ? s.presence[userId] === true : false));
}
