-- The economy, zone runs, station AI messages, idempotency keys, trading
-- lobbies and trades (issue 5).
--
-- Same portable rules as the accounts migration: TEXT ids (UUIDv7), BIGINT
-- money, counts and millisecond timestamps, no booleans (nullable timestamps
-- instead). The SQLite twin of this file must stay column-for-column
-- identical; only the floating-point type is spelled differently.
--
-- Every balance (credits, items per kind, upgrade levels) is changed by
-- exactly one code path (`economy::account::save`), which also writes the
-- ledger rows of the change in the same transaction. `backend audit` checks
-- that the ledger sums equal these balances for every player.

-- One row per user, created on the first economy request (with an `opening`
-- ledger row for the starting credits). Deleted with the account.
CREATE TABLE players (
    user_id                 TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Never negative: the game rules refuse the operation first; the CHECK is
    -- the last line of defence if a bug slipped past them.
    credits                 BIGINT NOT NULL CHECK (credits >= 0),
    -- Upgrade levels, one column per upgrade id of the catalog (the six ids
    -- are code in the `game` crate, their numbers are data). Zone access is
    -- derived from `zone_access`, so it is not stored.
    speed_boost             BIGINT NOT NULL DEFAULT 0 CHECK (speed_boost >= 0),
    inventory_expansion     BIGINT NOT NULL DEFAULT 0 CHECK (inventory_expansion >= 0),
    collection_efficiency   BIGINT NOT NULL DEFAULT 0 CHECK (collection_efficiency >= 0),
    cargo_magnet            BIGINT NOT NULL DEFAULT 0 CHECK (cargo_magnet >= 0),
    zone_access             BIGINT NOT NULL DEFAULT 0 CHECK (zone_access >= 0),
    debris_scanner          BIGINT NOT NULL DEFAULT 0 CHECK (debris_scanner >= 0),
    -- Lifetime statistics (game::economy::PlayerStats): the API's `stats`
    -- plus what milestones need to tell "first X" apart.
    debris_collected        BIGINT NOT NULL DEFAULT 0,
    credits_earned          BIGINT NOT NULL DEFAULT 0,
    trades_completed        BIGINT NOT NULL DEFAULT 0,
    sales_completed         BIGINT NOT NULL DEFAULT 0,
    upgrades_purchased      BIGINT NOT NULL DEFAULT 0,
    legendary_found         BIGINT NOT NULL DEFAULT 0,
    lobbies_joined          BIGINT NOT NULL DEFAULT 0,
    -- +1 on every change. Writes are `... WHERE version = <read version>`,
    -- so a write based on a stale read changes nothing and fails loudly
    -- (belt and braces behind the row lock); clients drop older answers.
    version                 BIGINT NOT NULL DEFAULT 0,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
);

-- The hold: one row per (player, debris kind) with a non-zero count. Kinds
-- are catalog ids (data, so designers can add one without a migration).
CREATE TABLE player_items (
    user_id TEXT NOT NULL REFERENCES players (user_id) ON DELETE CASCADE,
    kind    TEXT NOT NULL,
    -- Zero counts are deleted rather than stored, so "what is in the hold"
    -- is simply every row.
    count   BIGINT NOT NULL CHECK (count > 0),
    PRIMARY KEY (user_id, kind)
);

