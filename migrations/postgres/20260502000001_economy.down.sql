-- Reverts 20260502000001_economy: drops everything it created, children
-- first. Balances, ledger, runs, lobbies and trades are lost: back up first.
DROP TABLE IF EXISTS trades;
DROP TABLE IF EXISTS lobby_members;
DROP TABLE IF EXISTS lobbies;
DROP TABLE IF EXISTS idempotency_keys;
DROP TABLE IF EXISTS player_messages;
DROP TABLE IF EXISTS run_pieces;
DROP TABLE IF EXISTS runs;
DROP TABLE IF EXISTS ledger;
DROP TABLE IF EXISTS player_items;
DROP TABLE IF EXISTS players;
