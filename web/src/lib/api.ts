// The REST client: one Axios instance for the session. A request interceptor
// puts the access token of the bound session on every call; a 401
// token_expired refreshes once (one refresh in flight per tab, and one across
// tabs through the Web Locks API) and retries the request once. /auth/*
// calls carry credentials so the api can set and read its HttpOnly refresh
// cookie (Path=/auth); the access token itself is never stored by the browser.
import axios, { AxiosError, type AxiosRequestConfig, type InternalAxiosRequestConfig } from "axios";
import type {
  Block, Call, CallHistoryEntry, ChannelListing, Conversation, Envelope, ID, Media, Member, Message, NotificationSettings,
  NotifyLevel, Page, Problem, Pin, ReactionChange, ReadState, Role, SavedMessage, SearchHit, Session, Upload,
  UploadedFile, User, UserStatus,
} from "./types";

/** What the api client needs from whoever holds the session (authStore). */
export interface SessionBinding {
  token(): string | null;
  refreshed(s: Session): void;
  /** The session is over (refresh refused): sign out locally. */
  ended(): void;
}

export const http = axios.create({ timeout: 15000 });
let binding: SessionBinding | null = null;

export function configureApi(baseURL: string): void {
  http.defaults.baseURL = baseURL;
}

export function bindSession(b: SessionBinding): void {
  binding = b;
}

/** The api's problem+json of a failed request, or null. */
export function problemOf(err: unknown): Problem | null {
  if (err instanceof AxiosError && err.response) {
    const d = err.response.data as Partial<Problem> | undefined;
    if (d && typeof d === "object" && typeof d.code === "string") {
      return { status: err.response.status, code: d.code, detail: d.detail ?? d.title ?? d.code, field: d.field };
    }
    return { status: err.response.status, code: "http_" + err.response.status, detail: err.message };
  }
  return null;
}

/** A human sentence for a failed request. */
export function errorText(err: unknown): string {
  const p = problemOf(err);
  if (p) return p.detail;
  if (err instanceof Error) return err.message === "Network Error" ? "Cannot reach the server." : err.message;
  return String(err);
}

const isAuthPath = (url?: string) => !!url && url.startsWith("/auth/");

http.interceptors.request.use((cfg: InternalAxiosRequestConfig) => {
  const token = binding?.token();
  if (token && !cfg.headers.has("Authorization")) cfg.headers.set("Authorization", `Bearer ${token}`);
  if (isAuthPath(cfg.url)) cfg.withCredentials = true;
  return cfg;
});

type Retriable = InternalAxiosRequestConfig & { _retried?: boolean };

http.interceptors.response.use(undefined, async (err: unknown) => {
  const p = problemOf(err);
  const cfg = err instanceof AxiosError ? (err.config as Retriable | undefined) : undefined;
  if (!p || p.status !== 401 || p.code !== "token_expired" || !cfg || cfg._retried || isAuthPath(cfg.url)) {
    throw err;
  }
  cfg._retried = true;
  const s = await refreshSession();
  cfg.headers.set("Authorization", `Bearer ${s.token}`);
  return http.request(cfg);
});

let inflight: Promise<Session> | null = null;

/**
 * Rotates the refresh cookie for a new access token. One call in flight per
 * tab; across tabs the Web Lock "chatterly-refresh" serializes them, so two
 * tabs reloaded together never present the same refresh token twice (which
 * the api treats as reuse and answers by ending the session). A refusal (401)
 * ends the local session; other failures are thrown and leave it as it was.
 */
export function refreshSession(): Promise<Session> {
  if (!inflight) {
    inflight = withRefreshLock(async () => {
      const r = await http.post<Session>("/auth/refresh", undefined, { withCredentials: true });
      binding?.refreshed(r.data);
      return r.data;
    })
      .catch((err: unknown) => {
        if (problemOf(err)?.status === 401) binding?.ended();
        throw err;
      })
      .finally(() => {
        inflight = null;
      });
  }
  return inflight;
}

