-- Reverts 20260501000001_accounts: drops everything it created, children first.
DROP TABLE IF EXISTS dev_outbox;
DROP TABLE IF EXISTS audit_log;
DROP TABLE IF EXISTS login_throttle;
DROP TABLE IF EXISTS account_tokens;
DROP TABLE IF EXISTS refresh_tokens;
DROP TABLE IF EXISTS sessions;
DROP TABLE IF EXISTS users;
