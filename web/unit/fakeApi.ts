// An in-memory stand-in for the REST api's conversation routes, with a real
// event log (gap-free seqs, replay pages, retention that answers 410) and
// idempotent sends by client_msg_id, so the store's recovery paths run
// against the documented behaviour. It is our own api's contract, not a
// database or Redis stand-in.
import type { ConversationApi } from "../src/state/conversationStore";
import type { Conversation, Envelope, Message, Page, Pin, Problem, ReactionChange } from "../src/lib/types";

export class ApiProblem extends Error {
  constructor(public problem: Problem) {
    super(problem.detail);
  }
}

export class FakeServer {
  conv: Conversation = {
    id: "100", kind: "group", name: "team", topic: "", created_by: "1", created_at: "2026-01-01T00:00:00.000Z",
    updated_at: "2026-01-01T00:00:00.000Z", member_count: 2, unread_count: 0, last_activity_at: "2026-01-01T00:00:00.000Z",
  };
  messages: Message[] = [];
  log: Envelope[] = [];
  /** Events at or below this seq are trimmed: replaying them answers 410. */
  trimmedThrough = 0;
  sendFails = 0;
  private nextId = 1000;
  private keys = new Map<string, Message>();
  calls: Record<string, number> = {};
  /** The conversation's pins as GET /conversations/:id/pins lists them. */
  pins: Pin[] = [];

  private count(name: string) {
    this.calls[name] = (this.calls[name] ?? 0) + 1;
  }

  /** Commits a message by `user` and returns its event (not yet delivered). */
  post(user: string, body: string, clientMsgId?: string, parentId: string | null = null): Envelope {
    const m: Message = {
      id: String(this.nextId++), conversation_id: this.conv.id, user_id: user, parent_id: parentId, body, reply_count: 0,
      last_reply_at: null, created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, this.nextId % 60)).toISOString(), edited_at: null,
      deleted_at: null, reactions: [], ...(clientMsgId ? { client_msg_id: clientMsgId } : {}),
    };
    if (clientMsgId) this.keys.set(clientMsgId, m);
    this.messages.push(m);
    return this.emit("message.created", m);
  }

  react(user: string, messageId: string, emoji: string, added: boolean): Envelope {
    const m = this.messages.find((x) => x.id === messageId)!;
    const r = m.reactions.find((x) => x.emoji === emoji);
    const count = (r?.count ?? 0) + (added ? 1 : -1);
    m.reactions = count > 0 ? [...m.reactions.filter((x) => x.emoji !== emoji), { emoji, count }] : m.reactions.filter((x) => x.emoji !== emoji);
    const data: ReactionChange = { message_id: messageId, emoji, user_id: user, count };
    return this.emit(added ? "reaction.added" : "reaction.removed", data);
  }

  emit(type: string, data: unknown): Envelope {
    const env: Envelope = { type, conversation_id: this.conv.id, seq: this.log.length + 1, at: new Date().toISOString(), data: structuredClone(data) };
    this.log.push(env);
    return env;
  }

  api(): ConversationApi {
    const notImplemented = () => Promise.reject(new Error("not used by these tests"));
    const api: ConversationApi = {
      problemOf: (err: unknown) => (err instanceof ApiProblem ? err.problem : null),
      errorText: (err: unknown) => (err instanceof Error ? err.message : String(err)),
      getConversation: async () => {
        this.count("getConversation");
        return { ...this.conv, last_seq: this.log.length };
      },
      listMessages: async (): Promise<Page<Message>> => {
        this.count("listMessages");
        const top = this.messages.filter((m) => !m.parent_id).reverse();
        return { items: structuredClone(top.slice(0, 50)), next_cursor: top.length > 50 ? top[49]!.id : null };
      },
      replayEvents: async (_id: string, after: number): Promise<Page<Envelope>> => {
        this.count("replayEvents");
        if (after < this.trimmedThrough) {
          throw new ApiProblem({ status: 410, code: "resync_required", detail: "reload" });
        }
        const items = this.log.filter((e) => e.seq! > after).slice(0, 2);
        const last = items[items.length - 1];
        return { items: structuredClone(items), next_cursor: last && last.seq! < this.log.length ? String(last.seq) : null };
      },
      sendMessage: async (_id: string, b: { body: string; parent_id?: string; client_msg_id: string }) => {
        this.count("sendMessage");
        if (this.sendFails > 0) {
          this.sendFails--;
          throw new Error("Cannot reach the server.");
        }
        const prior = this.keys.get(b.client_msg_id);
        if (prior) return structuredClone(prior);
        const env = this.post("me", b.body, b.client_msg_id, b.parent_id ?? null);
        return structuredClone(env.data as Message);
      },
      addReaction: async (id: string, emoji: string) => this.react("me", id, emoji, true).data as ReactionChange,
      listConversations: notImplemented, editMessage: notImplemented, deleteMessage: notImplemented, listReplies: notImplemented,
      removeReaction: notImplemented, markRead: notImplemented, listMembers: notImplemented,
      getUser: async (id: string) => ({ id, username: `u${id}`, display_name: `User ${id}`, created_at: "2026-01-01T00:00:00.000Z" }),
      leaveConversation: notImplemented, joinChannel: notImplemented, createConversation: notImplemented, callHistory: notImplemented,
      addMember: notImplemented, searchUsers: notImplemented, browseChannels: notImplemented,
      listPins: async () => ({ items: structuredClone(this.pins), next_cursor: null }),
      pinMessage: notImplemented, unpinMessage: notImplemented, changeMemberRole: notImplemented,
    };
    return api;
  }
}