function withRefreshLock<T>(fn: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
  if (!locks) return fn();
  return locks.request("chatterly-refresh", { mode: "exclusive" }, fn) as Promise<T>;
}

const get = async <T>(url: string, params?: AxiosRequestConfig["params"]) => (await http.get<T>(url, { params })).data;
const post = async <T>(url: string, body?: unknown) => (await http.post<T>(url, body)).data;
const enc = encodeURIComponent;

// auth
export const register = (b: { email: string; username: string; password: string; display_name?: string }) =>
  post<Session>("/auth/register", b);
export const login = (b: { login: string; password: string }) => post<Session>("/auth/login", b);
export const logout = async () => void (await http.delete("/auth/logout"));
export const logoutEverywhere = async () => void (await http.delete("/auth/sessions"));
export const me = () => get<User>("/me");

// users
export const getUser = (id: ID) => get<User>(`/users/${id}`);
export const searchUsers = (query: string) => get<Page<User>>("/users", { query, limit: 20 });

export const listBlocks = (cursor?: string) => get<Page<Block>>("/me/blocks", { cursor, limit: 100 });
export const blockUser = (id: ID) => post<Block>(`/me/blocks/${id}`);
export const unblockUser = async (id: ID) => void (await http.delete(`/me/blocks/${id}`));

// conversations
export const listConversations = (cursor?: string) =>
  get<Page<Conversation>>("/conversations", { cursor, limit: 100 });
export const getConversation = (id: ID) => get<Conversation>(`/conversations/${id}`);
export const createConversation = (b: { kind: "channel" | "group" | "dm"; name?: string; member_ids?: ID[] }) =>
  post<Conversation>("/conversations", b);
export const browseChannels = (query: string, cursor?: string) =>
  get<Page<ChannelListing>>("/channels", { query, cursor, limit: 50 });
export const joinChannel = (id: ID) => post<Member>(`/conversations/${id}/join`);
export const leaveConversation = async (id: ID) => void (await http.delete(`/conversations/${id}/membership`));
export const addMember = (id: ID, userId: ID) => post<Member>(`/conversations/${id}/members`, { user_id: userId });
export const changeMemberRole = async (id: ID, userId: ID, role: Role) =>
  (await http.patch<Member>(`/conversations/${id}/members/${userId}`, { role })).data;
export const listMembers = (id: ID, cursor?: string) =>
  get<Page<Member>>(`/conversations/${id}/members`, { cursor, limit: 100 });
export const archiveConversation = (id: ID) => post<Conversation>(`/conversations/${id}/archive`);
export const unarchiveConversation = async (id: ID) => (await http.delete<Conversation>(`/conversations/${id}/archive`)).data;
export const setNotifications = async (id: ID, level: NotifyLevel, mutedUntil: string | null) =>
  (await http.put<NotificationSettings>(`/conversations/${id}/notifications`, { level, muted_until: mutedUntil })).data;

// messages
export const listMessages = (id: ID, before?: ID, limit = 50) =>
  get<Page<Message>>(`/conversations/${id}/messages`, { before, limit });
export const sendMessage = (id: ID, b: { body: string; parent_id?: ID; client_msg_id: string; attachment_ids?: ID[] }) =>
  post<Message>(`/conversations/${id}/messages`, b);
export const editMessage = async (id: ID, body: string) => (await http.patch<Message>(`/messages/${id}`, { body })).data;
export const deleteMessage = async (id: ID) => void (await http.delete(`/messages/${id}`));
export const listReplies = (id: ID, after?: ID) => get<Page<Message>>(`/messages/${id}/replies`, { after, limit: 100 });
export const addReaction = (id: ID, emoji: string) => post<ReactionChange>(`/messages/${id}/reactions`, { emoji });
export const removeReaction = async (id: ID, emoji: string) =>
  void (await http.delete(`/messages/${id}/reactions/${enc(emoji)}`));
