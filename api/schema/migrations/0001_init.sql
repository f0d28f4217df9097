-- Chatterly's schema. ids are 64-bit and time-ordered (shared/id): the high
-- bits are milliseconds since 2024-01-01, so messages and conversation_events
-- are range-partitioned by id, one partition a month, and a lookup by id
-- prunes to one partition.

-- chatterly_id_floor(ts) is the smallest id made at ts; it mirrors id.Floor.
CREATE FUNCTION chatterly_id_floor(ts timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT greatest(0, (floor(extract(epoch FROM ts) * 1000)::bigint - 1704067200000)) << 22
$$;

-- Node ids for the id generators of processes that write Postgres.
CREATE SEQUENCE node_ids;

-- chatterly_ensure_partitions makes the monthly partitions of parent for the
-- months from first_month on, count of them, and returns how many it made.
-- Rows that landed in the default partition (the safety net) for a month are
-- moved into that month's new partition.
CREATE FUNCTION chatterly_ensure_partitions(parent text, first_month timestamptz, count int)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  m timestamptz := date_trunc('month', first_month AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
  made int := 0;
  part text;
  lo bigint;
  hi bigint;
BEGIN
  FOR i IN 1..count LOOP
    part := format('%s_%s', parent, to_char(m AT TIME ZONE 'UTC', 'YYYY_MM'));
    lo := chatterly_id_floor(m);
    hi := chatterly_id_floor(m + interval '1 month');
    IF to_regclass(part) IS NULL THEN
      EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part, parent);
      EXECUTE format('WITH moved AS (DELETE FROM %I WHERE id >= %s AND id < %s RETURNING *) INSERT INTO %I SELECT * FROM moved',
                     parent || '_default', lo, hi, part);
      EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%s) TO (%s)', parent, part, lo, hi);
      made := made + 1;
    END IF;
    m := m + interval '1 month';
  END LOOP;
  RETURN made;
END
$$;

CREATE TABLE users (
  id             bigint PRIMARY KEY,
  email          text NOT NULL,
  username       text NOT NULL,
  display_name   text NOT NULL,
  password_hash  text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE UNIQUE INDEX users_username_key ON users (username);
CREATE INDEX users_username_prefix ON users (username text_pattern_ops);
CREATE INDEX users_display_name_prefix ON users (lower(display_name) text_pattern_ops);

-- A session is one refresh-token family; its id is the "sid" of every access
-- token issued in it.
CREATE TABLE auth_sessions (
  id             bigint PRIMARY KEY,
  user_id        bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at     timestamptz NOT NULL DEFAULT now(),
  last_used_at   timestamptz NOT NULL DEFAULT now(),
  expires_at     timestamptz NOT NULL,
  -- when the last access token issued in this session expires
  access_until   timestamptz NOT NULL,
  revoked_at     timestamptz,
  revoked_reason text
);
CREATE INDEX auth_sessions_live ON auth_sessions (user_id) WHERE revoked_at IS NULL;

-- Refresh tokens, stored as SHA-256 hashes. The current one of a family has
-- rotated_at NULL; presenting a rotated one again is reuse and revokes the
-- whole family.
CREATE TABLE refresh_tokens (
  hash        bytea PRIMARY KEY,
  session_id  bigint NOT NULL REFERENCES auth_sessions (id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  rotated_at  timestamptz
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE conversations (
  id               bigint PRIMARY KEY,
  kind             text NOT NULL CHECK (kind IN ('channel', 'group', 'dm')),
  name             text,
  topic            text NOT NULL DEFAULT '',
  -- "<lower user id>:<higher user id>" for a DM: a pair has one DM.
  dm_key           text UNIQUE,
  created_by       bigint NOT NULL REFERENCES users (id),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  -- the seq of the newest event of this conversation's log; the row lock
  -- taken to bump it is what makes seq gap-free and unique.
  last_seq         bigint NOT NULL DEFAULT 0,
  last_message_id  bigint,
  last_activity_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind = 'dm') = (dm_key IS NOT NULL)),
  CHECK (kind = 'dm' OR name IS NOT NULL)
);
CREATE UNIQUE INDEX conversations_channel_name ON conversations (name) WHERE kind = 'channel';
CREATE INDEX conversations_channels ON conversations (name text_pattern_ops) WHERE kind = 'channel';

CREATE TABLE memberships (
  conversation_id       bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  user_id               bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role                  text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  joined_at             timestamptz NOT NULL DEFAULT now(),
  last_read_message_id  bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id, conversation_id);

CREATE TABLE messages (
  id               bigint NOT NULL,
  conversation_id  bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  user_id          bigint NOT NULL REFERENCES users (id),
  parent_id        bigint,
  body             text,
  reply_count      integer NOT NULL DEFAULT 0,
  last_reply_at    timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  edited_at        timestamptz,
  deleted_at       timestamptz,
  PRIMARY KEY (id)
) PARTITION BY RANGE (id);
CREATE INDEX messages_conversation ON messages (conversation_id, id);
CREATE INDEX messages_thread ON messages (parent_id, id) WHERE parent_id IS NOT NULL;
CREATE TABLE messages_default PARTITION OF messages DEFAULT;

-- Idempotency keys of message sends (unpartitioned: a unique index on a
-- partitioned table must include the partition key).
CREATE TABLE message_idempotency (
  user_id        bigint NOT NULL,
  client_msg_id  text NOT NULL,
  message_id     bigint NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, client_msg_id)
);
CREATE INDEX message_idempotency_age ON message_idempotency (created_at);

