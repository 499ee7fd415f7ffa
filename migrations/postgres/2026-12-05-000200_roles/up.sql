-- Roles from the directory (issue #26).
--
-- The role catalog beyond scimd's own `owner`, `admin` and `member` (which are built in, not rows): the
-- platform's roles, of one org, or of every org when `org_id` is '' (the deployment's).
CREATE TABLE roles (
    org_id     TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, name)
);

-- A group's members have the role. Keyed by the group's id: a rename keeps the mapping.
CREATE TABLE role_mappings (
    group_id   TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (group_id, role)
);
CREATE INDEX role_mappings_org_role ON role_mappings (org_id, role);

-- What grants a member a role, one row per grant: `source_kind` 'group' (source_id: the group's id) or
-- 'attribute' (the SCIM `roles` attribute; source_id ''). Maintained in the transaction of the change that
-- moves it; a member's effective roles are its own `members.role` and these.
CREATE TABLE member_roles (
    member_id   TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    role        TEXT NOT NULL,
    source_kind TEXT NOT NULL,
    source_id   TEXT NOT NULL,
    org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (member_id, role, source_kind, source_id)
);
-- A mapping change finds the grants of its group; the admin page counts a role's holders.
CREATE INDEX member_roles_source ON member_roles (org_id, source_kind, source_id, role);

-- An org's role settings: whether the SCIM `roles` attribute grants roles (within the catalog); an org
-- without a row has it off.
CREATE TABLE role_settings (
    org_id           TEXT PRIMARY KEY NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    scim_roles       BOOLEAN NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);

-- A mapping change applied to its group's members in bounded batches, each its own transaction with its
-- events. `after_member` (the last member id done) commits with its batch: after a crash the change resumes
-- there. Finished jobs stay for the page's history.
CREATE TABLE role_jobs (
    id           TEXT PRIMARY KEY NOT NULL,
    org_id       TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    group_id     TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    role         TEXT NOT NULL,
    direction    TEXT NOT NULL,
    after_member TEXT NOT NULL,
    done         BIGINT NOT NULL,
    total        BIGINT NOT NULL,
    changed      BIGINT NOT NULL,
    finished_at  TIMESTAMP,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX role_jobs_org_created ON role_jobs (org_id, created_at);
CREATE INDEX role_jobs_group_role ON role_jobs (group_id, role);
