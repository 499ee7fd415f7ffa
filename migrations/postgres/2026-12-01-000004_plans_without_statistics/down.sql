DELETE FROM safety_valve_minutes WHERE shard <> 0;
ALTER TABLE safety_valve_minutes DROP CONSTRAINT safety_valve_minutes_pkey;
ALTER TABLE safety_valve_minutes DROP COLUMN shard;
ALTER TABLE safety_valve_minutes ADD PRIMARY KEY (org_id, minute);
DROP INDEX members_scim_page;
CREATE INDEX members_scim_page ON members (org_id, scim_managed, seq) WHERE deleted_at IS NULL;
