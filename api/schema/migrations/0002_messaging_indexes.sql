-- Indexes of the messaging issue (conversations, messages, the event log).

-- The publisher's seed and the relay's gap fill look up a conversation's
-- events not yet marked published, by seq; this index holds only those, so
-- it stays small however long the log grows.
CREATE INDEX conversation_events_unpublished_seq ON conversation_events (conversation_id, seq)
  WHERE published_at IS NULL;

-- A conversation's timeline lists top-level messages only (replies are read
-- by thread), newest first, keyset on id.
CREATE INDEX messages_timeline ON messages (conversation_id, id) WHERE parent_id IS NULL;
