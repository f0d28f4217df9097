"use client";
// useCall: 1:1 calls. The only place an RTCPeerConnection is created. The
// controller below is one per tab (a tab has at most one call); useCall()
// gives components the call's state and actions. Signaling: the caller sends
// the offer once the callee accepted (call.accepted); SDP and ICE travel as
// CallChannel send_signal {call_id, to, kind, payload} and arrive as
// call.signal; remote candidates that come before the remote description are
// queued.
import { useStore } from "zustand";
import * as api from "@/lib/api";
import { isFinal, mediaConstraints, sendSignal } from "@/lib/webrtc";
import type { AppNotification, Call, Envelope, ID, Media, Signal, User } from "@/lib/types";
import { authStore, callStore, conversationStore } from "@/state/stores";
import { notificationArrived } from "./useNotifications";

interface Live {
  callId: ID;
  pc: RTCPeerConnection | null;
  local: MediaStream | null;
  remote: MediaStream;
  queued: RTCIceCandidateInit[];
  pendingOffer: RTCSessionDescriptionInit | null;
  offered: boolean;
}

let live: Live | null = null;
const streamListeners = new Set<() => void>();
const notifyStreams = () => streamListeners.forEach((f) => f());

const me = () => authStore.getState().user?.id ?? "";

/** Routes an event of the user's own topic (CallChannel). */
export function handleUserEvent(env: Envelope, userId: ID): void {
  if (env.type === "read.updated") {
    const d = env.data as { conversation_id: ID; last_read_message_id: ID };
    conversationStore.getState().readUpdated(d.conversation_id, d.last_read_message_id);
    return;
  }
  if (env.type === "user.updated") {
    const u = env.data as User;
    conversationStore.getState().userUpdated(u);
    if (u.id === userId) authStore.getState().profileChanged(u);
    return;
  }
  if (env.type === "notification.created") {
    notificationArrived(env.data as AppNotification);
    return;
  }
  if (env.type === "call.signal") {
    void onSignal(env.data as Signal);
    return;
  }
  if (env.type.startsWith("call.")) {
    const c = env.data as Call;
    conversationStore.getState().upsertCall(c);
    void onCall(c, userId);
  }
}

async function onCall(c: Call, userId: ID) {
  const before = callStore.getState();
  const phase = callStore.getState().apply(c, userId);
  if (phase === before.phase && before.call?.status === c.status) return;
  if (phase === "incoming" && c.status === "calling" && c.callee_id === userId) {
    api.ringCall(c.id).catch(() => undefined);
  }
  if (c.status === "active" && c.caller_id === userId && live?.callId === c.id && !live.offered) {
    await makeOffer();
  }
  if (isFinal(c.status)) {
    teardown();
    setTimeout(() => {
      const s = callStore.getState();
      if (s.call?.id === c.id && isFinal(s.call.status)) s.clear();
    }, 4000);
  }
}

async function prepare(callId: ID, peer: ID, media: Media): Promise<Live> {
  teardown();
  const l: Live = { callId, pc: null, local: null, remote: new MediaStream(), queued: [], pendingOffer: null, offered: false };
  live = l;
  const [{ ice_servers }, local] = await Promise.all([
    api.iceServers().catch(() => ({ ice_servers: [] as RTCIceServer[] })),
    navigator.mediaDevices.getUserMedia(mediaConstraints(media)),
  ]);
  if (live !== l) {
    local.getTracks().forEach((t) => t.stop());
    throw new Error("call ended");
  }
  const pc = new RTCPeerConnection({ iceServers: ice_servers });
  l.pc = pc;
  l.local = local;
  local.getTracks().forEach((t) => pc.addTrack(t, local));
  pc.ontrack = (e) => {
    e.streams[0]?.getTracks().forEach((t) => l.remote.getTracks().includes(t) || l.remote.addTrack(t));
    if (!e.streams[0] && !l.remote.getTracks().includes(e.track)) l.remote.addTrack(e.track);
    notifyStreams();
  };
  pc.onicecandidate = (e) => {
    if (e.candidate) sendSignal({ call_id: callId, to: peer, kind: "ice", payload: e.candidate.toJSON() });
  };
  pc.oniceconnectionstatechange = () => {
    callStore.getState().setIce(pc.iceConnectionState);
    const st = callStore.getState();
    if ((pc.iceConnectionState === "connected" || pc.iceConnectionState === "completed") && st.phase === "connecting") {
      st.setPhase("active");
    }
    if (pc.iceConnectionState === "failed") st.setPhase("failed", "The connection failed.");
  };
  notifyStreams();
  return l;
}

