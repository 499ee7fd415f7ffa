DROP TABLE oauth_signing_keys;
DROP TABLE oauth_access_tokens;
DROP TABLE oauth_codes;
DROP TABLE oauth_clients;
