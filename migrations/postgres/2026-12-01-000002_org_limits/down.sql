DROP TABLE org_limits;
