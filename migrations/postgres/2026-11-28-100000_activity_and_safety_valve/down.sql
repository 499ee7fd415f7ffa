DROP INDEX audit_events_org_action_time;
DROP TABLE org_settings;
DROP TABLE scim_activity;
