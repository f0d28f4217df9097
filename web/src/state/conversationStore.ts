// conversationStore: the conversation list, the open conversation, its
// messages, threads, members, typing and presence. Every cable event goes
// through receive(), which is idempotent: a conversation's log events are
// applied in seq order exactly once (a seq already applied is dropped; a gap
// is filled from GET /conversations/:id/events before newer events are
// applied; 410 resync_required reloads the conversation), and the events
// themselves are applied by id (upserts, reaction totals), so even a replay
// that overlaps what a REST page already showed leaves one row and the right
// counts.
import { createStore } from "zustand/vanilla";
import type * as Api from "@/lib/api";
import type { Attachment, Call, ChannelListing, Conversation, Envelope, ID, Member, Message, Pin, ReactionChange, Role, User } from "@/lib/types";
import {
  addPending, cmpId, emptyList, hasClientMsg, mergePage, replaceIfPresent, setPending, setReaction,
  updateMessage, upsert, type MessageList,
} from "./messageList";
import { addPin, dropPin, pinnedMessageChanged } from "./pins";
import { concerns } from "@/lib/mentions";

/** The slice of lib/api the store uses (injected, so the store runs in unit tests). */
export type ConversationApi = Pick<
  typeof Api,
  | "listConversations" | "getConversation" | "listMessages" | "replayEvents" | "sendMessage" | "editMessage"
  | "deleteMessage" | "listReplies" | "addReaction" | "removeReaction" | "markRead" | "listMembers" | "getUser"
  | "leaveConversation" | "joinChannel" | "createConversation" | "addMember" | "searchUsers" | "browseChannels" | "callHistory" | "problemOf" | "errorText"
  | "listPins" | "pinMessage" | "unpinMessage" | "changeMemberRole"
>;

export interface Timeline extends MessageList {
  loaded: boolean;
  olderCursor: string | null;
  loadingOlder: boolean;
  /** Calls of a DM, latest status each (rows for ended, declined, missed). */
  calls: Record<ID, Call>;
  error?: string;
}

export interface Thread extends MessageList {
  loaded: boolean;
}

export interface ConversationState {
  me: ID | null;
  conversations: Record<ID, Conversation>;
  listLoaded: boolean;
  activeId: ID | null;
  timelines: Record<ID, Timeline>;
  threads: Record<ID, Thread>;
  openThreadId: ID | null;
  /** conversation → user → time (ms) their typing indicator expires. */
  typing: Record<ID, Record<ID, number>>;
  presence: Record<ID, boolean>;
  users: Record<ID, User>;
  members: Record<ID, Member[]>;
  /** conversation → its pinned messages, newest pin first (once loaded). */
  pins: Record<ID, Pin[]>;
}

export interface ConversationActions {
  reset(me: ID | null): void;
  loadList(): Promise<void>;
  open(id: ID | null): Promise<void>;
  loadOlder(id: ID): Promise<void>;
  /** Applies one cable event of a conversation channel (with or without seq). */
  receive(env: Envelope): void;
  /** After a (re)subscribe: fetches what the log has past the last applied seq. */
  catchUp(id: ID): Promise<void>;
  reload(id: ID): Promise<void>;
  /** Sends body (may be empty with attachments) and the uploaded files attachments. */
  send(id: ID, body: string, parentId?: ID | null, attachments?: Attachment[]): Promise<void>;
  retry(id: ID, clientMsgId: string, parentId?: ID | null): Promise<void>;
  edit(messageId: ID, body: string): Promise<string | null>;
  remove(messageId: ID): Promise<string | null>;
  react(conversationId: ID, messageId: ID, emoji: string): Promise<void>;
  markRead(id: ID): Promise<void>;
  readUpdated(conversationId: ID, lastReadId: ID): void;
  openThread(rootId: ID | null): Promise<void>;
  loadMembers(id: ID): Promise<void>;
  loadPins(id: ID): Promise<void>;
  /** The owner changes a member's role (owner hands ownership over); an error's text, or null. */
  changeRole(conversationId: ID, userId: ID, role: Role): Promise<string | null>;
  /** Pins the message, or unpins it when pinned; an error's text, or null. */
  togglePin(conversationId: ID, messageId: ID): Promise<string | null>;
  ensureUsers(ids: ID[]): void;
  setPresence(users: { id: ID; online: boolean }[]): void;
  /** A person changed their profile (user.updated): every place showing them follows. */
  userUpdated(u: User): void;
  typingSeen(conversationId: ID, userId: ID): void;
  expireTyping(now: number): void;
  leave(id: ID): Promise<string | null>;
  join(id: ID): Promise<string | null>;
  create(input: { kind: "channel" | "group" | "dm"; name?: string; member_ids?: ID[] }): Promise<{ id?: ID; error?: string; field?: string }>;
  upsertCall(c: Call): void;
  /** Merges a conversation the api answered (archive, unarchive), keeping the list's live fields. */
  merge(c: Conversation): void;
  searchUsers(query: string): Promise<User[]>;
  browseChannels(query: string): Promise<ChannelListing[]>;
  /** The last seq applied for a conversation (null: no baseline yet). For tests and diagnostics. */
  lastSeq(id: ID): number | null;
}

