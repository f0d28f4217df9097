// Resource shapes of the api (api/openapi.yaml) and the cable envelopes
// (PROTOCOL.md). 64-bit ids are strings everywhere.

export type ID = string;

export interface User {
  id: ID;
  username: string;
  display_name: string;
  email?: string;
  created_at: string;
  /** Shown with GET /avatars/:avatar_id?size=64|256; null for none. */
  avatar_id?: ID | null;
  /** Null when none is set or it has expired. */
  status?: UserStatus | null;
  /** An IANA time zone name; "" when not set. */
  time_zone?: string;
}

export interface UserStatus {
  text: string;
  emoji: string;
  expires_at: string | null;
}

/** A file attached to a message (docs/protocol.md). */
export interface Attachment {
  id: ID;
  name: string;
  size: number;
  content_type: string;
  width?: number;
  height?: number;
  thumbnail: boolean;
}

/** An uploaded file as its uploader sees it. */
export interface UploadedFile {
  id: ID;
  purpose: "attachment" | "avatar";
  name: string;
  size: number;
  state: "pending" | "complete";
  content_type: string | null;
  width?: number;
  height?: number;
  thumbnail: boolean;
}

/** The answer of POST /files: the pending file and where its bytes go. */
export interface Upload {
  file: UploadedFile;
  upload_url: string;
  upload_method: "PUT";
  upload_headers: Record<string, string>;
  expires_at: string;
}

export interface Session {
  user: User;
  token: string;
  refresh_token?: string;
  expires_at: string;
}

export type Kind = "channel" | "group" | "dm";
export type Role = "owner" | "admin" | "member";

export interface Reaction {
  emoji: string;
  count: number;
  me?: boolean;
}

/** A message or, when deleted_at is set, its tombstone (body null, no author). */
export interface Message {
  id: ID;
  conversation_id: ID;
  user_id?: ID;
  parent_id: ID | null;
  body: string | null;
  reply_count: number;
  last_reply_at: string | null;
  created_at: string;
  edited_at?: string | null;
  deleted_at: string | null;
  reactions: Reaction[];
  /** Structured mentions; null (or absent on a tombstone) when none. */
  mentions?: Mentions | null;
  /** The files sent with it; [] (or absent on a tombstone) for none. */
  attachments?: Attachment[];
  client_msg_id?: string;
}

/** What a message's body mentions, parsed by the api on send and edit. */
export interface Mentions {
  users: { id: ID; username: string }[];
  channel: boolean;
  here: boolean;
}

export type NotifyLevel = "all" | "mentions" | "none";
export type NotificationReason = "mention" | "dm" | "reply" | "channel" | "here";

/** The data of notification.created (the person's own topic). */
export interface AppNotification {
  id: ID;
  reason: NotificationReason;
  conversation_id: ID;
  message: Message;
  created_at: string;
}

export interface NotificationSettings {
  conversation_id: ID;
  level: NotifyLevel;
  muted_until: string | null;
}

export interface Conversation {
  id: ID;
  kind: Kind;
  name: string | null;
  topic: string;
  created_by: ID;
  created_at: string;
  updated_at: string;
  member_count: number;
  /** Set while archived: read-only. */
  archived_at?: string | null;
  dm_user_ids?: ID[];
  role?: Role;
  last_read_message_id?: ID | null;
  unread_count?: number;
  mention_count?: number;
  notify_level?: NotifyLevel;
  muted_until?: string | null;
  last_activity_at?: string;
  last_message?: Message | null;
  last_seq?: number;
}

export interface ChannelListing extends Conversation {
  is_member: boolean;
}

export interface Member {
  user_id: ID;
  role: Role;
  joined_at?: string;
  user?: User;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export type CallStatus = "calling" | "ringing" | "active" | "ended" | "declined" | "missed";
export type Media = "audio" | "video";

export interface Call {
  id: ID;
  conversation_id: ID;
  caller_id: ID;
  callee_id: ID;
  media: Media;
  status: CallStatus;
  created_at: string;
  ringing_at?: string | null;
  accepted_at?: string | null;
  declined_at?: string | null;
  missed_at?: string | null;
  ended_at?: string | null;
  ended_by?: ID | null;
}

/** A pinned message; pin.added / pin.removed carry it without message. */
export interface Pin {
  conversation_id: ID;
  message_id: ID;
  pinned_by: ID;
  pinned_at: string;
  message?: Message;
}

/** One of the person's saved messages (GET /me/saved). */
export interface SavedMessage {
  message_id: ID;
  conversation_id: ID;
  saved_at: string;
  message: Message;
}

/** A piece of a search hit's snippet: text, and whether the query matched it. */
export interface SnippetSegment {
  text: string;
  match: boolean;
}

/** A message found by GET /search/messages. */
export interface SearchHit {
  message_id: ID;
  conversation_id: ID;
  rank: number;
  snippet: SnippetSegment[];
  message: Message;
}

/** A person one blocks (GET /me/blocks). */
export interface Block {
  user_id: ID;
  created_at: string;
  user: User;
}

/** A call in the person's own history (GET /calls without a conversation). */
export interface CallHistoryEntry extends Call {
  direction: "outgoing" | "incoming";
  peer: User;
  /** Whole seconds from the answer to the end; null when never answered or not over. */
  duration_seconds: number | null;
}

export interface ReactionChange {
  message_id: ID;
  emoji: string;
  user_id: ID;
  count: number;
}

export interface ReadState {
  conversation_id: ID;
  last_read_message_id: ID;
  unread_count: number;
  mention_count?: number;
}

/** One cable event. seq is set on a conversation log's events only. */
export interface Envelope<D = unknown> {
  type: string;
  conversation_id?: ID;
  seq?: number;
  at: string;
  data: D;
}

export interface Signal {
  call_id: ID;
  from: ID;
  kind: "offer" | "answer" | "ice";
  payload: unknown;
}

export interface Problem {
  type?: string;
  title?: string;
  status: number;
  code: string;
  detail: string;
  field?: string;
}
