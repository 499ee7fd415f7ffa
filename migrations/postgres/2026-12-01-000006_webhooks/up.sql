-- Webhooks (issue #13). The outbox is the event feed itself: each event is written in its change's
-- transaction, and each endpoint keeps the feed position it has delivered through (`cursor`), so an event
-- that committed is never lost to a crash between commit and send, and an endpoint's events go out in feed
-- order (a later one waits while an earlier one is retried). A process leases an endpoint
-- (`leased_until`, `lease_owner`; claimed with FOR UPDATE SKIP LOCKED) so that two never send its events at
-- once. `secret_sealed` is the signing secret encrypted under the server's secret key: unlike a bearer token
-- it must be read back to sign, so it cannot be kept as a hash.
CREATE TABLE webhook_endpoints (
    id              TEXT PRIMARY KEY NOT NULL,
    org_id          TEXT REFERENCES organizations (id) ON DELETE CASCADE,
    url             TEXT NOT NULL,
    types           TEXT NOT NULL,
    secret_sealed   BYTEA NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    cursor          BIGINT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    failing_since   TIMESTAMP,
    disabled_at     TIMESTAMP,
    leased_until    TIMESTAMP,
    lease_owner     TEXT
);
CREATE INDEX webhook_endpoints_due ON webhook_endpoints (next_attempt_at) WHERE disabled_at IS NULL;
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (org_id);

-- Every attempt to deliver, kept for the retention of the event feed: what `scimd webhook deliveries` and
-- the admin page show.
CREATE TABLE webhook_deliveries (
    seq          BIGSERIAL PRIMARY KEY,
    endpoint_id  TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    org_id       TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    position     BIGINT,
    attempt      INTEGER NOT NULL,
    status_code  INTEGER,
    error        TEXT,
    latency_ms   BIGINT NOT NULL,
    delivered    BOOLEAN NOT NULL,
    attempted_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, seq);
CREATE INDEX webhook_deliveries_org ON webhook_deliveries (org_id, seq);
CREATE INDEX webhook_deliveries_time ON webhook_deliveries (attempted_at);
