-- The hand-off of a SAML sign-in (review 3, L-6). The IdP's POST to the ACS is cross-site, so the browser does
-- not send its SameSite=Lax session cookie with it and the ACS cannot end the browser's previous session. The
-- ACS therefore verifies the response and records the completed sign-in here, then sends the browser on to
-- GET /sso/{org}/complete, which carries the session cookie: that request consumes the hand-off, ends the
-- previous session and opens the new one. `id` is the SHA-256 of the token in that URL, `browser_hash` the
-- SHA-256 of the binding cookie set with it; single use (`consumed_at`), two minutes, purged with the pending
-- sign-ins.
CREATE TABLE sso_handoffs (
    id                BYTEA PRIMARY KEY NOT NULL,
    org_id            TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    member_id         TEXT NOT NULL,
    method            TEXT NOT NULL,
    browser_hash      BYTEA NOT NULL,
    return_to         TEXT NOT NULL,
    session_not_after TIMESTAMP,
    created_at        TIMESTAMP NOT NULL,
    expires_at        TIMESTAMP NOT NULL,
    consumed_at       TIMESTAMP
);
CREATE INDEX sso_handoffs_expires ON sso_handoffs (expires_at);
