-- scimd as an OpenID Provider for the platform ("Sign in with scimd", issue #14).
--
-- A registered client (`scimd oauth-client create`): its secret is kept as a SHA-256 hash only;
-- `redirect_uris` is a JSON array, matched exactly.
CREATE TABLE oauth_clients (
    id            TEXT PRIMARY KEY NOT NULL,
    name          TEXT NOT NULL,
    secret_hash   BYTEA NOT NULL,
    redirect_uris TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    revoked_at    TIMESTAMP
);

-- An authorization code (its SHA-256), single use, minutes long, tied to the admin session it was issued
-- from: a code is only as good as the session behind it.
CREATE TABLE oauth_codes (
    code_hash      BYTEA PRIMARY KEY NOT NULL,
    client_id      TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    org_id         TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    member_id      TEXT NOT NULL,
    session_id     TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    nonce          TEXT,
    scope          TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    expires_at     TIMESTAMP NOT NULL,
    used_at        TIMESTAMP
);
CREATE INDEX oauth_codes_expires ON oauth_codes (expires_at);

-- An access token (its SHA-256) for userinfo and introspection; it lives no longer than its session, and
-- is inactive the moment the session ends or the member is deprovisioned.
CREATE TABLE oauth_access_tokens (
    token_hash  BYTEA PRIMARY KEY NOT NULL,
    client_id   TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    member_id   TEXT NOT NULL,
    session_id  TEXT NOT NULL,
    scope       TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL
);
CREATE INDEX oauth_access_tokens_expires ON oauth_access_tokens (expires_at);

-- The ID token signing keys (Ed25519). The newest signs; every key not retired is in the JWKS, so a key
-- rotated out (`scimd oauth-key rotate`) still verifies the tokens it signed until it is retired.
-- `private_sealed` is the key encrypted under the server's secret key.
CREATE TABLE oauth_signing_keys (
    kid            TEXT PRIMARY KEY NOT NULL,
    private_sealed BYTEA NOT NULL,
    public_key     BYTEA NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    retired_at     TIMESTAMP
);
