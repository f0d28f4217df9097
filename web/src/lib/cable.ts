// The session's one Action Cable consumer. Its URL is a function, read at
// every (re)connect, so a refreshed access token is used by the next socket.
// The official client hides a disconnect's reason from subscriptions: they
// only see willAttemptReconnect=false. On such a disconnect the session's
// onDead hook runs once (it refreshes and calls reconnect(), or signs out).
import { createConsumer, type Consumer, type Subscription } from "@rails/actioncable";

export interface ChannelHandlers {
  /** Subscribed (again): after every (re)connect, so a caller can catch up. */
  connected?(): void;
  /** The socket closed: nothing arrives until connected() again. */
  disconnected?(): void;
  received(message: unknown): void;
  rejected?(): void;
}

export interface ChannelSub {
  perform(action: string, data?: object): boolean;
  unsubscribe(): void;
}

export interface Cable {
  subscribe(params: { channel: string; [k: string]: unknown }, h: ChannelHandlers): ChannelSub;
  /** Opens a new socket (with a fresh URL) after a disconnect without reconnect. */
  reconnect(): void;
  close(): void;
}

export function openCable(url: () => string, onDead: () => void): Cable {
  const consumer: Consumer = createConsumer(url);
  let dead = false;
  const subscribe: Cable["subscribe"] = (params, h) => {
    const sub: Subscription = consumer.subscriptions.create(params, {
      connected() {
        dead = false;
        h.connected?.();
      },
      disconnected({ willAttemptReconnect }: { willAttemptReconnect: boolean | undefined }) {
        h.disconnected?.();
        if (willAttemptReconnect === false && !dead) {
          dead = true;
          onDead();
        }
      },
      received(m: unknown) {
        h.received(m);
      },
      rejected() {
        h.rejected?.();
      },
    });
    return { perform: (a, d) => sub.perform(a, d), unsubscribe: () => void sub.unsubscribe() };
  };
  return {
    subscribe,
    reconnect() {
      consumer.connect();
    },
    close() {
      dead = true;
      consumer.disconnect();
    },
  };
}
