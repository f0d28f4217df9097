"use client";
// usePersonal bridges personalStore and the screens of the person's own
// lists: each hook reads its list when the screen mounts (a fresh read every
// visit, so a call made, or a message saved on another device, meanwhile is
// there) and hands the screen its rows and actions.
import { useEffect } from "react";
import { useStore } from "zustand";
import { personalStore } from "@/state/stores";

export function useCallHistory() {
  const calls = useStore(personalStore, (s) => s.calls);
  useEffect(() => {
    void personalStore.getState().loadCalls();
  }, []);
  return { ...calls, more: personalStore.getState().moreCalls };
}

export function useSavedMessages() {
  const saved = useStore(personalStore, (s) => s.saved);
  useEffect(() => {
    void personalStore.getState().loadSaved();
  }, []);
  const st = personalStore.getState();
  return { ...saved, more: st.moreSaved, toggle: st.toggleSave };
}

export function useBlocks() {
  const blocks = useStore(personalStore, (s) => s.blocks);
  useEffect(() => {
    void personalStore.getState().loadBlocks();
  }, []);
  return { ...blocks, toggle: personalStore.getState().toggleBlock };
}