-- One reaction per (message, user, emoji). No foreign key to messages: that
-- would pin messages' partitions (upkeep moves rows between them).
CREATE TABLE reactions (
  message_id  bigint NOT NULL,
  user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  emoji       text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (message_id, user_id, emoji)
);

CREATE TABLE call_sessions (
  id               bigint PRIMARY KEY,
  conversation_id  bigint NOT NULL REFERENCES conversations (id),
  caller_id        bigint NOT NULL REFERENCES users (id),
  callee_id        bigint NOT NULL REFERENCES users (id),
  media            text NOT NULL CHECK (media IN ('audio', 'video')),
  status           text NOT NULL CHECK (status IN ('calling', 'ringing', 'active', 'ended', 'declined', 'missed')),
  created_at       timestamptz NOT NULL DEFAULT now(),
  ringing_at       timestamptz,
  accepted_at      timestamptz,
  declined_at      timestamptz,
  missed_at        timestamptz,
  ended_at         timestamptz,
  ended_by         bigint REFERENCES users (id)
);
CREATE INDEX call_sessions_conversation ON call_sessions (conversation_id, id);
CREATE INDEX call_sessions_live_caller ON call_sessions (caller_id) WHERE status IN ('calling', 'ringing', 'active');
CREATE INDEX call_sessions_live_callee ON call_sessions (callee_id) WHERE status IN ('calling', 'ringing', 'active');

-- The outbox and replay log. (conversation_id, seq) is unique by
-- construction (seq comes from conversations.last_seq under its row lock);
-- an index cannot enforce it because unique indexes on a partitioned table
-- must include the partition key.
CREATE TABLE conversation_events (
  id               bigint NOT NULL,
  conversation_id  bigint NOT NULL,
  seq              bigint NOT NULL,
  type             text NOT NULL,
  -- the whole envelope as published
  envelope         jsonb NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  published_at     timestamptz,
  PRIMARY KEY (id)
) PARTITION BY RANGE (id);
CREATE INDEX conversation_events_seq ON conversation_events (conversation_id, seq);
CREATE INDEX conversation_events_unpublished ON conversation_events (id) WHERE published_at IS NULL;
CREATE TABLE conversation_events_default PARTITION OF conversation_events DEFAULT;

SELECT chatterly_ensure_partitions('messages', now(), 4);
SELECT chatterly_ensure_partitions('conversation_events', now(), 4);
