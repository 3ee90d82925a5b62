DROP INDEX lobby_members_seen_idx;
ALTER TABLE lobby_members DROP COLUMN seen_at;
