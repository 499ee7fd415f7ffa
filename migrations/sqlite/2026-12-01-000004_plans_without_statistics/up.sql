-- Plans that do not depend on statistics (issue #15), the same shapes as on PostgreSQL.
--
-- The SCIM view's paging index: `scim_managed` moves into the predicate (the view writes it as a bare column,
-- which this predicate matches). SQLite reads a partial index's predicate columns from the table unless the
-- index holds them, so they are columns too: the index then covers the lists' `ORDER BY seq LIMIT/OFFSET`
-- (`seq` is the rowid) and a page at offset 99,900 walks index entries, not 99,900 rows.
DROP INDEX members_scim_page;
CREATE INDEX members_scim_page ON members (org_id, seq, scim_managed, deleted_at)
    WHERE deleted_at IS NULL AND scim_managed;

-- The safety valve's minutes get the shard column PostgreSQL uses (SQLite has one writer: always shard 0).
CREATE TABLE safety_valve_minutes_sharded (
    org_id        TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    minute        TIMESTAMP NOT NULL,
    shard         INTEGER NOT NULL,
    deprovisioned BIGINT NOT NULL,
    PRIMARY KEY (org_id, minute, shard)
);
INSERT INTO safety_valve_minutes_sharded (org_id, minute, shard, deprovisioned)
SELECT org_id, minute, 0, deprovisioned FROM safety_valve_minutes;
DROP TABLE safety_valve_minutes;
ALTER TABLE safety_valve_minutes_sharded RENAME TO safety_valve_minutes;

-- Lookups by a unique key lead with the key: a lookup writes its tenant predicate as `(org_id || '') = ?`,
-- which no index serves, so the key's own index is the planner's only choice. Without statistics (a fresh
-- database) PostgreSQL otherwise rates every partial index on `deleted_at IS NULL` as a few rows and may
-- pick any of the org's indexes, walking all of the org's rows for one. Uniqueness is unchanged.
DROP INDEX members_org_user_name;
CREATE UNIQUE INDEX members_org_user_name ON members (user_name_norm, org_id) WHERE deleted_at IS NULL;
DROP INDEX members_org_external_id;
CREATE INDEX members_org_external_id ON members (external_id, org_id);
DROP INDEX groups_org_display_name;
CREATE UNIQUE INDEX groups_org_display_name ON groups (display_name_norm, org_id);
DROP INDEX groups_org_external_id;
CREATE INDEX groups_org_external_id ON groups (external_id, org_id);
