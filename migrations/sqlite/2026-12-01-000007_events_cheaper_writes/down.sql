CREATE TABLE events_old (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    type        TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    data        TEXT NOT NULL,
    position    BIGINT GENERATED ALWAYS AS (seq) VIRTUAL
);
INSERT INTO events_old (seq, id, org_id, type, occurred_at, data)
    SELECT seq, id, org_id, type, occurred_at, data FROM events ORDER BY seq;
DROP TABLE events;
ALTER TABLE events_old RENAME TO events;
CREATE INDEX events_position ON events (position);
CREATE INDEX events_org_position ON events (org_id, position);
