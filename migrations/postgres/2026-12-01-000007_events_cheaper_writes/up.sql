-- Nothing changes on PostgreSQL (SQLite's feed indexes change; see the migration of the same name there).
-- Event ids are UUIDv7 from now on (time-ordered), so their unique index grows at its right edge on both.
SELECT 1;
