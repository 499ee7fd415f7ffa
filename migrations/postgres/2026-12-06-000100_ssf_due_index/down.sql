DROP INDEX ssf_streams_leased;
DROP INDEX ssf_pending_notices;
DROP INDEX ssf_streams_push_due;
CREATE INDEX ssf_streams_due ON ssf_streams (next_attempt_at) WHERE status = 'enabled';
