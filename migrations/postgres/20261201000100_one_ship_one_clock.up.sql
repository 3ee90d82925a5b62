-- One ship, one clock (issue 16): a run ends, docks are claimed and judged,
-- and the audit can tell a trade whose partner deleted the account from an
-- invented one.

-- When the run ended: the player started another run (the previous one ends
-- then) or, at the latest, the client's offline horizon passed
-- (game::verify::RUN_HORIZON_SECONDS; the server reads the horizon from the
-- start, so a run never ended by a later one has NULL here). Claims of an
-- ended run count only up to its end, so two runs' times never overlap.
ALTER TABLE runs ADD COLUMN ended_at BIGINT;

-- Runs open before this migration: each ends when the player's next run
-- started, so at most one stays open per player.
UPDATE runs SET ended_at = (
    SELECT MIN(later.started_at) FROM runs later
    WHERE later.user_id = runs.user_id
      AND (later.started_at > runs.started_at
           OR (later.started_at = runs.started_at AND later.id > runs.id))
)
WHERE ended_at IS NULL AND EXISTS (
    SELECT 1 FROM runs later
    WHERE later.user_id = runs.user_id
      AND (later.started_at > runs.started_at
           OR (later.started_at = runs.started_at AND later.id > runs.id))
);

-- At most one active run per player, whatever a racing request does.
CREATE UNIQUE INDEX runs_one_active_idx ON runs (user_id) WHERE ended_at IS NULL;

-- Accepted dock claims (a sale or a purchase needs one): the ship was within
-- docking range of hub `hub` (index in the zone's hubs) at `claimed_at` on
-- the run clock. Like accepted pieces, they bound where the ship can have
-- been before and after.
CREATE TABLE run_docks (
    run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    hub        BIGINT NOT NULL CHECK (hub >= 0),
    claimed_at DOUBLE PRECISION NOT NULL,
    docked_at  BIGINT NOT NULL,
    PRIMARY KEY (run_id, hub, claimed_at)
);

-- Completed trades whose partner deleted the account: the trade row went
-- with the account (ON DELETE CASCADE), the survivor's half of the ledger
-- entry stays. The audit accepts a one-sided trade entry only for these.
CREATE TABLE retired_trades (
    trade_id   TEXT PRIMARY KEY NOT NULL,
    retired_at BIGINT NOT NULL
);
