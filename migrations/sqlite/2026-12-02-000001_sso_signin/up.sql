-- Sign-in through the org's SSO connection (issue #14).
--
-- A pending sign-in: what /sso/{org}/start sent the browser to the IdP with. `id` is the SHA-256 of the
-- opaque RelayState (SAML) or `state` (OIDC) the browser carries back; `browser_hash` the SHA-256 of the
-- cookie set on the same browser, so a RelayState replayed from another browser does not match. Single use
-- (`consumed_at`), ten minutes. `request_id` is the SAML AuthnRequest ID (InResponseTo) or the OIDC nonce;
-- `secret_sealed` the OIDC PKCE verifier, encrypted under the server's secret key (it must be read back).
CREATE TABLE sso_pending_logins (
    id            BLOB PRIMARY KEY NOT NULL,
    org_id        TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    protocol      TEXT NOT NULL,
    request_id    TEXT NOT NULL,
    browser_hash  BLOB NOT NULL,
    secret_sealed BLOB,
    return_to     TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    expires_at    TIMESTAMP NOT NULL,
    consumed_at   TIMESTAMP
);
CREATE INDEX sso_pending_logins_expires ON sso_pending_logins (expires_at);

-- SAML assertion IDs already used to sign in, kept until the assertion could no longer be accepted
-- (sso.md S15): a second use of one is refused, across processes (the primary key decides).
CREATE TABLE sso_assertion_replays (
    org_id       TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    assertion_id TEXT NOT NULL,
    keep_until   TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, assertion_id)
);
CREATE INDEX sso_assertion_replays_keep_until ON sso_assertion_replays (keep_until);

