-- Provisioning activity: one row per SCIM request (method, path, status, duration, scimType, IdP dialect
-- rules that fired), kept 30 days. No bodies, no secrets.
CREATE TABLE scim_activity (
    seq         BIGSERIAL PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    occurred_at TIMESTAMP NOT NULL,
    method      TEXT NOT NULL,
    path        TEXT NOT NULL,
    status      INTEGER NOT NULL,
    duration_us BIGINT NOT NULL,
    scim_type   TEXT,
    dialects    TEXT NOT NULL
);
CREATE INDEX scim_activity_org_seq ON scim_activity (org_id, seq);
CREATE INDEX scim_activity_org_time ON scim_activity (org_id, occurred_at);
CREATE INDEX scim_activity_time ON scim_activity (occurred_at);

-- Per-org settings; today the deprovisioning safety valve. A missing row means the defaults.
CREATE TABLE org_settings (
    org_id                  TEXT PRIMARY KEY NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    safety_valve_enabled    BOOLEAN NOT NULL,
    safety_valve_percent    INTEGER NOT NULL,
    safety_valve_min        INTEGER NOT NULL,
    safety_valve_tripped_at TIMESTAMP,
    safety_valve_released_at TIMESTAMP,
    updated_at              TIMESTAMP NOT NULL
);

-- The safety valve counts the deprovisioning events of the last hour.
CREATE INDEX audit_events_org_action_time ON audit_events (org_id, action, occurred_at);
