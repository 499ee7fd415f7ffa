ALTER TABLE org_settings DROP COLUMN scim_may_link_owner;
