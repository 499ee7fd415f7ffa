-- Custom attributes (issue #26): declarations, per org or for the whole deployment (org_id NULL), under the
-- one User extension urn:ietf:params:scim:schemas:extension:scimd:2.0:User.
CREATE TABLE attribute_definitions (
    id           TEXT PRIMARY KEY,
    org_id       TEXT REFERENCES organizations (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    name_norm    TEXT NOT NULL,
    ty           TEXT NOT NULL CHECK (ty IN ('string', 'boolean', 'integer', 'decimal', 'dateTime', 'reference')),
    multi_valued BOOLEAN NOT NULL,
    case_exact   BOOLEAN NOT NULL,
    filterable   BOOLEAN NOT NULL,
    -- The ID token and userinfo claim the attribute's value is given as, if any.
    claim        TEXT,
    created_at   TIMESTAMP NOT NULL
);
-- One declaration of a name per org, and one per deployment ('' is the deployment's scope).
CREATE UNIQUE INDEX attribute_definitions_scope_name ON attribute_definitions ((COALESCE(org_id, '')), name_norm);

-- The values of filterable attributes, typed and normalised, written in the transaction that writes the member's
-- document: a filter on one is a range of one of these indexes, never a scan of the org's documents.
CREATE TABLE member_attribute_values (
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    member_id  TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    attribute  TEXT NOT NULL,
    position   INTEGER NOT NULL,
    value_text TEXT,
    value_int  BIGINT,
    value_dec  REAL,
    value_time TIMESTAMP,
    PRIMARY KEY (member_id, attribute, position)
);
CREATE INDEX member_attribute_values_text ON member_attribute_values (org_id, attribute, value_text) WHERE value_text IS NOT NULL;
CREATE INDEX member_attribute_values_int ON member_attribute_values (org_id, attribute, value_int) WHERE value_int IS NOT NULL;
CREATE INDEX member_attribute_values_dec ON member_attribute_values (org_id, attribute, value_dec) WHERE value_dec IS NOT NULL;
CREATE INDEX member_attribute_values_time ON member_attribute_values (org_id, attribute, value_time) WHERE value_time IS NOT NULL;
