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
