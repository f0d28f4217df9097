// Peer connection helpers: media constraints, the signal sender and call
// status predicates. The RTCPeerConnection itself is created in useCall only.
import type { CallStatus, Media } from "./types";
import type { ChannelSub } from "./cable";

let signalChannel: ChannelSub | null = null;

/** Sets the CallChannel subscription signals go out on (null when signed out). */
export function setSignalChannel(sub: ChannelSub | null): void {
  signalChannel = sub;
}

export interface OutgoingSignal {
  call_id: string;
  to: string;
  kind: "offer" | "answer" | "ice";
  payload: unknown;
}

/** Relays an SDP or ICE candidate to the other participant through the edge. */
export function sendSignal(s: OutgoingSignal): boolean {
  return signalChannel?.perform("send_signal", s as unknown as object) ?? false;
}

export function mediaConstraints(media: Media): MediaStreamConstraints {
  return { audio: true, video: media === "video" };
}

export function isFinal(s: CallStatus): boolean {
  return s === "ended" || s === "declined" || s === "missed";
}
