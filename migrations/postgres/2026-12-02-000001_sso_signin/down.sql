DROP TABLE sso_assertion_replays;
DROP TABLE sso_pending_logins;
