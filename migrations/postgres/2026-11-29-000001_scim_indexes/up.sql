-- The SCIM API's paging and counting index: the SCIM view of an org is its live (not deleted) SCIM-managed
-- members in `seq` order; this index serves `COUNT(*)` and `ORDER BY seq LIMIT/OFFSET` from the index.
CREATE INDEX members_scim_page ON members (org_id, scim_managed, seq) WHERE deleted_at IS NULL;
-- Groups a user belongs to (the User resource's `groups`).
CREATE INDEX group_members_member_group ON group_members (member_id, group_id);
