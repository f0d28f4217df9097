"use client";
// useConversation bridges conversationStore and the cable for one open
// conversation; useConversationSubscriptions keeps one ConversationChannel
// subscription per listed conversation (the edge allows 100 per socket; the
// 90 most recently active are subscribed) and catches each up on every
// (re)subscribe.
import { useCallback, useEffect, useMemo, useRef } from "react";
import { useStore } from "zustand";
import type { ChannelSub } from "@/lib/cable";
import type { Attachment, Envelope, ID } from "@/lib/types";
import { conversationStore } from "@/state/stores";
import { conversationTitle, sortedConversations } from "@/state/conversationStore";
import { useCable } from "./useSession";

const MAX_SUBSCRIBED = 90;
const TYPING_EVERY_MS = 2000; // EDGE_TYPING_INTERVAL: the edge relays one per user and conversation per 2 s
const TYPING_MARGIN_MS = 150; // a trailing send arrives safely past the edge's window
const subs = new Map<ID, ChannelSub>();

export function useConversationSubscriptions(): void {
  const cable = useCable();
  const conversations = useStore(conversationStore, (s) => s.conversations);
  const wanted = useMemo(
    () => sortedConversations(conversations).slice(0, MAX_SUBSCRIBED).map((c) => c.id).sort().join(","),
    [conversations],
  );
  useEffect(() => {
    if (!cable) return;
    const ids = new Set(wanted ? wanted.split(",") : []);
    for (const [id, sub] of subs) {
      if (!ids.has(id)) {
        sub.unsubscribe();
        subs.delete(id);
      }
    }
    for (const id of ids) {
      if (subs.has(id)) continue;
      subs.set(
        id,
        cable.subscribe(
          { channel: "ConversationChannel", id },
          {
            connected: () => void conversationStore.getState().catchUp(id),
            received: (m) => conversationStore.getState().receive(m as Envelope),
          },
        ),
      );
    }
  }, [cable, wanted]);
  useEffect(
    () => () => {
      for (const sub of subs.values()) sub.unsubscribe();
      subs.clear();
    },
    [cable],
  );
}

export function useConversation(id: ID | null) {
  const conversation = useStore(conversationStore, (s) => (id ? s.conversations[id] : undefined));
  const timeline = useStore(conversationStore, (s) => (id ? s.timelines[id] : undefined));
  const users = useStore(conversationStore, (s) => s.users);
  const me = useStore(conversationStore, (s) => s.me);
  const typingMap = useStore(conversationStore, (s) => (id ? s.typing[id] : undefined));
  const listLoaded = useStore(conversationStore, (s) => s.listLoaded);

  useEffect(() => {
    void conversationStore.getState().open(id);
  }, [id]);

  // Typing is sent at most once per TYPING_EVERY_MS (the edge drops more).
  // A keystroke inside that window schedules one trailing send at its end,
  // so typing that starts soon after the last relay (right after sending a
  // message, say) is still seen; sending the message cancels it.
  const lastTyping = useRef(0);
  const trailing = useRef<ReturnType<typeof setTimeout> | null>(null);
  const cancelTyping = useCallback(() => {
    if (trailing.current) clearTimeout(trailing.current);
    trailing.current = null;
  }, []);
  const sendTyping = useCallback(() => {
    if (!id) return;
    const wait = lastTyping.current + TYPING_EVERY_MS - Date.now();
    if (wait > 0) {
      trailing.current ??= setTimeout(() => {
        trailing.current = null;
        lastTyping.current = Date.now();
        subs.get(id)?.perform("typing");
      }, wait + TYPING_MARGIN_MS);
      return;
    }
    lastTyping.current = Date.now();
    subs.get(id)?.perform("typing");
  }, [id]);
  useEffect(() => cancelTyping, [id, cancelTyping]);

  const typingNames = useMemo(
    () =>
      Object.keys(typingMap ?? {})
        .filter((u) => u !== me)
        .map((u) => users[u]?.display_name || users[u]?.username || "Someone"),
    [typingMap, users, me],
  );

  const actions = useMemo(() => {
    const st = conversationStore.getState();
    return {
      send: (body: string, parentId?: ID, attachments?: Attachment[]) => {
        cancelTyping();
        return id ? st.send(id, body, parentId ?? null, attachments ?? []) : Promise.resolve();
      },
      retry: (clientMsgId: string, parentId?: ID | null) => (id ? st.retry(id, clientMsgId, parentId ?? null) : Promise.resolve()),
      loadOlder: () => (id ? st.loadOlder(id) : Promise.resolve()),
      markRead: () => (id ? st.markRead(id) : Promise.resolve()),
      react: (messageId: ID, emoji: string) => (id ? st.react(id, messageId, emoji) : Promise.resolve()),
      edit: st.edit,
      remove: st.remove,
      openThread: st.openThread,
      loadMembers: () => (id ? st.loadMembers(id) : Promise.resolve()),
      leave: () => (id ? st.leave(id) : Promise.resolve(null)),
    };
  }, [id, cancelTyping]);

  return {
    conversation,
    timeline,
    users,
    me,
    listLoaded,
    title: conversation ? conversationTitle(conversation, users, me) : "",
    typingNames,
    sendTyping,
    ...actions,
  };
}
