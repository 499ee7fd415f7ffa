DROP INDEX group_members_member_group;
DROP INDEX members_scim_page;
