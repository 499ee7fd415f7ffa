DROP INDEX members_org_user_name;
CREATE UNIQUE INDEX members_org_user_name ON members (user_name_norm, org_id) WHERE deleted_at IS NULL;
