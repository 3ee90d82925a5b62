DROP TABLE oauth_grants;
DROP TABLE oauth_flows;
DROP TABLE oauth_accounts;
