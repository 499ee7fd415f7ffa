DROP TABLE role_jobs;
DROP TABLE role_settings;
DROP TABLE member_roles;
DROP TABLE role_mappings;
DROP TABLE roles;
