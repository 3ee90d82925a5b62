-- Roles and moderation (issue 21).
--
-- `role`: what an account may do besides playing. Moderators and admins
-- reach the admin routes; only an admin grants `admin`.
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'player'
    CHECK (role IN ('player', 'moderator', 'admin'));
-- A suspension: set together, cleared together (lift). `suspended_until`
-- NULL with `suspended_at` set means until lifted. A suspended account
-- cannot sign in; its sessions were revoked when it was suspended.
ALTER TABLE users ADD COLUMN suspended_at BIGINT;
ALTER TABLE users ADD COLUMN suspended_until BIGINT;
ALTER TABLE users ADD COLUMN suspension_reason TEXT;
ALTER TABLE users ADD COLUMN suspended_by TEXT;

-- A credit adjustment by an operator is a ledger reason of its own, so
-- `backend audit` (ledger sums = balances) still holds after one.
ALTER TABLE ledger DROP CONSTRAINT ledger_reason_check;
ALTER TABLE ledger ADD CONSTRAINT ledger_reason_check
    CHECK (reason IN ('opening', 'collect', 'sell', 'purchase', 'trade', 'adjustment'));
