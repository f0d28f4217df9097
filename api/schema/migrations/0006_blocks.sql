-- Blocks (api/block): blocker_id blocks blocked_id. The blocker's list is
-- read by the primary key; the refusals ask "does the target block the
-- caller?", the primary key too (blocker = the target).
CREATE TABLE blocks (
  blocker_id  bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  blocked_id  bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL,
  PRIMARY KEY (blocker_id, blocked_id),
  CHECK (blocker_id <> blocked_id)
);
