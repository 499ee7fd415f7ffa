DROP INDEX events_org;
CREATE INDEX events_position ON events (position);
CREATE INDEX events_org_position ON events (org_id, position);
