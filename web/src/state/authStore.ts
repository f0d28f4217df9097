// authStore: who is signed in and the access token — in memory only, never in
// localStorage, sessionStorage or a readable cookie. A reload restores the
// session through POST /auth/refresh, which reads the api's HttpOnly refresh
// cookie. The store binds itself to lib/api so the interceptor finds the
// token and can refresh it.
import { createStore } from "zustand/vanilla";
import * as api from "@/lib/api";
import type { Problem, Session, User } from "@/lib/types";

export type AuthStatus = "unknown" | "signedOut" | "signedIn";

export interface AuthState {
  status: AuthStatus;
  user: User | null;
  token: string | null;
  expiresAt: string | null;
  restore(): Promise<void>;
  signIn(login: string, password: string): Promise<Problem | null>;
  signUp(input: { email: string; username: string; password: string; display_name?: string }): Promise<Problem | null>;
  signOut(everywhere?: boolean): Promise<void>;
  /** Ends the session locally (the api refused it). */
  ended(): void;
  /** The person's own profile changed (PATCH /me or user.updated from another device). */
  profileChanged(u: User): void;
}

const problem = (err: unknown): Problem => api.problemOf(err) ?? { status: 0, code: "network", detail: api.errorText(err) };

let refreshTimer: ReturnType<typeof setTimeout> | undefined;

export const authStore = createStore<AuthState>()((set, get) => {
  const adopt = (s: Session) => {
    set({ status: "signedIn", user: s.user, token: s.token, expiresAt: s.expires_at });
    clearTimeout(refreshTimer);
    // Refresh a minute before expiry (at least 5 s on), so sockets and calls rarely meet an expired token.
    const wait = Math.max(5000, new Date(s.expires_at).getTime() - Date.now() - 60000);
    refreshTimer = setTimeout(() => void api.refreshSession().catch(() => undefined), wait);
  };
  const clear = () => {
    clearTimeout(refreshTimer);
    set({ status: "signedOut", user: null, token: null, expiresAt: null });
  };
  api.bindSession({ token: () => get().token, refreshed: adopt, ended: clear });

  return {
    status: "unknown",
    user: null,
    token: null,
    expiresAt: null,

    profileChanged(u) {
      const cur = get().user;
      if (cur && cur.id === u.id) set({ user: { ...cur, ...u, email: u.email ?? cur.email } });
    },

    async restore() {
      try {
        await api.refreshSession();
      } catch {
        if (get().status !== "signedIn") clear();
      }
    },

    async signIn(login, password) {
      try {
        adopt(await api.login({ login, password }));
        return null;
      } catch (err) {
        return problem(err);
      }
    },

    async signUp(input) {
      try {
        adopt(await api.register(input));
        return null;
      } catch (err) {
        return problem(err);
      }
    },

    async signOut(everywhere = false) {
      try {
        await (everywhere ? api.logoutEverywhere() : api.logout());
      } catch {
        // The local session ends regardless; the api's ends with its token's expiry.
      }
      clear();
    },

    ended: clear,
  };
});
