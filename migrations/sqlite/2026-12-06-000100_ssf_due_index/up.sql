-- The push worker's look for streams with work (`scimd_ssf::model::any_due`, `claim`) reads its own rows only,
-- never every stream: the enabled push streams by when they are due (poll, paused and disabled streams are not
-- in it, unlike `ssf_streams_due`, which it replaces), the disabled streams whose `stream-updated` notice waits
-- from that notice (one row per such stream), and the leased streams (the per-org share of the slots counts
-- them; a released lease is NULL).
DROP INDEX ssf_streams_due;
CREATE INDEX ssf_streams_push_due ON ssf_streams (next_attempt_at)
    WHERE delivery_method = 'urn:ietf:rfc:8935' AND status = 'enabled';
CREATE INDEX ssf_pending_notices ON ssf_pending (stream_id)
    WHERE event_type = 'https://schemas.openid.net/secevent/ssf/event-type/stream-updated';
CREATE INDEX ssf_streams_leased ON ssf_streams (leased_until) WHERE leased_until IS NOT NULL;
