// callStore: the one call of this tab — its state, peer, media and toggles.
// Call events arrive on the user's own topic and, with the DM's seq, on the
// DM's topic: both are keyed on (call id, status), so a repeat or a late,
// older status never moves the state backwards. The peer connection itself
// lives in useCall; this store holds only what the screen shows.
import { createStore } from "zustand/vanilla";
import type { Call, ID } from "@/lib/types";

export type CallPhase = "idle" | "incoming" | "calling" | "ringing" | "connecting" | "active" | "ended" | "declined" | "missed" | "failed";

export interface CallState {
  phase: CallPhase;
  call: Call | null;
  /** The other participant. */
  peer: ID | null;
  role: "caller" | "callee" | null;
  muted: boolean;
  cameraOff: boolean;
  iceState: string;
  error: string | null;
  /** Applies a call event or REST answer; returns the phase it led to. */
  apply(c: Call, me: ID): CallPhase;
  begin(c: Call, me: ID): void;
  setPhase(p: CallPhase, error?: string): void;
  setIce(s: string): void;
  setMuted(v: boolean): void;
  setCameraOff(v: boolean): void;
  clear(): void;
}

const RANK: Record<Call["status"], number> = { calling: 0, ringing: 1, active: 2, ended: 3, declined: 3, missed: 3 };
const idle = { phase: "idle" as CallPhase, call: null, peer: null, role: null, muted: false, cameraOff: false, iceState: "new", error: null };

export function createCallStore() {
  return createStore<CallState>()((set, get) => ({
    ...idle,

    apply(c, me) {
      const s = get();
      if (s.call && s.call.id !== c.id) {
        // Another call while this one is live: the api answers busy; ignore it here.
        if (s.phase !== "idle" && !["ended", "declined", "missed", "failed"].includes(s.phase)) return s.phase;
      }
      if (s.call?.id === c.id && RANK[c.status] < RANK[s.call.status]) return s.phase;
      if (s.call?.id === c.id && c.status === s.call.status) return s.phase;
      const role = c.caller_id === me ? "caller" : "callee";
      const peer = role === "caller" ? c.callee_id : c.caller_id;
      let phase: CallPhase;
      switch (c.status) {
        case "calling":
          phase = role === "caller" ? "calling" : "incoming";
          break;
        case "ringing":
          phase = role === "caller" ? "ringing" : "incoming";
          break;
        case "active":
          phase = s.phase === "active" ? "active" : "connecting";
          break;
        default:
          phase = c.status;
      }
      if (s.call?.id !== c.id && RANK[c.status] === 3) return s.phase; // the end of a call this tab never showed
      set({ call: c, role, peer, phase, ...(s.call?.id !== c.id ? { muted: false, cameraOff: false, iceState: "new", error: null } : {}) });
      return phase;
    },

    begin(c, me) {
      if (get().call?.id === c.id) return; // an event of this call came first
      set({ ...idle, call: c, role: "caller", peer: c.caller_id === me ? c.callee_id : c.caller_id, phase: "calling" });
    },

    setPhase(phase, error) {
      set({ phase, error: error ?? null });
    },
    setIce: (iceState) => set({ iceState }),
    setMuted: (muted) => set({ muted }),
    setCameraOff: (cameraOff) => set({ cameraOff }),
    clear: () => set({ ...idle }),
  }));
}
