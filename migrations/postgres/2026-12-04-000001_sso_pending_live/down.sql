DROP INDEX sso_pending_logins_live;
