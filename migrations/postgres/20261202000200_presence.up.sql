-- When a member was last known present: joined, a socket of theirs opened,
-- beat or closed, or they offered a trade. Members not seen for the grace
-- period (LOBBY_PRESENCE_GRACE_SECS) are removed by the presence sweep.
ALTER TABLE lobby_members ADD COLUMN seen_at BIGINT NOT NULL DEFAULT 0;
UPDATE lobby_members SET seen_at = joined_at;
CREATE INDEX lobby_members_seen_idx ON lobby_members (seen_at);
