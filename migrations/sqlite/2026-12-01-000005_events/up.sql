-- The platform's event feed (issue #13): one row per change to an org's directory, written in the change's
-- own transaction. SQLite has one writer and its transactions commit in the order they began writing, so the
-- feed's `position` is the row's `seq` itself (AUTOINCREMENT: never reused, even after retention deletes).
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    type        TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    data        TEXT NOT NULL,
    position    BIGINT GENERATED ALWAYS AS (seq) VIRTUAL
);
CREATE INDEX events_position ON events (position);
CREATE INDEX events_org_position ON events (org_id, position);

-- The platform's API keys (`scimd api-key`): bearer credentials for the platform API (`/api/v1/events`),
-- stored as their SHA-256 only, like SCIM tokens. A key bound to an org sees that org only; an unbound key
-- sees every org.
CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    org_id     TEXT REFERENCES organizations (id) ON DELETE CASCADE,
    key_hash   BLOB NOT NULL UNIQUE,
    hint       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
