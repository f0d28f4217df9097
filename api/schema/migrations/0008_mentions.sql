-- Mentions and notifications (api/mention) and archived conversations.

-- A message's structured mentions, as the send parsed them from its body:
-- {"users":[{"id","username"}],"channel":bool,"here":bool}; NULL when it has
-- none (most messages), which costs nothing in the row.
ALTER TABLE messages ADD COLUMN mentions jsonb;
-- The conversation list's mention counts read a conversation's newest
-- mentioning messages by this index, which holds only those.
CREATE INDEX messages_mentions ON messages (conversation_id, id) WHERE mentions IS NOT NULL;

-- Each member's notification settings for one conversation: the level
-- (all: mentions, DMs and replies to their threads; mentions: not replies;
-- none: nothing) and a mute that ends by itself.
ALTER TABLE memberships
  ADD COLUMN notify_level text NOT NULL DEFAULT 'all' CHECK (notify_level IN ('all', 'mentions', 'none')),
  ADD COLUMN muted_until timestamptz;

-- An archived channel or group is read-only until it is unarchived.
ALTER TABLE conversations ADD COLUMN archived_at timestamptz;

-- chatterly_refuse_archived raises the error (SQLSTATE CH409) the event
-- log's insert turns a write to an archived conversation into: it runs
-- under the conversation row's lock (api/eventlog), so a write racing the
-- archive either commits before it or is refused.
CREATE FUNCTION chatterly_refuse_archived(c bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'conversation % is archived', c USING ERRCODE = 'CH409';
END
$$;
