// Chatterly REST load for k6: register, log in, create a conversation,
// then post and read messages at a ramping arrival rate (an open model:
// k6's ramping-arrival-rate executor starts iterations on schedule whether
// or not earlier ones have finished, so a slow server shows as latency,
// not as a lower request rate).
//
//   k6 run -e BASE_URL=https://api.example.com loadtest/k6/rest.js
//
// See README.md beside this file for every variable.
import http from 'k6/http';
import { check, fail } from 'k6';
import { Trend, Counter } from 'k6/metrics';

const BASE = (__ENV.BASE_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
const USERS = parseInt(__ENV.USERS || '20', 10);
const PEAK = parseInt(__ENV.PEAK_RATE || '500', 10);
const RAMP = __ENV.RAMP || '1m';
const HOLD = __ENV.HOLD || '2m';
const PASSWORD = __ENV.PASSWORD || 'k6-load-Passw0rd!';
const READ_SHARE = parseFloat(__ENV.READ_SHARE || '0.8');

const postLatency = new Trend('chatterly_post_ms', true);
const readLatency = new Trend('chatterly_read_ms', true);
const rejected = new Counter('chatterly_rejected');

export const options = {
  scenarios: {
    chat: {
      executor: 'ramping-arrival-rate',
      startRate: Math.max(1, Math.floor(PEAK / 10)),
      timeUnit: '1s',
      preAllocatedVUs: Math.max(10, Math.floor(PEAK / 5)),
      maxVUs: Math.max(50, PEAK * 2),
      stages: [
        { target: PEAK, duration: RAMP },
        { target: PEAK, duration: HOLD },
      ],
    },
  },
  // The original design's targets (< 50 ms read, < 100 ms write); tighten
  // them for your own deployment.
  thresholds: {
    chatterly_read_ms: ['p(99)<50'],
    chatterly_post_ms: ['p(99)<100'],
    http_req_failed: ['rate<0.01'],
  },
};

const json = { headers: { 'Content-Type': 'application/json' } };

function auth(token) {
  return { headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` } };
}

// register makes a user (or logs in when it exists from an earlier run).
function register(i, run) {
  const username = `k6_${run}_${i}`;
  const body = JSON.stringify({
    email: `${username}@k6.invalid`,
    username,
    display_name: `k6 user ${i}`,
    password: PASSWORD,
  });
  let res = http.post(`${BASE}/auth/register`, body, json);
  if (res.status !== 201 && res.status !== 200) {
    res = http.post(`${BASE}/auth/login`, JSON.stringify({ login: username, password: PASSWORD }), json);
  }
  if (!check(res, { 'registered or logged in': (r) => r.status === 200 || r.status === 201 })) {
    fail(`user ${username}: ${res.status} ${res.body}`);
  }
  const out = res.json();
  return { id: out.user.id, token: out.token };
}

// setup registers USERS users, logs each in once more (the login path is
// part of the load), and makes one group holding them all.
export function setup() {
  const run = Date.now().toString(36);
  const users = [];
  for (let i = 0; i < USERS; i++) {
    const u = register(i, run);
    const res = http.post(`${BASE}/auth/login`,
      JSON.stringify({ login: `k6_${run}_${i}`, password: PASSWORD }), json);
    check(res, { 'login 200': (r) => r.status === 200 });
    if (res.status === 200) {
      u.token = res.json().token;
    }
    users.push(u);
  }
  const res = http.post(`${BASE}/conversations`, JSON.stringify({
    kind: 'group',
    name: `k6 ${run}`,
    member_ids: users.slice(1).map((u) => u.id),
  }), auth(users[0].token));
  if (!check(res, { 'conversation created': (r) => r.status === 201 })) {
    fail(`create conversation: ${res.status} ${res.body}`);
  }
  return { users, conversation: res.json().id };
}

export default function (data) {
  const u = data.users[Math.floor(Math.random() * data.users.length)];
  const path = `${BASE}/conversations/${data.conversation}/messages`;
  if (Math.random() < READ_SHARE) {
    const list = http.get(`${BASE}/conversations`, auth(u.token));
    const page = http.get(`${path}?limit=50`, auth(u.token));
    readLatency.add(list.timings.duration);
    readLatency.add(page.timings.duration);
    if (!check(page, { 'read 200': (r) => r.status === 200 }) || list.status !== 200) {
      rejected.add(1);
    }
    return;
  }
  const res = http.post(path, JSON.stringify({ body: `k6 ${__VU}-${__ITER} at ${Date.now()}` }), auth(u.token));
  postLatency.add(res.timings.duration);
  if (!check(res, { 'post 201': (r) => r.status === 201 })) {
    rejected.add(1);
  }
}