export type ConversationStore = ConversationState & ConversationActions;

interface SyncState {
  lastSeq: number | null;
  syncing: boolean;
  again: boolean;
  /** A new baseline is wanted (reload, 410) before the log is read again. */
  rebase: boolean;
  running: Promise<void> | null;
  /** Live events that arrived during a fill or past a gap, applied in seq order after it. */
  buffer: Envelope[];
}

const TYPING_TTL_MS = 4000;
const initial = (me: ID | null): ConversationState => ({
  me, conversations: {}, listLoaded: false, activeId: null, timelines: {}, threads: {}, openThreadId: null,
  typing: {}, presence: {}, users: {}, members: {}, pins: {},
});

const newTimeline = (): Timeline => ({ ...emptyList(), loaded: false, olderCursor: null, loadingOlder: false, calls: {} });

const CALL_RANK: Record<string, number> = { calling: 0, ringing: 1, active: 2, ended: 3, declined: 3, missed: 3 };

/** Newest activity first. */
export function sortedConversations(cs: Record<ID, Conversation>): Conversation[] {
  return Object.values(cs).sort((a, b) => {
    const x = a.last_activity_at ?? a.created_at;
    const y = b.last_activity_at ?? b.created_at;
    return x < y ? 1 : x > y ? -1 : cmpId(b.id, a.id);
  });
}

/** The name a person sees for a conversation (a DM: the other person). */
export function conversationTitle(c: Conversation, users: Record<ID, User>, me: ID | null): string {
  if (c.kind !== "dm") return c.name ?? "(unnamed)";
  const other = (c.dm_user_ids ?? []).find((u) => u !== me) ?? c.dm_user_ids?.[0];
  const u = other ? users[other] : undefined;
  return u ? u.display_name || u.username : "Direct message";
}

export function dmPeer(c: Conversation | undefined, me: ID | null): ID | undefined {
  if (!c || c.kind !== "dm") return undefined;
  return (c.dm_user_ids ?? []).find((u) => u !== me);
}

