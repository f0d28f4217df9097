-- Pinned messages of a conversation (api/pin): one pin per message, listed
-- newest first by id (drawn when pinned). No foreign key to messages: that
-- would pin messages' partitions (upkeep moves rows between them), as for
-- reactions.
CREATE TABLE pins (
  id               bigint NOT NULL,
  conversation_id  bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  message_id       bigint PRIMARY KEY,
  pinned_by        bigint NOT NULL REFERENCES users (id),
  pinned_at        timestamptz NOT NULL
);
CREATE INDEX pins_conversation ON pins (conversation_id, id);

-- Each person's saved messages (api/saved), listed newest save first.
CREATE TABLE saved_messages (
  id               bigint NOT NULL,
  user_id          bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  message_id       bigint NOT NULL,
  conversation_id  bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  saved_at         timestamptz NOT NULL,
  PRIMARY KEY (user_id, message_id)
);
CREATE INDEX saved_messages_newest ON saved_messages (user_id, id);
