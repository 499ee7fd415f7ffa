DROP INDEX members_org_user_name;
CREATE UNIQUE INDEX members_org_user_name ON members (org_id, user_name_norm) WHERE deleted_at IS NULL;
DROP INDEX members_org_external_id;
CREATE INDEX members_org_external_id ON members (org_id, external_id);
DROP INDEX groups_org_display_name;
CREATE UNIQUE INDEX groups_org_display_name ON groups (org_id, display_name_norm);
DROP INDEX groups_org_external_id;
CREATE INDEX groups_org_external_id ON groups (org_id, external_id);
CREATE TABLE safety_valve_minutes_unsharded (
    org_id        TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    minute        TIMESTAMP NOT NULL,
    deprovisioned BIGINT NOT NULL,
    PRIMARY KEY (org_id, minute)
);
INSERT INTO safety_valve_minutes_unsharded (org_id, minute, deprovisioned)
SELECT org_id, minute, SUM(deprovisioned) FROM safety_valve_minutes GROUP BY org_id, minute;
DROP TABLE safety_valve_minutes;
ALTER TABLE safety_valve_minutes_unsharded RENAME TO safety_valve_minutes;
DROP INDEX members_scim_page;
CREATE INDEX members_scim_page ON members (org_id, scim_managed, seq) WHERE deleted_at IS NULL;