-- Append-only ledger: one row per asset changed by an economic event.
-- sum(delta) per (player, asset) must equal the live balance.
CREATE TABLE ledger (
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
CREATE INDEX ledger_user_asset_idx ON ledger (user_id, asset);
CREATE INDEX ledger_entry_idx ON ledger (entry_id);

-- Zone runs: the seed the debris field of the run is generated from.
CREATE TABLE runs (
    id           TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT NOT NULL REFERENCES players (user_id) ON DELETE CASCADE,
    zone         BIGINT NOT NULL,
    -- A u64 does not fit a signed BIGINT, and the API sends it as a decimal
    -- string anyway.
    seed         TEXT NOT NULL,
    -- The server's run clock starts here; collection claims are judged
    -- against it (`too_early`).
    started_at   BIGINT NOT NULL,
    -- When this run's "hold full" message was recorded: it fires once per
    -- run, not once per collect request.
    hold_full_at BIGINT
);
CREATE INDEX runs_user_idx ON runs (user_id, started_at);

-- Pieces accepted in a run. The primary key is what makes a piece
-- impossible to collect twice, even by two requests racing each other.
CREATE TABLE run_pieces (
    run_id       TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    debris_index BIGINT NOT NULL,
    -- Claimed time on the run clock, s: later claims are checked for
    -- plausibility against it.
    claimed_at   DOUBLE PRECISION NOT NULL,
    kind         TEXT NOT NULL,
    collected_at BIGINT NOT NULL,
    PRIMARY KEY (run_id, debris_index)
);

-- Station AI messages a player has unlocked. The primary key makes a
-- one-shot message impossible to unlock twice; `hold_full` (once per run)
-- re-arms its row: unlocked_at moves forward and seen_at is cleared.
CREATE TABLE player_messages (
    user_id     TEXT NOT NULL REFERENCES players (user_id) ON DELETE CASCADE,
    -- Catalog message id.
    message_id  TEXT NOT NULL,
    unlocked_at BIGINT NOT NULL,
    seen_at     BIGINT,
    PRIMARY KEY (user_id, message_id)
);

-- Idempotency-Key: the first response of a mutating request, stored in the
-- same transaction as its effect, so a replay (a retry after a lost answer)
-- returns it and changes nothing. The row is inserted first in the
-- transaction: a concurrent request with the same key waits on it (and then
-- replays) instead of running the effect a second time.
CREATE TABLE idempotency_keys (
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    idem_key     TEXT NOT NULL,
    -- SHA-256 of method, path and canonical body: the same key with another
    -- request is refused (422) instead of silently answering the old one.
    request_hash TEXT NOT NULL,
    status       BIGINT NOT NULL,
    body         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);
-- Pruning of keys older than the retention window.
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- Trading lobbies. State lives here, not in a replica's memory, so any
-- replica can serve any room.
CREATE TABLE lobbies (
    -- 6 characters from ABCDEFGHJKLMNPQRSTUVWXYZ23456789 (no 0/O, 1/I).
    code       TEXT PRIMARY KEY NOT NULL,
    -- From the catalog when created, so retuning does not shrink live rooms.
    capacity   BIGINT NOT NULL CHECK (capacity > 0),
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE lobby_members (
    lobby_code TEXT NOT NULL REFERENCES lobbies (code) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES players (user_id) ON DELETE CASCADE,
    joined_at  BIGINT NOT NULL,
    PRIMARY KEY (lobby_code, user_id)
);
CREATE INDEX lobby_members_user_idx ON lobby_members (user_id);

-- Trade offers. Nothing is held in escrow: both sides are checked again at
-- accept, under row locks, and the swap is all or nothing.
CREATE TABLE trades (
    id          TEXT PRIMARY KEY NOT NULL,
    lobby_code  TEXT NOT NULL REFERENCES lobbies (code) ON DELETE CASCADE,
    from_user   TEXT NOT NULL REFERENCES players (user_id) ON DELETE CASCADE,
    to_user     TEXT NOT NULL REFERENCES players (user_id) ON DELETE CASCADE,
    -- JSON of game::TradeBundle (`{"credits","items","upgrades"}`).
    give        TEXT NOT NULL,
    want        TEXT NOT NULL,
    -- Every transition is `UPDATE ... WHERE status = 'pending'`, so two
    -- racing accepts (or an accept and a cancel) cannot both win.
    status      TEXT NOT NULL
                CHECK (status IN ('pending', 'completed', 'declined', 'cancelled', 'expired')),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    resolved_at BIGINT
);
-- "At most 5 pending offers per player" and the lists of a player's trades.
CREATE INDEX trades_from_idx ON trades (from_user, status);
CREATE INDEX trades_to_idx ON trades (to_user, status);
-- The expiry sweep.
CREATE INDEX trades_pending_expiry_idx ON trades (status, expires_at);
