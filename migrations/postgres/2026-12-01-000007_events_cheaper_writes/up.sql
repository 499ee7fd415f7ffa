-- `id` is not indexed: nothing looks an event up by id, and ids are UUIDv7 (time and 74 random bits), unique
-- by construction; the index only cost every event write (SQLite drops its feed indexes too, see there).
ALTER TABLE events DROP CONSTRAINT events_id_key;
