-- The per-org cap on live pending sign-ins (review H-1): the start reads at most the cap's number of an
-- org's unused, unexpired rows through this index, never the org's whole table.
CREATE INDEX sso_pending_logins_live ON sso_pending_logins (org_id, expires_at) WHERE consumed_at IS NULL;
