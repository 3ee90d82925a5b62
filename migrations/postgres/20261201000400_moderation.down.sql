-- Reverts 20261201000400_moderation. Fails while the ledger holds
-- `adjustment` rows (deleting them would break `backend audit`): revert
-- those by hand first if you really mean it.
ALTER TABLE ledger DROP CONSTRAINT ledger_reason_check;
ALTER TABLE ledger ADD CONSTRAINT ledger_reason_check
    CHECK (reason IN ('opening', 'collect', 'sell', 'purchase', 'trade'));
ALTER TABLE users DROP COLUMN suspended_by;
ALTER TABLE users DROP COLUMN suspension_reason;
ALTER TABLE users DROP COLUMN suspended_until;
ALTER TABLE users DROP COLUMN suspended_at;
ALTER TABLE users DROP COLUMN role;
