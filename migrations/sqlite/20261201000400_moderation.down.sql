-- Reverts 20261201000400_moderation. Fails while the ledger holds
-- `adjustment` rows (the CHECK refuses them on the copy).
CREATE TABLE ledger_new (
    -- UUIDv7: ordered by time of writing.
    id            TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES players (user_id) ON DELETE CASCADE,
    -- Groups the rows of one event (a sale is a credits row plus one row per
    -- kind sold; a trade writes rows for both players under one entry id).
    entry_id      TEXT NOT NULL,
    reason        TEXT NOT NULL
                  CHECK (reason IN ('opening', 'collect', 'sell', 'purchase', 'trade')),
    -- What caused it: the run id, the upgrade id, the trade id.
    reference     TEXT,
    -- `credits`, `item:<debris id>` or `upgrade:<upgrade id>`.
    asset         TEXT NOT NULL,
    delta         BIGINT NOT NULL CHECK (delta <> 0),
    -- The balance of this asset right after the change: lets an auditor see
    -- where a sum first went wrong without replaying everything.
    balance_after BIGINT NOT NULL CHECK (balance_after >= 0),
    created_at    BIGINT NOT NULL
);
INSERT INTO ledger_new (id, user_id, entry_id, reason, reference, asset, delta, balance_after, created_at)
    SELECT id, user_id, entry_id, reason, reference, asset, delta, balance_after, created_at FROM ledger;
DROP TABLE ledger;
ALTER TABLE ledger_new RENAME TO ledger;
CREATE INDEX ledger_user_asset_idx ON ledger (user_id, asset);
CREATE INDEX ledger_entry_idx ON ledger (entry_id);
ALTER TABLE users DROP COLUMN suspended_by;
ALTER TABLE users DROP COLUMN suspension_reason;
ALTER TABLE users DROP COLUMN suspended_until;
ALTER TABLE users DROP COLUMN suspended_at;
ALTER TABLE users DROP COLUMN role;
