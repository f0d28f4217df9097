"use client";
import { useRouter } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { useStore } from "zustand";
import { callStreams, onStreams, useCall } from "@/hooks/useCall";
import { conversationStore } from "@/state/stores";

/** The call on screen: incoming alert, ringing status, active call with video. */
export function CallLayer() {
  const call = useCall();
  const router = useRouter();
  const users = useStore(conversationStore, (s) => s.users);
  const peer = call.peer ? users[call.peer] : undefined;
  const peerName = peer ? peer.display_name || peer.username : "Someone";
  useEffect(() => {
    if (call.peer) conversationStore.getState().ensureUsers([call.peer]);
  }, [call.peer]);
  if (call.phase === "idle") return null;

  if (call.phase === "incoming") {
    return (
      <div className="fixed inset-0 z-40 flex items-center justify-center bg-black/50 p-4">
        <div role="alertdialog" aria-modal="true" aria-labelledby="incoming-title" aria-describedby="incoming-desc" className="w-full max-w-sm rounded-lg bg-white p-6 text-center shadow-xl">
          <h2 id="incoming-title" className="text-lg font-semibold">Incoming call</h2>
          <p id="incoming-desc" className="my-3">
            {peerName} is calling you ({call.call?.media === "video" ? "video" : "voice"}).
          </p>
          <div className="flex justify-center gap-3">
            <button type="button" autoFocus onClick={() => {
                if (call.call) router.push(`/c/${call.call.conversation_id}`);
                void call.accept();
              }} className="rounded bg-green-600 px-4 py-2 font-medium text-white">Accept</button>
            <button type="button" onClick={() => void call.decline()} className="rounded bg-red-600 px-4 py-2 font-medium text-white">Decline</button>
          </div>
        </div>
      </div>
    );
  }

  const inCall = call.phase === "connecting" || call.phase === "active";
  const label: Record<string, string> = {
    calling: `Calling ${peerName}…`, ringing: `Ringing ${peerName}…`, connecting: "Connecting…", active: `In a call with ${peerName}`,
    ended: "Call ended", declined: `${peerName} declined the call`, missed: "No answer — missed call", failed: call.error ?? "The call failed",
  };
  return (
    <div className="fixed bottom-3 right-3 z-40 w-[min(100vw-1.5rem,26rem)] rounded-lg bg-slate-900 p-3 text-white shadow-2xl">
      <p role="status" data-testid="call-state" data-state={call.phase} className="mb-2 text-sm">
        {label[call.phase] ?? call.phase}
      </p>
      {inCall || call.phase === "calling" || call.phase === "ringing" ? (
        <ActiveCall video={call.call?.media === "video"} iceState={call.iceState} inCall={inCall} muted={call.muted} cameraOff={call.cameraOff} onMute={call.toggleMute} onCamera={call.toggleCamera} onHangUp={() => void call.hangUp()} />
      ) : null}
    </div>
  );
}

function ActiveCall(p: { video: boolean; iceState: string; inCall: boolean; muted: boolean; cameraOff: boolean; onMute: () => void; onCamera: () => void; onHangUp: () => void }) {
  const localRef = useRef<HTMLVideoElement>(null);
  const remoteRef = useRef<HTMLVideoElement>(null);
  const [, bump] = useState(0);
  useEffect(() => onStreams(() => bump((n) => n + 1)), []);
  const { local, remote } = callStreams();
  useEffect(() => {
    if (localRef.current && localRef.current.srcObject !== local) localRef.current.srcObject = local;
    if (remoteRef.current && remoteRef.current.srcObject !== remote) remoteRef.current.srcObject = remote;
  });
  return (
    <div role="region" aria-label="Call" data-ice-state={p.iceState} className="flex flex-col gap-2">
      <div className="relative aspect-video w-full overflow-hidden rounded bg-black">
        <video data-testid="remote-video" ref={remoteRef} autoPlay playsInline className="h-full w-full object-cover" aria-label="Remote video" />
        <video data-testid="local-video" ref={localRef} autoPlay playsInline muted className={`absolute bottom-2 right-2 w-1/3 rounded border border-white/40 ${p.video ? "" : "hidden"}`} aria-label="Your video" />
      </div>
      <div className="flex flex-wrap justify-center gap-2">
        <button type="button" onClick={p.onMute} aria-pressed={p.muted} className="rounded bg-slate-700 px-3 py-1 text-sm">{p.muted ? "Unmute" : "Mute"}</button>
        {p.video && (
          <button type="button" onClick={p.onCamera} aria-pressed={p.cameraOff} className="rounded bg-slate-700 px-3 py-1 text-sm">{p.cameraOff ? "Turn camera on" : "Turn camera off"}</button>
        )}
        <button type="button" onClick={p.onHangUp} className="rounded bg-red-600 px-3 py-1 text-sm font-medium">Hang up</button>
      </div>
    </div>
  );
}
