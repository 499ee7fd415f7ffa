-- scimd schema, SQLite flavour. migrations/postgres holds the same tables with PostgreSQL types; the store's
-- tests prove that both match crates/store/src/schema.rs.

CREATE TABLE organizations (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);

-- One SSO connection per org. `settings` is the non-secret part as JSON; the Azure AD client secret is kept
-- encrypted in `secret_ciphertext` and never rendered back.
CREATE TABLE sso_connections (
    org_id            TEXT PRIMARY KEY NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    kind              TEXT NOT NULL CHECK (kind IN ('saml', 'azure_ad')),
    settings          TEXT NOT NULL,
    secret_ciphertext BLOB,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL
);

-- Only the SHA-256 of a token is stored; `hint` is the non-secret prefix and last characters.
CREATE TABLE scim_tokens (
    id           TEXT PRIMARY KEY NOT NULL,
    org_id       TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    token_hash   BLOB NOT NULL UNIQUE,
    hint         TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    created_by   TEXT NOT NULL,
    last_used_at TIMESTAMP,
    expires_at   TIMESTAMP,
    revoked_at   TIMESTAMP
);
CREATE INDEX scim_tokens_org ON scim_tokens (org_id);

-- The org's users, SCIM-provisioned or not. `seq` gives a stable insertion order for paging; `id` is the
-- public id. `user_name_norm` is the normalised userName (see crates/store/src/user_name.rs): unique per org
-- among members SCIM has not deleted, so uniqueness is enforced by the database, never by check-then-insert.
CREATE TABLE members (
    seq            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    org_id         TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_name      TEXT NOT NULL,
    user_name_norm TEXT NOT NULL,
    external_id    TEXT,
    role           TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    active         BOOLEAN NOT NULL,
    scim_managed   BOOLEAN NOT NULL,
    display_name   TEXT,
    given_name     TEXT,
    family_name    TEXT,
    email          TEXT,
    document       TEXT NOT NULL,
    version        BIGINT NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    deleted_at     TIMESTAMP
);
CREATE UNIQUE INDEX members_org_user_name ON members (org_id, user_name_norm) WHERE deleted_at IS NULL;
CREATE INDEX members_org_seq ON members (org_id, seq);
CREATE INDEX members_org_external_id ON members (org_id, external_id);

CREATE TABLE groups (
    seq               INTEGER PRIMARY KEY,
    id                TEXT NOT NULL UNIQUE,
    org_id            TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    display_name      TEXT NOT NULL,
    display_name_norm TEXT NOT NULL,
    external_id       TEXT,
    document          TEXT NOT NULL,
    version           BIGINT NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX groups_org_display_name ON groups (org_id, display_name_norm);
CREATE INDEX groups_org_seq ON groups (org_id, seq);
CREATE INDEX groups_org_external_id ON groups (org_id, external_id);

-- A row per membership, so that a group of 100,000 members is changed by inserting and deleting rows.
CREATE TABLE group_members (
    group_id   TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    member_id  TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (group_id, member_id)
);
CREATE INDEX group_members_member ON group_members (member_id);

CREATE TABLE admin_sessions (
    id           TEXT PRIMARY KEY NOT NULL,
    org_id       TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    member_id    TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    revoked_at   TIMESTAMP
);
CREATE INDEX admin_sessions_member ON admin_sessions (member_id);

-- Single-use login links: the row is the link's JWT id, consumed once.
CREATE TABLE login_links (
    id         TEXT PRIMARY KEY NOT NULL,
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    member_id  TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP
);

-- Process-shared secrets generated once (the admin session signing key, the SSO secret encryption key).
CREATE TABLE server_secrets (
    name       TEXT PRIMARY KEY NOT NULL,
    value      BLOB NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Append-only: the triggers below refuse UPDATE and DELETE, and the store offers neither.
CREATE TABLE audit_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    org_id      TEXT NOT NULL REFERENCES organizations (id),
    occurred_at TIMESTAMP NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT,
    details     TEXT NOT NULL
);
CREATE INDEX audit_events_org_seq ON audit_events (org_id, seq);
CREATE INDEX audit_events_org_action_seq ON audit_events (org_id, action, seq);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
