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
