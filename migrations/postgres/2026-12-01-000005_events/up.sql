-- The platform's event feed (issue #13): one row per change to an org's directory, written in the change's
-- own transaction. `seq` is the order rows were written in; `position` is the feed's order, given by the
-- sequencer (`models::events::sequence`) only to rows whose transaction has committed, one batch at a time
-- under an advisory lock: positions are gapless and only ever grow, so a reader of `position > cursor`
-- never skips an event that commits late (a transaction that took seq 7 can commit after the one that took 8).
CREATE TABLE events (
    seq         BIGSERIAL PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    type        TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    data        TEXT NOT NULL,
    position    BIGINT UNIQUE
);
CREATE INDEX events_unpositioned ON events (seq) WHERE position IS NULL;
CREATE INDEX events_org_position ON events (org_id, position);

-- The platform's API keys (`scimd api-key`): bearer credentials for the platform API (`/api/v1/events`),
-- stored as their SHA-256 only, like SCIM tokens. A key bound to an org sees that org only; an unbound key
-- sees every org.
CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    org_id     TEXT REFERENCES organizations (id) ON DELETE CASCADE,
    key_hash   BYTEA NOT NULL UNIQUE,
    hint       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
