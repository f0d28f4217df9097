"use client";
// The signed-in session's runtime: the one cable consumer (lib/cable), the
// user's own CallChannel stream (calls, signals, read markers of other
// devices), the conversation list and its periodic refresh. Mounted once by
// the app shell while someone is signed in.
import { useEffect } from "react";
import { useStore } from "zustand";
import { createStore } from "zustand/vanilla";
import { openCable, type Cable } from "@/lib/cable";
import { configFromPage } from "@/lib/config";
import * as api from "@/lib/api";
import { setSignalChannel } from "@/lib/webrtc";
import type { Envelope } from "@/lib/types";
import { authStore, callStore, conversationStore, notificationStore, personalStore, searchStore } from "@/state/stores";
import { handleUserEvent } from "./useCall";

const holder = createStore<{ cable: Cable | null; live: boolean }>(() => ({ cable: null, live: false }));

/** The session's cable (null while signed out or before it opens). */
export function useCable(): Cable | null {
  return useStore(holder, (s) => s.cable);
}

/**
 * Whether the person's own stream (calls, notifications, read markers of
 * other devices) is subscribed: its events are not replayed, so what is
 * published while it is not is not seen live (the conversation list's
 * counts still catch up).
 */
export function useLive(): boolean {
  return useStore(holder, (s) => s.live);
}

const LIST_REFRESH_MS = 5000;

export function useSessionRuntime(): void {
  const userId = useStore(authStore, (s) => s.user?.id ?? null);
  useEffect(() => {
    if (!userId) return;
    const { cableUrl } = configFromPage();
    conversationStore.getState().reset(userId);
    callStore.getState().clear();
    personalStore.getState().reset();
    searchStore.getState().reset();
    notificationStore.getState().reset();
    void conversationStore.getState().loadList().catch(() => undefined);
    // Message rows show whether they are saved, or their author blocked.
    void personalStore.getState().loadSaved();
    void personalStore.getState().loadBlocks();

    let stopped = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    const url = () => `${cableUrl}?token=${encodeURIComponent(authStore.getState().token ?? "")}`;
    // A disconnect without reconnect (expired or revoked token): refresh once,
    // then reconnect with the new token; a refused refresh signs out (the api
    // client ends the session), other failures try again shortly.
    const onDead = () => {
      const attempt = () =>
        api
          .refreshSession()
          .then(() => !stopped && cable.reconnect())
          .catch((err: unknown) => {
            if (!stopped && api.problemOf(err)?.status !== 401) retry = setTimeout(attempt, 3000);
          });
      void attempt();
    };
    const cable = openCable(url, onDead);
    const own = cable.subscribe(
      { channel: "CallChannel" },
      {
        connected: () => holder.setState({ live: true }),
        disconnected: () => holder.setState({ live: false }),
        received: (m) => handleUserEvent(m as Envelope, userId),
      },
    );
    setSignalChannel(own);
    holder.setState({ cable });

    // Conversations one is added to (a new group or DM) appear on the next refresh.
    const poll = setInterval(() => void conversationStore.getState().loadList().catch(() => undefined), LIST_REFRESH_MS);
    const typing = setInterval(() => conversationStore.getState().expireTyping(Date.now()), 1000);
    return () => {
      stopped = true;
      clearTimeout(retry);
      clearInterval(poll);
      clearInterval(typing);
      setSignalChannel(null);
      own.unsubscribe();
      cable.close();
      holder.setState({ cable: null, live: false });
      conversationStore.getState().reset(null);
      callStore.getState().clear();
      personalStore.getState().reset();
      searchStore.getState().reset();
      notificationStore.getState().reset();
    };
  }, [userId]);
}