export const listPins = (id: ID) => get<Page<Pin>>(`/conversations/${id}/pins`, { limit: 100 });
export const pinMessage = (id: ID) => post<Pin>(`/messages/${id}/pin`);
export const unpinMessage = async (id: ID) => void (await http.delete(`/messages/${id}/pin`));
/** Full-text search over the caller's conversations (query syntax: docs/protocol.md). */
export const searchMessages = (query: string, opts: { conversationId?: ID; cursor?: string } = {}) =>
  get<Page<SearchHit>>("/search/messages", { query, conversation_id: opts.conversationId, cursor: opts.cursor, limit: 20 });
export const listSaved = (cursor?: string) => get<Page<SavedMessage>>("/me/saved", { cursor, limit: 50 });
export const saveMessage = (id: ID) => post<SavedMessage>(`/me/saved/${id}`);
export const unsaveMessage = async (id: ID) => void (await http.delete(`/me/saved/${id}`));
export const markRead = (id: ID, messageId: ID) => post<ReadState>(`/conversations/${id}/read`, { message_id: messageId });
export const replayEvents = (id: ID, afterSeq: number) =>
  get<Page<Envelope>>(`/conversations/${id}/events`, { after_seq: afterSeq, limit: 500 });

// files: declare, send the bytes where the api says (its own route with the
// token, or a store's presigned URL without it), then complete.
/** Uploads file (an attachment or an avatar), reporting progress (0–1), and returns it complete. */
export async function uploadFile(file: File, purpose: "attachment" | "avatar", onProgress?: (p: number) => void): Promise<UploadedFile> {
  const up = await post<Upload>("/files", { name: file.name, size: file.size, content_type: file.type || "application/octet-stream", purpose });
  const cfg: AxiosRequestConfig = {
    headers: up.upload_headers,
    timeout: 0,
    onUploadProgress: (e) => onProgress?.(e.total ? e.loaded / e.total : 0),
  };
  if (up.upload_url.startsWith("/")) await http.put(up.upload_url, file, cfg);
  else await axios.put(up.upload_url, file, cfg); // the store's URL: no bearer token
  onProgress?.(1);
  return post<UploadedFile>(`/files/${up.file.id}/complete`);
}
/** A signed URL of an attachment (members only), absolute. */
export const fileURL = async (id: ID, variant: "original" | "thumbnail" = "original") =>
  absolute((await get<{ url: string; expires_at: string }>(`/files/${id}/url`, { variant })).url);
/** An avatar's image URL (no token needed). */
export const avatarURL = (id: ID, size: 64 | 256 = 64) => absolute(`/avatars/${id}?size=${size}`);
const absolute = (path: string) => (path.startsWith("/") ? (http.defaults.baseURL ?? "").replace(/\/$/, "") + path : path);

// profile
export const updateProfile = async (b: { display_name?: string; avatar_id?: ID | null; status?: Omit<UserStatus, "expires_at"> & { expires_at?: string | null } | null; time_zone?: string }) =>
  (await http.patch<User>("/me", b)).data;

// calls
export const iceServers = () => get<{ ice_servers: RTCIceServer[] }>("/calls/ice-servers");
export const startCall = (conversationId: ID, media: Media) => post<Call>("/calls", { conversation_id: conversationId, media });
export const callHistory = (conversationId: ID) => get<Page<Call>>("/calls", { conversation_id: conversationId, limit: 50 });
export const recentCalls = (before?: ID) => get<Page<CallHistoryEntry>>("/calls", { before, limit: 50 });
export const ringCall = (id: ID) => post<Call>(`/calls/${id}/ring`);
export const acceptCall = (id: ID) => post<Call>(`/calls/${id}/accept`);
export const declineCall = (id: ID) => post<Call>(`/calls/${id}/decline`);
export const endCall = (id: ID) => post<Call>(`/calls/${id}/end`);
