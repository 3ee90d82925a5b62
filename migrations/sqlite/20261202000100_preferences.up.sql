-- Preferences a player keeps across devices (game::account::Preferences as JSON;
-- fields left out take their defaults).
ALTER TABLE users ADD COLUMN preferences TEXT NOT NULL DEFAULT '{}';
