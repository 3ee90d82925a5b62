-- Reverts 20261201000100_one_ship_one_clock: dock claims and the record of
-- retired trades are lost, runs forget when they ended.
DROP TABLE IF EXISTS retired_trades;
DROP TABLE IF EXISTS run_docks;
DROP INDEX IF EXISTS runs_one_active_idx;
ALTER TABLE runs DROP COLUMN ended_at;
