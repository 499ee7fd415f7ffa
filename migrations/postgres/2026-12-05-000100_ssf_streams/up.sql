-- Shared Signals streams (issue #28): scimd as an SSF 1.0 transmitter. A stream belongs to the platform API
-- key that created it (`api_key_id`: only that key reads or changes it) and carries the events of the key's
-- org (`org_id`; NULL for a key bound to no org: every org's). As for webhooks, the outbox is the event feed:
-- `cursor` is the feed position the stream has turned into SETs through, and the SETs made but not yet
-- delivered (push) or acknowledged (poll) wait in `ssf_pending`, in order, with their `jti`, so that a
-- redelivery is the same SET. `authorization_sealed` is the push receiver's `authorization_header`, sealed
-- under the server's secret key like the webhook secrets. A push stream is leased by one process at a time
-- (`leased_until`, `lease_owner`).
CREATE TABLE ssf_streams (
    id                   TEXT PRIMARY KEY NOT NULL,
    org_id               TEXT REFERENCES organizations (id) ON DELETE CASCADE,
    api_key_id           TEXT NOT NULL,
    audience             TEXT NOT NULL,
    delivery_method      TEXT NOT NULL,
    endpoint_url         TEXT,
    authorization_sealed BYTEA,
    events_requested     TEXT NOT NULL,
    description          TEXT,
    status               TEXT NOT NULL,
    reason               TEXT,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL,
    cursor               BIGINT NOT NULL,
    attempts             INTEGER NOT NULL,
    next_attempt_at      TIMESTAMP NOT NULL,
    failing_since        TIMESTAMP,
    leased_until         TIMESTAMP,
    lease_owner          TEXT
);
CREATE INDEX ssf_streams_owner ON ssf_streams (api_key_id, created_at);
CREATE INDEX ssf_streams_due ON ssf_streams (next_attempt_at) WHERE status = 'enabled';

-- The receiver's narrowing of a stream's subjects (SSF 8.1.3): the org's members are all in a stream
-- (`default_subjects` ALL) unless removed; an added subject undoes a removal.
CREATE TABLE ssf_stream_subjects (
    stream_id  TEXT NOT NULL REFERENCES ssf_streams (id) ON DELETE CASCADE,
    member_id  TEXT NOT NULL,
    included   BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (stream_id, member_id)
);

-- SETs made from the feed (or asked for: verification), waiting for a push to succeed or a poll's ack.
CREATE TABLE ssf_pending (
    seq        BIGSERIAL PRIMARY KEY,
    stream_id  TEXT NOT NULL REFERENCES ssf_streams (id) ON DELETE CASCADE,
    jti        TEXT NOT NULL,
    event_type TEXT NOT NULL,
    token      TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX ssf_pending_stream ON ssf_pending (stream_id, seq);
CREATE UNIQUE INDEX ssf_pending_jti ON ssf_pending (stream_id, jti);

-- Every push attempt and every acknowledgement or error a poll reported, for the admin page; kept for the
-- retention of the feed.
CREATE TABLE ssf_deliveries (
    seq          BIGSERIAL PRIMARY KEY,
    stream_id    TEXT NOT NULL REFERENCES ssf_streams (id) ON DELETE CASCADE,
    org_id       TEXT,
    jti          TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    attempt      INTEGER NOT NULL,
    status_code  INTEGER,
    error        TEXT,
    latency_ms   BIGINT NOT NULL,
    delivered    BOOLEAN NOT NULL,
    attempted_at TIMESTAMP NOT NULL
);
CREATE INDEX ssf_deliveries_stream ON ssf_deliveries (stream_id, seq);
CREATE INDEX ssf_deliveries_time ON ssf_deliveries (attempted_at);
