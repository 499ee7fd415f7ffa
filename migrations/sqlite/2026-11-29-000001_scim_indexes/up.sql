-- The SCIM API's paging and counting index: the SCIM view of an org is its live (not deleted) SCIM-managed
-- members in `seq` order. With `seq` the rowid this index covers `COUNT(*)` and `ORDER BY seq LIMIT/OFFSET`
-- without touching the table, so a page at startIndex 99,901 costs an index walk, not 99,900 row reads.
CREATE INDEX members_scim_page ON members (org_id, scim_managed, seq) WHERE deleted_at IS NULL;
-- Groups a user belongs to (the User resource's `groups`), and a group's members in insertion order.
CREATE INDEX group_members_member_group ON group_members (member_id, group_id);
