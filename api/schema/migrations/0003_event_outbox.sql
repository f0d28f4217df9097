-- The publishing outbox: one small row per committed event that is not yet
-- known to be on its stream, written in the event's own statement and
-- deleted, in batches, once the event is appended. It replaces marking the
-- event row itself (published_at), which made every event a second,
-- non-HOT version of its whole envelope with new entries in every index of
-- the log: about a quarter of the WAL and of Postgres's CPU per message.
-- The log's rows are now written once.
CREATE TABLE event_outbox (
  conversation_id  bigint NOT NULL,
  seq              bigint NOT NULL,
  -- the event's id (time-ordered): the relay's grace period and retention
  event_id         bigint NOT NULL,
  PRIMARY KEY (conversation_id, seq)
);

INSERT INTO event_outbox (conversation_id, seq, event_id)
SELECT conversation_id, seq, id FROM conversation_events WHERE published_at IS NULL;

DROP INDEX conversation_events_unpublished_seq;
DROP INDEX conversation_events_unpublished;
ALTER TABLE conversation_events DROP COLUMN published_at;
