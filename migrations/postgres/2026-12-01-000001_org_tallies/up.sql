-- Exact per-org tallies of the SCIM view, kept in the write transaction of every change, so that a list's
-- `totalResults` and the safety valve's base never count an org. Sharded: concurrent writers of one org add to
-- different rows (a random shard of 16) instead of queueing on one, and a read sums at most 16 rows.
CREATE TABLE org_tallies (
    org_id       TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    shard        INTEGER NOT NULL,
    users        BIGINT NOT NULL,
    active_users BIGINT NOT NULL,
    groups       BIGINT NOT NULL,
    PRIMARY KEY (org_id, shard)
);
INSERT INTO org_tallies (org_id, shard, users, active_users, groups)
SELECT o.id, 0,
    (SELECT COUNT(*) FROM members m WHERE m.org_id = o.id AND m.scim_managed AND m.deleted_at IS NULL),
    (SELECT COUNT(*) FROM members m WHERE m.org_id = o.id AND m.scim_managed AND m.deleted_at IS NULL AND m.active),
    (SELECT COUNT(*) FROM groups g WHERE g.org_id = o.id)
FROM organizations o;

-- The deprovisioning safety valve's sliding hour, one row per org and minute: a check sums at most 61 rows
-- instead of counting the audit trail.
CREATE TABLE safety_valve_minutes (
    org_id        TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    minute        TIMESTAMP NOT NULL,
    deprovisioned BIGINT NOT NULL,
    PRIMARY KEY (org_id, minute)
);
INSERT INTO safety_valve_minutes (org_id, minute, deprovisioned)
SELECT org_id, date_trunc('minute', occurred_at), COUNT(*)
FROM audit_events
WHERE action IN ('member.deactivated', 'member.deleted') AND occurred_at > now() AT TIME ZONE 'UTC' - INTERVAL '1 hour'
GROUP BY org_id, date_trunc('minute', occurred_at);
