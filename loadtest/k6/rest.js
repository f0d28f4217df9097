// Chatterly REST load for k6: sign in a pool of users, create a
// conversation, then post and read messages at a ramping arrival rate (an
// open model: k6's ramping-arrival-rate executor starts iterations on
// schedule whether or not earlier ones have finished, so a slow server
// shows as latency, not as a lower request rate).
//
//   k6 run loadtest/k6/rest.js                       # against make run
//   k6 run -e BASE_URL=https://api.example.com loadtest/k6/rest.js
//
// The defaults stay inside the limits of a stack as `make run` ships it
// (README.md beside this file lists every variable and the limit each
// one meets).
import http from 'k6/http';
import { check } from 'k6';
import { Trend, Counter } from 'k6/metrics';
import { BASE, auth, createGroup, signInAll } from './lib.js';

/** @typedef {{ users: import('./lib.js').User[], conversation: string }} Data */

// 100 iterations/s with READ_SHARE 0.8 is 20 posts/s over 8 users: 150 a
// minute each, inside RATE_MESSAGES (300 per user per minute).
const PEAK = parseInt(__ENV.PEAK_RATE || '100', 10);
const RAMP = __ENV.RAMP || '1m';
const HOLD = __ENV.HOLD || '2m';
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

// setup signs in the user pool and makes one group holding them all.
/** @returns {Data} */
export function setup() {
  const users = signInAll();
  return { users, conversation: createGroup(users, `k6 ${Date.now().toString(36)}`) };
}

/** @param {Data} data */
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
