DROP INDEX audit_events_org_target_seq;
ALTER TABLE scim_activity DROP COLUMN detail;
