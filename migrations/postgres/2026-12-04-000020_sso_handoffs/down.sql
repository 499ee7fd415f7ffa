DROP TABLE sso_handoffs;
