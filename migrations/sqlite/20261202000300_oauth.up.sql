-- Sign-in through a provider (Google, Discord).
--
-- oauth_accounts: one provider identity (provider, its subject) linked to
-- one account; an account has at most one link per provider.
CREATE TABLE oauth_accounts (
    provider   TEXT NOT NULL,
    subject    TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The address the provider gave when the link was made (informational).
    email      TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE UNIQUE INDEX oauth_accounts_user_id_provider_key ON oauth_accounts (user_id, provider);

-- A started sign-in, between the game opening the browser and the
-- provider's redirect: keyed by the hash of the state sent to the provider,
-- single use, ten minutes. The PKCE verifier and nonce live here (not in the
-- browser) so any replica can take the callback.
CREATE TABLE oauth_flows (
    state_hash       TEXT PRIMARY KEY,
    provider         TEXT NOT NULL,
    pkce_verifier    TEXT NOT NULL,
    nonce            TEXT NOT NULL,
    redirect_uri     TEXT NOT NULL,
    client_state     TEXT NOT NULL,
    client_challenge TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL
);
CREATE INDEX oauth_flows_expires_idx ON oauth_flows (expires_at);

-- What a checked provider answer grants: a one-time code handed to the
-- game's loopback listener (kind 'code', bound to the game's PKCE
-- challenge), or a ticket for the step still missing (kind 'ticket':
-- choose a username, or prove the account owning the address). Keyed by
-- the hash of the code or ticket.
CREATE TABLE oauth_grants (
    token_hash       TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    provider         TEXT NOT NULL,
    subject          TEXT NOT NULL,
    email            TEXT,
    email_verified   BIGINT NOT NULL,
    name             TEXT,
    client_challenge TEXT,
    user_id          TEXT REFERENCES users (id) ON DELETE CASCADE,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL
);
CREATE INDEX oauth_grants_expires_idx ON oauth_grants (expires_at);
