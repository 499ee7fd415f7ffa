-- The admin pages you can read and open (issue #25).
--
-- scimd's own `detail` of a refused or failed SCIM request (the error body's message, never the request's
-- body), so that the IdP's admin reads on the activity page what the IdP was told.
ALTER TABLE scim_activity ADD COLUMN detail TEXT;

-- A member's or a group's history on its page: the audit events about it, newest first.
CREATE INDEX audit_events_org_target_seq ON audit_events (org_id, target, seq);
