-- Per-org overrides of the SCIM API's limits; an org without a row (or a NULL column) gets the process
-- defaults (SCIMD_ORG_RATE, SCIMD_ORG_BURST, SCIMD_ORG_IN_FLIGHT).
CREATE TABLE org_limits (
    org_id     TEXT PRIMARY KEY NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    rate       INTEGER CHECK (rate > 0),
    burst      INTEGER CHECK (burst > 0),
    in_flight  INTEGER CHECK (in_flight > 0),
    updated_at TIMESTAMP NOT NULL
);
