#!/usr/bin/env python3
"""Bulk-loads N SCIM Users into an existing org straight into the database (not through HTTP), for the
scale benchmark: rows as the SCIM API writes them (SCIM-managed, active, a document), created two days ago
(so the safety valve counts their deprovisioning), and the org's tally raised by the same amount.

  bulk_load.py DATABASE_URL ORG_ID N [PREFIX]

SQLite through the standard library; PostgreSQL through psql (on PATH), with generate_series.
The ids and userNames are PREFIX-<n> and PREFIX-<n>@bulk.example; PREFIX defaults to "bulk".
"""

import sqlite3
import subprocess
import sys

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


def sqlite(path, org, n, prefix):
    db = sqlite3.connect(path)
    db.execute("PRAGMA busy_timeout = 10000")
    with db:
        db.execute(
            f"""
            WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
            INSERT INTO members (id, org_id, user_name, user_name_norm, external_id, role, active, scim_managed,
                                 display_name, given_name, family_name, email, document, version, created_at,
                                 updated_at, deleted_at)
            SELECT ? || '-' || i, ?, ? || '-' || i || '@bulk.example', ? || '-' || i || '@bulk.example', NULL,
                   'member', 1, 1, NULL, NULL, NULL, ? || '-' || i || '@bulk.example',
                   '{{"schemas":["{USER_SCHEMA}"],"userName":"' || ? || '-' || i || '@bulk.example","active":true}}',
                   1, datetime('now', '-2 days'), datetime('now', '-2 days'), NULL
            FROM s
            """,
            (n, prefix, org, prefix, prefix, prefix, prefix),
        )
        db.execute(
            "INSERT INTO org_tallies (org_id, shard, users, active_users, groups) VALUES (?, 0, ?, ?, 0) "
            "ON CONFLICT (org_id, shard) DO UPDATE SET users = users + excluded.users, "
            "active_users = active_users + excluded.active_users",
            (org, n, n),
        )
    db.close()


def postgres(url, org, n, prefix):
    sql = f"""
    BEGIN;
    INSERT INTO members (id, org_id, user_name, user_name_norm, external_id, role, active, scim_managed,
                         display_name, given_name, family_name, email, document, version, created_at, updated_at,
                         deleted_at)
    SELECT '{prefix}-' || i, '{org}', '{prefix}-' || i || '@bulk.example', '{prefix}-' || i || '@bulk.example',
           NULL, 'member', true, true, NULL, NULL, NULL, '{prefix}-' || i || '@bulk.example',
           '{{"schemas":["{USER_SCHEMA}"],"userName":"{prefix}-' || i || '@bulk.example","active":true}}',
           1, now() AT TIME ZONE 'UTC' - INTERVAL '2 days', now() AT TIME ZONE 'UTC' - INTERVAL '2 days', NULL
    FROM generate_series(1, {int(n)}) AS i;
    INSERT INTO org_tallies (org_id, shard, users, active_users, groups) VALUES ('{org}', 0, {int(n)}, {int(n)}, 0)
    ON CONFLICT (org_id, shard) DO UPDATE SET users = org_tallies.users + excluded.users,
        active_users = org_tallies.active_users + excluded.active_users;
    COMMIT;
    """
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url], input=sql.encode(), check=True)


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    url, org, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    prefix = sys.argv[4] if len(sys.argv) == 5 else "bulk"
    if not all(c.isalnum() or c in "-_" for c in org + prefix):
        sys.exit("ORG_ID and PREFIX must be alphanumeric (with - and _)")
    if url.startswith("sqlite://"):
        sqlite(url[len("sqlite://"):], org, n, prefix)
    elif url.startswith(("postgres://", "postgresql://")):
        postgres(url, org, n, prefix)
    else:
        sys.exit(f"unknown database URL: {url}")


if __name__ == "__main__":
    main()
