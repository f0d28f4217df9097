// What rest.js and ws.js share: the api's address and the pool of k6
// users, registered once and reused by every later run.
//
// A stack as `make run` ships it lets one address register 10 users a
// minute (RATE_REGISTER_PER_ADDR) and sign in 60 times a minute
// (RATE_LOGIN_PER_ADDR). So the scripts use USERS users (default
// 8), named USER_PREFIX_0 … USER_PREFIX_{USERS-1}: a user that exists is
// signed in, one that does not is registered. More users than the limit
// allows in one minute need RATE_REGISTER_PER_ADDR raised on the api for
// the first run only.
import http from 'k6/http';
import { check, fail } from 'k6';

export const BASE = (__ENV.BASE_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
export const USERS = parseInt(__ENV.USERS || '8', 10);
const PREFIX = __ENV.USER_PREFIX || 'k6';
const PASSWORD = __ENV.PASSWORD || 'k6-load-Passw0rd!';

export const json = { headers: { 'Content-Type': 'application/json' } };

/** @typedef {{ id: string, token: string }} User */

/** @param {string} token */
export function auth(token) {
  return { headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` } };
}

// signIn returns user i of the pool, registering it when it does not exist
// yet.
/** @param {number} i @returns {User} */
export function signIn(i) {
  const username = `${PREFIX}_${i}`;
  let res = http.post(`${BASE}/auth/register`, JSON.stringify({
    email: `${username}@k6.invalid`, username, display_name: `k6 user ${i}`, password: PASSWORD,
  }), json);
  if (res.status === 409 || res.status === 429) {
    // 409: registered by an earlier run. 429: the registration limit; the
    // user may still exist, and signing in says.
    const refused = res;
    res = http.post(`${BASE}/auth/login`, JSON.stringify({ login: username, password: PASSWORD }), json);
    if (res.status !== 200 && refused.status === 429) {
      fail(`register ${username}: 429: this address registered too many users this minute; ` +
        'wait a minute (the users registered so far are reused), or raise RATE_REGISTER_PER_ADDR on the api');
    }
  }
  if (!check(res, { 'signed in': (r) => r.status === 200 || r.status === 201 })) {
    fail(`sign in ${username}: ${res.status} ${res.body}`);
  }
  const out = /** @type {{ user: { id: string }, token: string }} */ (res.json());
  return { id: out.user.id, token: out.token };
}

// signInAll signs in the whole pool.
/** @returns {User[]} */
export function signInAll() {
  const users = [];
  for (let i = 0; i < USERS; i++) {
    users.push(signIn(i));
  }
  return users;
}

// createGroup makes a group of all users (the first one owns it), named
// after this run, and returns its id.
/** @param {User[]} users @param {string} name @returns {string} */
export function createGroup(users, name) {
  const res = http.post(`${BASE}/conversations`, JSON.stringify({
    kind: 'group', name, member_ids: users.slice(1).map((u) => u.id),
  }), auth(users[0].token));
  if (!check(res, { 'conversation created': (r) => r.status === 201 })) {
    fail(`create conversation: ${res.status} ${res.body}`);
  }
  return /** @type {{ id: string }} */ (res.json()).id;
}
