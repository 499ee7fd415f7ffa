-- An event's position on SQLite is its rowid (`seq`): the feed reads filter and order on `seq` itself, so
-- the index of the generated `position` column only cost every insert a B-tree write. The org index is on
-- `org_id` alone: SQLite appends the rowid to every index, so it is `(org_id, seq)`.
DROP INDEX events_position;
DROP INDEX events_org_position;
CREATE INDEX events_org ON events (org_id);
