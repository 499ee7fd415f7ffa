DROP TABLE safety_valve_minutes;
DROP TABLE org_tallies;
