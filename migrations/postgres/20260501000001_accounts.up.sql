-- Accounts, sessions and the security bookkeeping around them (issue 4).
--
-- Portable on purpose: the backend talks to SQLite and PostgreSQL through one
-- code base (sqlx's `Any` driver), so every column is TEXT or BIGINT and every
-- timestamp is BIGINT milliseconds since the Unix epoch (UTC). The SQLite
-- twin of this file must stay column-for-column identical.

-- One row per account. Ids are UUIDv7 strings: unguessable, and sortable by
-- creation time without an extra index.
CREATE TABLE users (
    id                TEXT PRIMARY KEY NOT NULL,
    -- Stored lower-cased by the `Email` domain type, so the unique index below
    -- is case-insensitive without a collation that SQLite and PostgreSQL spell
    -- differently.
    email             TEXT NOT NULL,
    -- Kept as the player typed it (shown in lobbies); uniqueness ignores case.
    username          TEXT NOT NULL,
    -- argon2id PHC string (algorithm, parameters and salt included), so the
    -- cost can be raised later and old hashes still verify.
    password_hash     TEXT NOT NULL,
    -- NULL until the player proves they own the address. Changing the email
    -- resets it.
    email_verified_at BIGINT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
-- Named indexes: the HTTP layer maps a unique violation to 409 by looking for
-- "email" or "username" in the constraint name (PostgreSQL) or in the message
-- (SQLite, which names the index or column there).
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));

-- A session is one login on one device, and it is also the refresh-token
-- "family": every rotated refresh token of a login points at the same row.
-- Revoking the row (logout, reuse detection, password reset) kills the refresh
-- tokens and, because every authenticated request checks it, the access tokens
-- carrying its id at once.
CREATE TABLE sessions (
    id             TEXT PRIMARY KEY NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- What the player sees in the sessions list; truncated, never trusted.
    user_agent     TEXT,
    ip             TEXT,
    created_at     BIGINT NOT NULL,
    last_used_at   BIGINT NOT NULL,
    -- Expiry of the newest refresh token: slides forward on every rotation.
    expires_at     BIGINT NOT NULL,
    revoked_at     BIGINT,
    -- logout, logout_all, revoked, refresh_reuse, password_reset, password_changed
    revoked_reason TEXT
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);

-- Opaque refresh tokens. Only the SHA-256 of a token is stored, so a leaked
-- database cannot be replayed against the API.
CREATE TABLE refresh_tokens (
    token_hash       TEXT PRIMARY KEY NOT NULL,
    session_id       TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    issued_at        BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    -- Microseconds, set when the token is rotated out, as late as possible
    -- before the commit. A second request for the same token that arrived
    -- before this instant was racing the first one (two tabs, a retry) and
    -- gets the same successor; one that arrives after it is a replay and
    -- revokes the family.
    rotated_at_us    BIGINT,
    successor_hash   TEXT,
    -- The successor token XOR SHA-256(domain tag || this token): only someone
    -- holding this token can recover the successor, which lets a racing
    -- request receive the same successor without storing it in clear.
    successor_sealed TEXT
);
CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);

-- Single-use tokens sent by mail: email verification and password reset.
-- Hashed like refresh tokens.
CREATE TABLE account_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('verify_email', 'password_reset')),
    -- The address the mail went to: a verification token only verifies that
    -- address, so changing the email in between makes it worthless.
    email      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX account_tokens_user_idx ON account_tokens (user_id, purpose);

-- Failed-login counters for the lockout. The subject is `user:<id>` for a
-- known account and `login:<sha256 of the normalised login>` for an unknown
-- one, so unknown names lock out exactly like real ones (no enumeration) and
-- a password typed into the login field is never stored.
CREATE TABLE login_throttle (
    subject      TEXT PRIMARY KEY NOT NULL,
    failures     BIGINT NOT NULL,
    locked_until BIGINT,
    updated_at   BIGINT NOT NULL
);

-- Security-relevant events. No foreign key: rows outlive the account they
-- describe, anonymised (ip and detail cleared) when the account is deleted.
-- Never holds a password, token or hash.
CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY NOT NULL,
    occurred_at BIGINT NOT NULL,
    user_id     TEXT,
    event       TEXT NOT NULL,
    ip          TEXT,
    -- Small JSON object with non-secret context (e.g. which session).
    detail      TEXT
);
CREATE INDEX audit_log_user_idx ON audit_log (user_id, occurred_at);
CREATE INDEX audit_log_event_idx ON audit_log (event, occurred_at);

-- Development mailer: with no SMTP server configured, mail lands here and the
-- developer reads it with `backend outbox`. Production uses SMTP.
CREATE TABLE dev_outbox (
    id         TEXT PRIMARY KEY NOT NULL,
    to_address TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX dev_outbox_to_idx ON dev_outbox (to_address, created_at);
