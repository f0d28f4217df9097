// Chatterly WebSocket load for k6: each virtual user opens one Action
// Cable connection to the edge, subscribes to a conversation, and checks
// the latency of every message it receives against the time the message
// says it was sent. One VU in SENDERS also posts messages over REST at a
// fixed rate, so the script measures the whole path: api acceptance to
// every subscriber.
//
//   k6 run -e BASE_URL=https://api.example.com -e WS_URL=wss://edge.example.com/cable loadtest/k6/ws.js
//
// See README.md beside this file for every variable.
import http from 'k6/http';
import ws from 'k6/ws';
import { check, fail } from 'k6';
import { Trend, Counter } from 'k6/metrics';

const BASE = (__ENV.BASE_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
const WS_URL = __ENV.WS_URL || 'ws://127.0.0.1:8081/cable';
const SOCKETS = parseInt(__ENV.SOCKETS || '50', 10);
const DURATION_S = parseInt(__ENV.DURATION_S || '60', 10);
const SEND_EVERY_MS = parseInt(__ENV.SEND_EVERY_MS || '1000', 10);
const PASSWORD = __ENV.PASSWORD || 'k6-load-Passw0rd!';

const delivery = new Trend('chatterly_delivery_ms', true);
const received = new Counter('chatterly_received');
const duplicates = new Counter('chatterly_duplicates');
const gaps = new Counter('chatterly_seq_gaps');

export const options = {
  scenarios: {
    sockets: {
      executor: 'per-vu-iterations',
      vus: SOCKETS,
      iterations: 1,
      maxDuration: `${DURATION_S + 60}s`,
    },
  },
  // The original design's delivery target (< 30 ms); ours is p99 ≤ 10 ms
  // on one machine, which needs the Go generator's precision to judge.
  thresholds: {
    chatterly_delivery_ms: ['p(99)<30'],
    chatterly_seq_gaps: ['count==0'],
  },
};

const json = { headers: { 'Content-Type': 'application/json' } };

function auth(token) {
  return { headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` } };
}

function register(i, run) {
  const username = `k6ws_${run}_${i}`;
  const res = http.post(`${BASE}/auth/register`, JSON.stringify({
    email: `${username}@k6.invalid`, username, display_name: `k6 socket ${i}`, password: PASSWORD,
  }), json);
  if (!check(res, { registered: (r) => r.status === 201 || r.status === 200 })) {
    fail(`register ${username}: ${res.status} ${res.body}`);
  }
  const out = res.json();
  return { id: out.user.id, token: out.token };
}

// setup registers one user per socket and one group holding them all.
export function setup() {
  const run = Date.now().toString(36);
  const users = [];
  for (let i = 0; i < SOCKETS; i++) {
    users.push(register(i, run));
  }
  const res = http.post(`${BASE}/conversations`, JSON.stringify({
    kind: 'group', name: `k6 ws ${run}`, member_ids: users.slice(1).map((u) => u.id),
  }), auth(users[0].token));
  if (!check(res, { 'conversation created': (r) => r.status === 201 })) {
    fail(`create conversation: ${res.status} ${res.body}`);
  }
  return { users, conversation: res.json().id };
}

export default function (data) {
  const me = data.users[(__VU - 1) % data.users.length];
  const identifier = JSON.stringify({ channel: 'ConversationChannel', id: data.conversation });
  const sender = __VU === 1;
  const seen = new Set();
  let lastSeq = 0;

  const res = ws.connect(`${WS_URL}?token=${encodeURIComponent(me.token)}`,
    { headers: { 'Sec-WebSocket-Protocol': 'actioncable-v1-json, actioncable-unsupported' } },
    (socket) => {
      socket.on('message', (raw) => {
        const msg = JSON.parse(raw);
        if (msg.type === 'welcome') {
          socket.send(JSON.stringify({ command: 'subscribe', identifier }));
          return;
        }
        if (msg.type === 'confirm_subscription' && sender) {
          socket.setInterval(() => {
            http.post(`${BASE}/conversations/${data.conversation}/messages`,
              JSON.stringify({ body: `k6ws:${Date.now()}` }), auth(me.token));
          }, SEND_EVERY_MS);
          return;
        }
        if (msg.type || !msg.message || msg.message.type !== 'message.created') {
          return; // pings, confirmations, other events
        }
        const ev = msg.message;
        if (seen.has(ev.seq)) {
          duplicates.add(1);
          return;
        }
        seen.add(ev.seq);
        if (lastSeq !== 0 && ev.seq > lastSeq + 1) {
          gaps.add(ev.seq - lastSeq - 1);
        }
        lastSeq = Math.max(lastSeq, ev.seq);
        received.add(1);
        const m = /^k6ws:(\d+)$/.exec(ev.data.body || '');
        if (m) {
          delivery.add(Date.now() - parseInt(m[1], 10));
        }
      });
      socket.setTimeout(() => socket.close(), DURATION_S * 1000);
    });
  check(res, { 'upgraded (101)': (r) => r && r.status === 101 });
}
