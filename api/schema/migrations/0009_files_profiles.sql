-- Files and images in messages (api/file) and profiles (PATCH /me).

-- An uploaded file: made pending by POST /files, complete once its bytes
-- were checked (size, sniffed type, image dimensions and variants), then
-- attached to at most one message, by its uploader, or made someone's
-- avatar. deleted_at is set with its message's deletion: from then on no
-- URL serves it, and its bytes are removed after the commit.
CREATE TABLE files (
  id               bigint PRIMARY KEY,
  uploader_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  purpose          text NOT NULL CHECK (purpose IN ('attachment', 'avatar')),
  name             text NOT NULL,
  size             bigint NOT NULL,
  -- content_type is the sniffed type, set when complete.
  content_type     text,
  width            int,
  height           int,
  thumbnail        boolean NOT NULL DEFAULT false,
  created_at       timestamptz NOT NULL,
  completed_at     timestamptz,
  -- Set by the send that attaches the file (no foreign key to messages,
  -- as for pins: it would pin messages' partitions).
  conversation_id  bigint REFERENCES conversations (id) ON DELETE CASCADE,
  message_id       bigint,
  deleted_at       timestamptz
);
CREATE INDEX files_message ON files (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX files_pending ON files (created_at) WHERE completed_at IS NULL;

-- A message's attachments as its readers render them (name, size, type,
-- dimensions, whether it has a thumbnail), copied from files at the send:
-- they never change, so the timeline reads them with the row, no join.
-- NULL for a message without attachments (most).
ALTER TABLE messages ADD COLUMN attachments jsonb;

-- chatterly_attach_files attaches files ids to message m of conversation c
-- for uploader u, or raises CH422 when any of them is not u's, not
-- complete, not an attachment or attached already. The send runs it in its
-- implicit transaction, so a send whose attachments cannot be claimed
-- commits nothing, and two sends racing for one file make one message.
CREATE FUNCTION chatterly_attach_files(m bigint, c bigint, u bigint, ids bigint[]) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE n int;
BEGIN
  UPDATE files SET message_id = m, conversation_id = c
   WHERE id = ANY(ids) AND uploader_id = u AND purpose = 'attachment'
     AND completed_at IS NOT NULL AND message_id IS NULL AND deleted_at IS NULL;
  GET DIAGNOSTICS n = ROW_COUNT;
  IF n <> cardinality(ids) THEN
    RAISE EXCEPTION 'files cannot be attached' USING ERRCODE = 'CH422';
  END IF;
  RETURN n;
END
$$;

-- Profiles: an avatar (a complete avatar file), a status (text and emoji,
-- cleared by itself after status_expires_at) and an IANA time zone.
ALTER TABLE users
  ADD COLUMN avatar_id bigint REFERENCES files (id) ON DELETE SET NULL,
  ADD COLUMN status_text text NOT NULL DEFAULT '',
  ADD COLUMN status_emoji text NOT NULL DEFAULT '',
  ADD COLUMN status_expires_at timestamptz,
  ADD COLUMN time_zone text NOT NULL DEFAULT '';