export function createConversationStore(api: ConversationApi) {
  const sync = new Map<ID, SyncState>();
  const usersInFlight = new Set<ID>();
  const marking = new Map<ID, ID>();
  const syncOf = (id: ID): SyncState => {
    let s = sync.get(id);
    if (!s) sync.set(id, (s = { lastSeq: null, syncing: false, again: false, rebase: false, running: null, buffer: [] }));
    return s;
  };

  return createStore<ConversationStore>()((set, get) => {
    /** Applies a log event's effects on the state (no seq bookkeeping). */
    const apply = (env: Envelope) => {
      const cid = env.conversation_id;
      if (!cid) return;
      const me = get().me;
      switch (env.type) {
        case "message.created": {
          const m = env.data as Message;
          set((s) => {
            const out: Partial<ConversationState> = {};
            const conv = s.conversations[cid];
            if (m.parent_id) {
              const th = s.threads[m.parent_id];
              if (th) out.threads = { ...s.threads, [m.parent_id]: { ...upsert(th, m), loaded: th.loaded } };
              const tl = s.timelines[cid];
              if (tl?.byId[m.parent_id]) {
                out.timelines = {
                  ...s.timelines,
                  [cid]: { ...tl, ...updateMessage(tl, m.parent_id, (r) => ({ ...r, reply_count: r.reply_count + 1, last_reply_at: m.created_at })) },
                };
              }
              return out;
            }
            const tl = s.timelines[cid];
            if (tl?.loaded) out.timelines = { ...s.timelines, [cid]: { ...tl, ...upsert(tl, m) } };
            if (conv) {
              const mine = m.user_id === me;
              const reading = s.activeId === cid && typeof document !== "undefined" && document.visibilityState === "visible";
              out.conversations = {
                ...s.conversations,
                [cid]: {
                  ...conv,
                  last_message: m,
                  last_activity_at: !conv.last_activity_at || conv.last_activity_at < m.created_at ? m.created_at : conv.last_activity_at,
                  unread_count: mine || reading ? conv.unread_count ?? 0 : (conv.unread_count ?? 0) + 1,
                  mention_count: (conv.mention_count ?? 0) + (!mine && !reading && concerns(m.mentions, me) ? 1 : 0),
                },
              };
            }
            if (m.user_id && s.typing[cid]?.[m.user_id]) {
              const t = { ...s.typing[cid] };
              delete t[m.user_id];
              out.typing = { ...s.typing, [cid]: t };
            }
            return out;
          });
          if (m.user_id) get().ensureUsers([m.user_id]);
          return;
        }
        case "message.updated":
        case "message.deleted": {
          const m = env.data as Message;
          set((s) => {
            const out: Partial<ConversationState> = {};
            const tl = s.timelines[cid];
            if (tl) out.timelines = { ...s.timelines, [cid]: { ...tl, ...replaceIfPresent(tl, m) } };
            if (m.parent_id && s.threads[m.parent_id]) {
              const th = s.threads[m.parent_id]!;
              out.threads = { ...s.threads, [m.parent_id]: { ...th, ...replaceIfPresent(th, m) } };
            }
            if (env.type === "message.deleted" && s.threads[m.id]) {
              // A deleted root keeps its thread; the panel shows its tombstone.
            }
            const pins = s.pins[cid];
            if (pins) out.pins = { ...s.pins, [cid]: pinnedMessageChanged(pins, m) };
            return out;
          });
          return;
        }
        case "reaction.added":
        case "reaction.removed": {
          applyReaction(cid, env.data as ReactionChange, env.type === "reaction.added");
          return;
        }
        case "member.joined":
        case "member.left": {
          const mb = env.data as Member;
          if (env.type === "member.left" && mb.user_id === me) {
            dropConversation(cid);
            return;
          }
          set((s) => {
            const list = s.members[cid];
            const out: Partial<ConversationState> = {};
            if (list) {
              const rest = list.filter((x) => x.user_id !== mb.user_id);
              out.members = { ...s.members, [cid]: env.type === "member.joined" ? [...rest, mb] : rest };
            }
            const conv = s.conversations[cid];
            if (conv) {
              const delta = env.type === "member.joined" ? (list?.some((x) => x.user_id === mb.user_id) ? 0 : 1) : list && !list.some((x) => x.user_id === mb.user_id) ? 0 : -1;
              out.conversations = { ...s.conversations, [cid]: { ...conv, member_count: Math.max(0, conv.member_count + delta) } };
            }
            return out;
          });
          if (env.type === "member.joined") get().ensureUsers([mb.user_id]);
          return;
        }
        case "member.updated": {
          roleChanged(cid, env.data as Member);
          return;
        }
        case "conversation.updated":
        case "conversation.archived":
        case "conversation.unarchived": {
          const c = env.data as Conversation;
          set((s) => {
            const conv = s.conversations[cid];
            if (!conv) return {};
            return { conversations: { ...s.conversations, [cid]: { ...conv, ...c, unread_count: conv.unread_count, mention_count: conv.mention_count, last_message: conv.last_message, last_activity_at: conv.last_activity_at, role: conv.role } } };
          });
          return;
        }
        case "pin.added":
        case "pin.removed": {
          const p = env.data as Pin;
          const pins = get().pins[cid];
          if (!pins) return; // read in full when the conversation opens
          if (env.type === "pin.removed") {
            set((s) => ({ pins: { ...s.pins, [cid]: dropPin(s.pins[cid] ?? [], p.message_id) } }));
            return;
          }
          const m = findMessage(cid, p.message_id);
          if (m) set((s) => ({ pins: { ...s.pins, [cid]: addPin(s.pins[cid] ?? [], { ...p, message: m }) } }));
          else void get().loadPins(cid); // a message not loaded here: the list brings it
          return;
        }
        default:
          if (env.type.startsWith("call.")) get().upsertCall(env.data as Call);
      }
    };

    /** Follows a member's new role: the members list, and one's own role in the conversation. */
    const roleChanged = (cid: ID, mb: Member) =>
      set((s) => {
        const out: Partial<ConversationState> = {};
        const list = s.members[cid];
        if (list) out.members = { ...s.members, [cid]: list.map((x) => (x.user_id === mb.user_id ? { ...x, role: mb.role } : x)) };
        const conv = s.conversations[cid];
        if (conv && mb.user_id === s.me) out.conversations = { ...s.conversations, [cid]: { ...conv, role: mb.role } };
        return out;
      });

    /** A message of the conversation's timeline or of an open thread. */
    const findMessage = (cid: ID, mid: ID): Message | undefined =>
      get().timelines[cid]?.byId[mid] ?? Object.values(get().threads).find((t) => t.byId[mid])?.byId[mid];

    const applyReaction = (cid: ID, rc: ReactionChange, added: boolean) => {
      const mine = rc.user_id === get().me ? added : undefined;
      const fn = (m: Message) => setReaction(m, rc.emoji, rc.count, mine);
      set((s) => {
        const out: Partial<ConversationState> = {};
        const tl = s.timelines[cid];
        if (tl?.byId[rc.message_id]) out.timelines = { ...s.timelines, [cid]: { ...tl, ...updateMessage(tl, rc.message_id, fn) } };
        for (const [root, th] of Object.entries(s.threads)) {
          if (th.byId[rc.message_id]) out.threads = { ...s.threads, [root]: { ...th, ...updateMessage(th, rc.message_id, fn) } };
        }
        return out;
      });
    };

    const dropConversation = (cid: ID) => {
      sync.delete(cid);
      set((s) => {
        const conversations = { ...s.conversations };
        delete conversations[cid];
        const timelines = { ...s.timelines };
        delete timelines[cid];
        return { conversations, timelines, activeId: s.activeId === cid ? null : s.activeId };
      });
    };

    /** Applies env if it is the next seq; reports what it did. */
    const step = (st: SyncState, env: Envelope): "applied" | "dup" | "gap" => {
      const seq = env.seq!;
      if (st.lastSeq !== null && seq <= st.lastSeq) return "dup";
      if (st.lastSeq !== null && seq > st.lastSeq + 1) return "gap";
      apply(env);
      st.lastSeq = seq;
      return "applied";
    };

    /** Applies buffered events that now follow on; true if a gap remains. */
    const drain = (st: SyncState): boolean => {
      st.buffer.sort((a, b) => a.seq! - b.seq!);
      while (st.buffer.length) {
        const env = st.buffer[0]!;
        if (step(st, env) === "gap") return true;
        st.buffer.shift();
      }
      return false;
    };

    /** Refetches the conversation (and, when its timeline is shown, its newest page) for a new baseline. */
    const baseline = async (id: ID, st: SyncState) => {
      const withMessages = get().activeId === id || !!get().timelines[id]?.loaded;
      const conv = await api.getConversation(id);
      const page = withMessages ? await api.listMessages(id) : null;
      set((s) => {
        const out: Partial<ConversationState> = { conversations: { ...s.conversations, [id]: { ...s.conversations[id], ...conv } } };
        if (page) {
          const prev = s.timelines[id];
          out.timelines = {
            ...s.timelines,
            [id]: { ...newTimeline(), ...mergePage(emptyList(), page.items), pending: prev?.pending ?? [], calls: prev?.calls ?? {}, loaded: true, olderCursor: page.next_cursor },
          };
        }
        return out;
      });
      st.lastSeq = conv.last_seq ?? 0;
      st.buffer = st.buffer.filter((e) => e.seq! > st.lastSeq!);
      const users = new Set<ID>(conv.dm_user_ids ?? []);
      for (const m of page?.items ?? []) if (m.user_id) users.add(m.user_id);
      get().ensureUsers([...users]);
    };

    /**
     * Fills from the log until no gap is left; a 410 turns into a new
     * baseline. One fill runs per conversation; a call while it runs asks it
     * for one more round and shares its promise.
     */
    const fill = (id: ID): Promise<void> => {
      const st = syncOf(id);
      if (st.running) {
        st.again = true;
        return st.running;
      }
      st.syncing = true;
      st.running = (async () => {
        try {
          for (let round = 0; round < 50; round++) {
            st.again = false;
            if (st.rebase || st.lastSeq === null) {
              st.rebase = false;
              await baseline(id, st);
            }
            try {
              for (;;) {
                const page = await api.replayEvents(id, st.lastSeq!);
                for (const env of page.items) step(st, env);
                if (!page.next_cursor || page.items.length === 0) break;
              }
            } catch (err) {
              if (api.problemOf(err)?.status !== 410) throw err;
              st.rebase = true; // resync_required: reload from the REST resources
              continue;
            }
            if (!drain(st) && !st.again) return;
          }
        } finally {
          st.syncing = false;
          st.running = null;
        }
      })();
      return st.running;
    };

    const doSend = async (id: ID, clientMsgId: string, body: string, parentId: ID | null, attachments: Attachment[] = []) => {
      const patchList = (fn: (l: MessageList) => MessageList) =>
        set((s) => {
          if (parentId) {
            const th = s.threads[parentId] ?? { ...emptyList(), loaded: false };
            return { threads: { ...s.threads, [parentId]: { ...th, ...fn(th) } } };
          }
          const tl = s.timelines[id] ?? newTimeline();
          return { timelines: { ...s.timelines, [id]: { ...tl, ...fn(tl) } } };
        });
      try {
        const m = await api.sendMessage(id, {
          body, client_msg_id: clientMsgId, ...(parentId ? { parent_id: parentId } : {}),
          ...(attachments.length ? { attachment_ids: attachments.map((a) => a.id) } : {}),
        });
        patchList((l) => upsert(l, { ...m, client_msg_id: clientMsgId }));
        set((s) => {
          const conv = s.conversations[id];
          if (!conv || parentId) return {};
          const at = conv.last_activity_at && conv.last_activity_at > m.created_at ? conv.last_activity_at : m.created_at;
          return { conversations: { ...s.conversations, [id]: { ...conv, last_activity_at: at, last_message: m } } };
        });
      } catch (err) {
        patchList((l) => (hasClientMsg(l, clientMsgId) ? l : setPending(l, clientMsgId, { state: "failed", error: api.errorText(err) })));
      }
    };

    return {
      ...initial(null),

      reset(me) {
        sync.clear();
        usersInFlight.clear();
        marking.clear();
        set({ ...initial(me) });
      },

      lastSeq: (id) => sync.get(id)?.lastSeq ?? null,

      async loadList() {
        const items: Conversation[] = [];
        let cursor: string | undefined;
        for (let i = 0; i < 10; i++) {
          const page = await api.listConversations(cursor);
          items.push(...page.items);
          if (!page.next_cursor) break;
          cursor = page.next_cursor;
        }
        set((s) => {
          const conversations: Record<ID, Conversation> = {};
          for (const c of items) {
            const prev = s.conversations[c.id];
            // Live events keep a known conversation current; the list only adds and renames.
            conversations[c.id] = prev && sync.get(c.id)?.lastSeq != null ? { ...c, unread_count: prev.unread_count, mention_count: prev.mention_count, last_message: prev.last_message, last_activity_at: prev.last_activity_at } : c;
          }
          return { conversations, listLoaded: true };
        });
        const users = new Set<ID>();
        for (const c of items) for (const u of c.dm_user_ids ?? []) users.add(u);
        get().ensureUsers([...users]);
      },

      async open(id) {
        set({ activeId: id, openThreadId: null });
        if (!id) return;
        const tl = get().timelines[id];
        if (tl?.loaded) return;
        try {
          await get().reload(id);
          void get().loadPins(id);
          const conv = get().conversations[id];
          if (conv?.kind === "dm") {
            const h = await api.callHistory(id);
            for (const c of h.items) get().upsertCall(c);
          }
        } catch (err) {
          set((s) => ({ timelines: { ...s.timelines, [id]: { ...(s.timelines[id] ?? newTimeline()), error: api.errorText(err) } } }));
        }
      },

      async reload(id) {
        // fill() takes a new baseline first; a running fill does so on its next round.
        syncOf(id).rebase = true;
        await fill(id);
      },

      async catchUp(id) {
        try {
          await fill(id);
        } catch {
          // Network trouble: the next reconnect or gap tries again.
        }
      },

      async loadOlder(id) {
        const tl = get().timelines[id];
        if (!tl?.loaded || !tl.olderCursor || tl.loadingOlder) return;
        set((s) => ({ timelines: { ...s.timelines, [id]: { ...s.timelines[id]!, loadingOlder: true } } }));
        try {
          const page = await api.listMessages(id, tl.olderCursor);
          set((s) => {
            const cur = s.timelines[id]!;
            return { timelines: { ...s.timelines, [id]: { ...cur, ...mergePage(cur, page.items), olderCursor: page.next_cursor, loadingOlder: false } } };
          });
          get().ensureUsers(page.items.flatMap((m) => (m.user_id ? [m.user_id] : [])));
        } catch {
          set((s) => ({ timelines: { ...s.timelines, [id]: { ...s.timelines[id]!, loadingOlder: false } } }));
        }
      },

      receive(env) {
        const cid = env.conversation_id;
        if (env.type === "typing") {
          if (cid) get().typingSeen(cid, (env.data as { user_id: ID }).user_id);
          return;
        }
        if (!cid || typeof env.seq !== "number") {
          apply(env);
          return;
        }
        const st = syncOf(cid);
        if (st.syncing || st.lastSeq === null) {
          if (!st.buffer.some((e) => e.seq === env.seq)) st.buffer.push(env);
          if (!st.syncing) void get().catchUp(cid);
          return;
        }
        if (step(st, env) === "gap") {
          if (!st.buffer.some((e) => e.seq === env.seq)) st.buffer.push(env);
          void get().catchUp(cid);
        }
      },

      async send(id, body, parentId = null, attachments = []) {
        const text = body.trim();
        if (!text && !attachments.length) return;
        const clientMsgId = newClientMsgId();
        const p = { clientMsgId, conversationId: id, parentId, body: text, attachments, createdAt: new Date().toISOString(), state: "pending" as const };
        set((s) => {
          if (parentId) {
            const th = s.threads[parentId] ?? { ...emptyList(), loaded: false };
            return { threads: { ...s.threads, [parentId]: { ...th, ...addPending(th, p) } } };
          }
          const tl = s.timelines[id] ?? newTimeline();
          return { timelines: { ...s.timelines, [id]: { ...tl, ...addPending(tl, p) } } };
        });
        await doSend(id, clientMsgId, text, parentId, attachments);
      },

      async retry(id, clientMsgId, parentId = null) {
        const s = get();
        const list: MessageList | undefined = parentId ? s.threads[parentId] : s.timelines[id];
        const p = list?.pending.find((x) => x.clientMsgId === clientMsgId);
        if (!p || p.state === "pending") return;
        set((st) => {
          if (parentId) {
            const th = st.threads[parentId]!;
            return { threads: { ...st.threads, [parentId]: { ...th, ...setPending(th, clientMsgId, { state: "pending", error: undefined }) } } };
          }
          const tl = st.timelines[id]!;
          return { timelines: { ...st.timelines, [id]: { ...tl, ...setPending(tl, clientMsgId, { state: "pending", error: undefined }) } } };
        });
        await doSend(id, clientMsgId, p.body, parentId, p.attachments);
      },

      async edit(messageId, body) {
        try {
          const m = await api.editMessage(messageId, body);
          set((s) => {
            const out: Partial<ConversationState> = {};
            const tl = s.timelines[m.conversation_id];
            if (tl) out.timelines = { ...s.timelines, [m.conversation_id]: { ...tl, ...replaceIfPresent(tl, m) } };
            if (m.parent_id && s.threads[m.parent_id]) {
              const th = s.threads[m.parent_id]!;
              out.threads = { ...s.threads, [m.parent_id]: { ...th, ...replaceIfPresent(th, m) } };
            }
            return out;
          });
          return null;
        } catch (err) {
          return api.errorText(err);
        }
      },

      async remove(messageId) {
        try {
          await api.deleteMessage(messageId);
          return null;
        } catch (err) {
          return api.errorText(err);
        }
      },

      async react(conversationId, messageId, emoji) {
        const s = get();
        const m = findMessage(conversationId, messageId);
        const mine = m?.reactions.find((r) => r.emoji === emoji)?.me === true;
        try {
          if (mine) {
            await api.removeReaction(messageId, emoji);
            const cur = m?.reactions.find((r) => r.emoji === emoji)?.count ?? 1;
            // The removal's event brings the authoritative total; until then, one less.
            applyReaction(conversationId, { message_id: messageId, emoji, user_id: s.me ?? "", count: cur - 1 }, false);
          } else {
            const rc = await api.addReaction(messageId, emoji);
            applyReaction(conversationId, rc, true);
          }
        } catch {
          // Nothing changed; the chip shows the server's state.
        }
      },

      async markRead(id) {
        const s = get();
        const tl = s.timelines[id];
        const conv = s.conversations[id];
        if (!tl?.loaded || !conv) return;
        const newest = tl.ids[tl.ids.length - 1];
        if (!newest) return;
        const last = conv.last_read_message_id;
        if ((last && cmpId(newest, last) <= 0 && !conv.unread_count) || marking.get(id) === newest) return;
        marking.set(id, newest);
        try {
          const r = await api.markRead(id, newest);
          set((st) => {
            const c = st.conversations[id];
            if (!c) return {};
            return { conversations: { ...st.conversations, [id]: { ...c, last_read_message_id: r.last_read_message_id, unread_count: r.unread_count, mention_count: r.mention_count ?? 0 } } };
          });
        } catch {
          marking.delete(id);
        }
      },

      readUpdated(conversationId, lastReadId) {
        set((s) => {
          const c = s.conversations[conversationId];
          if (!c) return {};
          const caughtUp = !c.last_message || cmpId(lastReadId, c.last_message.id) >= 0;
          return { conversations: { ...s.conversations, [conversationId]: { ...c, last_read_message_id: lastReadId, unread_count: caughtUp ? 0 : c.unread_count, mention_count: caughtUp ? 0 : c.mention_count } } };
        });
      },

      async openThread(rootId) {
        set({ openThreadId: rootId });
        if (!rootId) return;
        try {
          let after: ID | undefined;
          let th: Thread = get().threads[rootId] ?? { ...emptyList(), loaded: false };
          for (let i = 0; i < 20; i++) {
            const page = await api.listReplies(rootId, after);
            th = { ...th, ...mergePage(th, page.items) };
            if (!page.next_cursor) break;
            after = page.next_cursor;
          }
          const cur = get().threads[rootId];
          // Live replies that arrived meanwhile are kept (merge, not replace).
          const merged = cur ? { ...cur, ...mergePage(cur, th.ids.map((i) => th.byId[i]!)) } : th;
          set((s) => ({ threads: { ...s.threads, [rootId]: { ...merged, loaded: true } } }));
          get().ensureUsers(th.ids.flatMap((i) => (th.byId[i]?.user_id ? [th.byId[i]!.user_id!] : [])));
        } catch {
          set((s) => ({ threads: { ...s.threads, [rootId]: { ...(s.threads[rootId] ?? emptyList()), loaded: true } } }));
        }
      },

      async loadMembers(id) {
        try {
          const items: Member[] = [];
          let cursor: string | undefined;
          for (let i = 0; i < 10; i++) {
            const page = await api.listMembers(id, cursor);
            items.push(...page.items);
            if (!page.next_cursor) break;
            cursor = page.next_cursor;
          }
          set((s) => {
            const users = { ...s.users };
            for (const m of items) if (m.user) users[m.user_id] = m.user;
            return { members: { ...s.members, [id]: items }, users };
          });
        } catch {
          // The panel shows what it has.
        }
      },

      async loadPins(id) {
        try {
          const page = await api.listPins(id);
          set((s) => ({ pins: { ...s.pins, [id]: page.items } }));
          get().ensureUsers(page.items.flatMap((p) => [p.pinned_by, ...(p.message?.user_id ? [p.message.user_id] : [])]));
        } catch {
          // The pins panel shows what it has.
        }
      },

      async changeRole(conversationId, userId, role) {
        try {
          const m = await api.changeMemberRole(conversationId, userId, role);
          roleChanged(conversationId, m);
          // A handover made the owner an admin; its event brings that too.
          if (role === "owner" && get().me) roleChanged(conversationId, { user_id: get().me!, role: "admin" });
          return null;
        } catch (err) {
          return api.errorText(err);
        }
      },

      async togglePin(conversationId, messageId) {
        const pinned = get().pins[conversationId]?.some((p) => p.message_id === messageId);
        try {
          if (pinned) {
            await api.unpinMessage(messageId);
            set((s) => ({ pins: { ...s.pins, [conversationId]: dropPin(s.pins[conversationId] ?? [], messageId) } }));
          } else {
            const p = await api.pinMessage(messageId);
            const m = findMessage(conversationId, messageId);
            if (m) set((s) => ({ pins: { ...s.pins, [conversationId]: addPin(s.pins[conversationId] ?? [], { ...p, message: m }) } }));
          }
          return null;
        } catch (err) {
          return api.errorText(err);
        }
      },

      ensureUsers(ids) {
        const known = get().users;
        for (const uid of new Set(ids)) {
          if (!uid || known[uid] || usersInFlight.has(uid)) continue;
          usersInFlight.add(uid);
          api
            .getUser(uid)
            .then((u) => set((s) => ({ users: { ...s.users, [u.id]: u } })))
            .catch(() => undefined)
            .finally(() => usersInFlight.delete(uid));
        }
      },

      userUpdated(u) {
        set((s) => {
          const members: Record<ID, Member[]> = {};
          for (const [cid, ms] of Object.entries(s.members)) {
            members[cid] = ms.some((m) => m.user_id === u.id) ? ms.map((m) => (m.user_id === u.id ? { ...m, user: u } : m)) : ms;
          }
          return { users: { ...s.users, [u.id]: { ...s.users[u.id], ...u } }, members };
        });
      },

      setPresence(users) {
        set((s) => {
          const presence = { ...s.presence };
          for (const u of users) presence[u.id] = u.online;
          return { presence };
        });
      },

      typingSeen(conversationId, userId) {
        if (userId === get().me) return; // never show a person their own typing
        set((s) => ({ typing: { ...s.typing, [conversationId]: { ...s.typing[conversationId], [userId]: Date.now() + TYPING_TTL_MS } } }));
        get().ensureUsers([userId]);
      },

      expireTyping(now) {
        const t = get().typing;
        let changed = false;
        const next: Record<ID, Record<ID, number>> = {};
        for (const [cid, us] of Object.entries(t)) {
          const keep: Record<ID, number> = {};
          for (const [u, exp] of Object.entries(us)) {
            if (exp > now) keep[u] = exp;
            else changed = true;
          }
          next[cid] = keep;
        }
        if (changed) set({ typing: next });
      },

      async leave(id) {
        try {
          await api.leaveConversation(id);
          dropConversation(id);
          return null;
        } catch (err) {
          return api.errorText(err);
        }
      },

      async join(id) {
        try {
          await api.joinChannel(id);
          const conv = await api.getConversation(id);
          set((s) => ({ conversations: { ...s.conversations, [id]: conv } }));
          return null;
        } catch (err) {
          return api.errorText(err);
        }
      },

      async create(input) {
        try {
          // A channel takes no member_ids: its first members are added after it exists.
          const extra = input.kind === "channel" ? input.member_ids ?? [] : [];
          const c = await api.createConversation(input.kind === "channel" ? { kind: "channel", name: input.name } : input);
          await Promise.all(extra.map((u) => api.addMember(c.id, u).catch(() => undefined)));
          set((s) => ({ conversations: { ...s.conversations, [c.id]: { ...s.conversations[c.id], ...c } } }));
          get().ensureUsers(c.dm_user_ids ?? []);
          return { id: c.id };
        } catch (err) {
          const p = api.problemOf(err);
          return { error: api.errorText(err), field: p?.field };
        }
      },

      async searchUsers(query) {
        const q = query.trim().toLowerCase();
        if (!q) return [];
        const page = await api.searchUsers(q);
        set((s) => {
          const users = { ...s.users };
          for (const u of page.items) users[u.id] = u;
          return { users };
        });
        return page.items;
      },

      async browseChannels(query) {
        return (await api.browseChannels(query.trim().toLowerCase())).items;
      },

      merge(c) {
        set((s) => {
          const conv = s.conversations[c.id];
          if (!conv) return {};
          return { conversations: { ...s.conversations, [c.id]: { ...conv, ...c, unread_count: conv.unread_count, mention_count: conv.mention_count, last_message: conv.last_message, last_activity_at: conv.last_activity_at } } };
        });
      },

      upsertCall(c) {
        set((s) => {
          const tl = s.timelines[c.conversation_id] ?? newTimeline();
          const prev = tl.calls[c.id];
          if (prev && (CALL_RANK[prev.status] ?? 0) > (CALL_RANK[c.status] ?? 0)) return {};
          return { timelines: { ...s.timelines, [c.conversation_id]: { ...tl, calls: { ...tl.calls, [c.id]: c } } } };
        });
      },
    };
  });
}

/** A client_msg_id: printable ASCII, unique per send, reused by its retries. */
export function newClientMsgId(): string {
  if (typeof crypto !== "undefined" && "randomUUID" in crypto) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