async function makeOffer() {
  const l = live;
  const s = callStore.getState();
  if (!l?.pc || !s.peer) return;
  l.offered = true;
  const offer = await l.pc.createOffer();
  await l.pc.setLocalDescription(offer);
  sendSignal({ call_id: l.callId, to: s.peer, kind: "offer", payload: { type: offer.type, sdp: offer.sdp } });
}

async function answer(l: Live, offer: RTCSessionDescriptionInit) {
  const pc = l.pc!;
  await pc.setRemoteDescription(offer);
  await flushCandidates(l);
  const ans = await pc.createAnswer();
  await pc.setLocalDescription(ans);
  const peer = callStore.getState().peer;
  if (peer) sendSignal({ call_id: l.callId, to: peer, kind: "answer", payload: { type: ans.type, sdp: ans.sdp } });
}

async function flushCandidates(l: Live) {
  const q = l.queued.splice(0);
  for (const c of q) await l.pc!.addIceCandidate(c).catch(() => undefined);
}

async function onSignal(sig: Signal) {
  const l = live;
  if (!l || sig.call_id !== l.callId) return;
  if (sig.kind === "offer") {
    const offer = sig.payload as RTCSessionDescriptionInit;
    if (!l.pc) l.pendingOffer = offer;
    else await answer(l, offer);
  } else if (sig.kind === "answer") {
    if (!l.pc) return;
    await l.pc.setRemoteDescription(sig.payload as RTCSessionDescriptionInit);
    await flushCandidates(l);
  } else if (sig.kind === "ice") {
    const c = sig.payload as RTCIceCandidateInit;
    if (!l.pc || !l.pc.remoteDescription) l.queued.push(c);
    else await l.pc.addIceCandidate(c).catch(() => undefined);
  }
}

function teardown() {
  if (!live) return;
  live.pc?.close();
  live.local?.getTracks().forEach((t) => t.stop());
  live = null;
  notifyStreams();
}

async function start(conversationId: ID, media: Media) {
  const st = callStore.getState();
  if (st.phase !== "idle" && !isFinal(st.call?.status ?? "ended")) return;
  try {
    const c = await api.startCall(conversationId, media);
    st.begin(c, me());
    conversationStore.getState().upsertCall(c);
    const peer = callStore.getState().peer!;
    await prepare(c.id, peer, media);
    // The callee may have accepted while media was starting.
    if (callStore.getState().call?.status === "active" && !live?.offered) await makeOffer();
  } catch (err) {
    const c = callStore.getState().call;
    if (c) api.endCall(c.id).catch(() => undefined);
    teardown();
    callStore.getState().setPhase("failed", api.errorText(err));
  }
}

async function accept() {
  const st = callStore.getState();
  const c = st.call;
  if (!c || st.phase !== "incoming") return;
  st.setPhase("connecting");
  // Answer at once (the ring timeout runs), and start the media meanwhile:
  // prepare() registers the call synchronously, so an offer or candidates
  // that arrive before the peer connection exists are kept for it.
  const media = prepare(c.id, st.peer!, c.media);
  media.catch(() => undefined);
  try {
    const updated = await api.acceptCall(c.id);
    callStore.getState().apply(updated, me());
    const l = await media;
    if (l.pendingOffer) await answer(l, l.pendingOffer);
  } catch (err) {
    teardown();
    api.endCall(c.id).catch(() => undefined);
    callStore.getState().setPhase("failed", api.errorText(err));
  }
}

async function decline() {
  const c = callStore.getState().call;
  if (!c) return;
  try {
    callStore.getState().apply(await api.declineCall(c.id), me());
  } catch {
    callStore.getState().clear();
  }
  teardown();
}

async function hangUp() {
  const c = callStore.getState().call;
  teardown();
  if (!c) return;
  try {
    const ended = await api.endCall(c.id);
    callStore.getState().apply(ended, me());
    conversationStore.getState().upsertCall(ended);
  } catch {
    callStore.getState().setPhase("ended");
  }
}

function toggleMute() {
  const st = callStore.getState();
  live?.local?.getAudioTracks().forEach((t) => (t.enabled = st.muted));
  st.setMuted(!st.muted);
}

function toggleCamera() {
  const st = callStore.getState();
  live?.local?.getVideoTracks().forEach((t) => (t.enabled = st.cameraOff));
  st.setCameraOff(!st.cameraOff);
}

/** Subscribes to changes of the call's media streams (for the video elements). */
export function onStreams(f: () => void): () => void {
  streamListeners.add(f);
  return () => streamListeners.delete(f);
}

export function callStreams(): { local: MediaStream | null; remote: MediaStream | null } {
  return { local: live?.local ?? null, remote: live?.remote ?? null };
}

export function useCall() {
  const state = useStore(callStore);
  return { ...state, start, accept, decline, hangUp, toggleMute, toggleCamera };
}
