-- Plans that do not depend on statistics (issue #15).
--
-- The SCIM view's paging index: `scim_managed` moves from the columns into the predicate, so that a generic
-- plan for `userName eq` can no longer mistake it for a second equality column as selective as the unique
-- `(org_id, user_name_norm)` index. Its order column is the expression `seq + 0`, which the SCIM lists order
-- by: only this index can give that order, so page 1 of a big org never walks the primary key past other
-- orgs' rows (a bulk-synced org is contiguous in `seq`, which statistics cannot see). `seq` is included so
-- that deep offset pages stay index-only scans.
DROP INDEX members_scim_page;
CREATE INDEX members_scim_page ON members (org_id, (seq + 0)) INCLUDE (seq)
    WHERE deleted_at IS NULL AND scim_managed;

-- The safety valve's minutes, sharded like org_tallies: concurrent deprovisionings of one org add to their
-- connection's row instead of queueing on the minute's one row until commit.
ALTER TABLE safety_valve_minutes ADD COLUMN shard INTEGER NOT NULL DEFAULT 0;
ALTER TABLE safety_valve_minutes DROP CONSTRAINT safety_valve_minutes_pkey;
ALTER TABLE safety_valve_minutes ADD PRIMARY KEY (org_id, minute, shard);
ALTER TABLE safety_valve_minutes ALTER COLUMN shard DROP DEFAULT;

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
