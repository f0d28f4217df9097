// The official @rails/actioncable client against the edge, unchanged:
// only the WebSocket (ws, as Node 20 has none) and two browser globals the
// connection monitor touches are supplied. The Go test (compat_test.go)
// drives the steps through stdout (one JSON object per line) and stdin.
import WebSocket from "ws";
import readline from "node:readline";
import { createConsumer, adapters, logger } from "@rails/actioncable";

globalThis.addEventListener ??= () => {};
globalThis.removeEventListener ??= () => {};
globalThis.document ??= { visibilityState: "visible" };

let pings = 0;
// Counts the pings the client receives; otherwise the ws WebSocket as is.
class CountingWebSocket extends WebSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener("message", (e) => {
      if (String(e.data).includes('"type":"ping"')) pings++;
    });
  }
}
adapters.WebSocket = CountingWebSocket;
// The client's own log goes to stderr, which the test shows on failure.
adapters.logger = { log: (...a) => process.stderr.write(a.join(" ") + "\n") };
logger.enabled = true;

const { API_URL, EDGE_URL, LOGIN, PASSWORD, CONVERSATION_ID } = process.env;
const say = (o) => {
  process.stderr.write(`step ${JSON.stringify(o)}\n`);
  process.stdout.write(JSON.stringify(o) + "\n");
};
const fail = (why) => { say({ step: "error", why: String(why) }); process.exit(1); };
setTimeout(() => fail("timed out"), 120_000).unref();

// Lines from the test, queued until a step waits for one.
const waits = [];
const lines = [];
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const w = waits.shift();
  if (w) w(line.trim());
  else lines.push(line.trim());
});
const command = () => lines.length > 0
  ? Promise.resolve(lines.shift())
  : new Promise((resolve) => waits.push(resolve));

// Log in through the api.
const res = await fetch(`${API_URL}/auth/login`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ login: LOGIN, password: PASSWORD }),
});
if (res.status !== 200) fail(`login: HTTP ${res.status}`);
const { token } = await res.json();
say({ step: "logged_in" });

const consumer = createConsumer(`${EDGE_URL}/cable?token=${encodeURIComponent(token)}`);
let connects = 0;
let sinceReconnect = -1; // index of the first message after the reconnect
const messages = [];
let onMessage = null;
const subscription = consumer.subscriptions.create(
  { channel: "ConversationChannel", id: CONVERSATION_ID },
  {
    connected() {
      connects++;
      if (connects === 2) sinceReconnect = messages.length;
      say({ step: connects === 1 ? "subscribed" : "resubscribed", connects });
    },
    rejected() { fail("subscription rejected"); },
    received(data) {
      messages.push(data);
      if (data.type === "message.created") say({ step: "received", body: data.data.body, seq: data.seq });
      if (onMessage) onMessage(data);
    },
  },
);

// The test posts a message through the api once we are subscribed.
await command();
if (!messages.some((m) => m.type === "message.created")) {
  await new Promise((resolve) => { onMessage = (m) => { if (m.type === "message.created") resolve(); }; });
}
subscription.perform("typing");
say({ step: "typed" });

// Stay connected across several pings (3 s apart).
const start = pings;
await new Promise((resolve) => {
  const t = setInterval(() => { if (pings - start >= 3) { clearInterval(t); resolve(); } }, 100);
});
say({ step: "pinged", pings: pings - start, connects });

// The test restarts the edge; the client reconnects by itself and
// re-subscribes, then a new message arrives.
await new Promise((resolve) => {
  const t = setInterval(() => { if (connects >= 2) { clearInterval(t); resolve(); } }, 100);
});
await command();
await new Promise((resolve) => {
  const t = setInterval(() => {
    if (messages.slice(sinceReconnect).some((m) => m.type === "message.created")) { clearInterval(t); resolve(); }
  }, 50);
});
say({ step: "done", connects, pings });
consumer.disconnect();
process.exit(0);
