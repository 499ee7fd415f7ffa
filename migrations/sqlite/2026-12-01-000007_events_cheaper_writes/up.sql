-- Cheaper event writes on SQLite, where every page a commit touches is written to the WAL and synced:
-- - an event's position is its rowid (`seq`): the feed reads filter and order on `seq` itself, so the index
--   of the generated `position` column goes;
-- - the org index is on `org_id` alone: SQLite appends the rowid to every index, so it is `(org_id, seq)`;
-- - `id` is not indexed: nothing looks an event up by id, and ids are UUIDv7 (time and 74 random bits),
--   unique by construction. Dropping SQLite's automatic index of a UNIQUE column takes a new table.
CREATE TABLE events_new (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL,
    org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    type        TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    data        TEXT NOT NULL,
    position    BIGINT GENERATED ALWAYS AS (seq) VIRTUAL
);
INSERT INTO events_new (seq, id, org_id, type, occurred_at, data)
    SELECT seq, id, org_id, type, occurred_at, data FROM events ORDER BY seq;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_org ON events (org_id);
