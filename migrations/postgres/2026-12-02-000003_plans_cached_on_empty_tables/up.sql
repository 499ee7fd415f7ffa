-- Plans that stay right when they were made on an empty table (issue #15).
--
-- A connection caches a generic plan for each prepared statement after its fifth execution. On a fresh
-- database that happens while `members` is still empty, where a full walk of a partial index whose
-- predicate the query implies costs the same as the key's own index; the cached plan then walks every row
-- of the index as the org grows (measured: creates fell from 610/s to 420/s over the first 20,000 users,
-- and a lookup by id read 17,500 rows). So no partial index on `members` may be implied by a lookup by key:
--
-- userName's uniqueness among live members moves from the predicate into the key: deleted members have
-- NULL there, and NULLs never collide, so the index is the same constraint without being partial.
DROP INDEX members_org_user_name;
CREATE UNIQUE INDEX members_org_user_name
    ON members (user_name_norm, org_id, (CASE WHEN deleted_at IS NULL THEN 1 END));
-- The paging index stays partial: the SCIM view's lookups by key write `COALESCE(scim_managed, FALSE)`,
-- from which no plan can prove its predicate (crates/store/src/provisioning/users.rs, `view`).
