//! A file per table: the row type, its insert (and update) forms, and the queries, as functions that take the
//! connection. Every query of org-owned data takes the `OrgId` and filters on it first.

pub mod admin_sessions;
pub mod admin_views;
pub mod api_keys;
pub mod attributes;
pub mod audit_events;
pub mod directory;
pub mod events;
pub mod groups;
pub mod lease;
pub mod login_links;
pub mod members;
pub mod oauth;
pub mod org_limits;
pub mod org_tallies;
pub mod organizations;
pub mod owner_link;
pub mod platform_views;
pub mod safety_valve;
pub mod scim_activity;
pub mod scim_tokens;
pub mod sealed;
pub mod server_secrets;
pub mod sso_connections;
pub mod sso_signin;
pub mod webhooks;

/// Splits id lists for `IN (...)`: far below both backends' bind limits.
pub(crate) const IN_CHUNK: usize = 500;

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::ids::OrgId;
use crate::sql::{Raw, Sql};
use diesel::RunQueryDsl;
use diesel::sql_types::{Bool, Text};

/// The tenant predicate of a lookup by a row's own unique key (an `id`, a userName, a displayName, an
/// externalId) in `table`: `(table.org_id || '') = org`. It holds for exactly the rows `org_id = org` holds
/// for, but no index serves it, so the planner finds the row through its key's index whatever the statistics
/// say (migration `plans_without_statistics`): on a fresh PostgreSQL database it might otherwise walk one of
/// the org's indexes for the one row. Lists and scans of an org keep the plain `org_id = org`.
pub(crate) fn tenant_of_key(table: &str, org: &OrgId) -> Raw<Bool> {
    Sql::text(&format!("({table}.org_id || '') = "))
        .bind_text(org.as_str())
        .expr()
}

/// [`tenant_of_key`] for a statement run on one backend's own connection (an UPDATE ... RETURNING): the same
/// SQL, as a diesel expression every backend can run.
pub(crate) fn tenant_of_key_sql(
    table: &str,
    org: &OrgId,
) -> diesel::expression::UncheckedBind<
    diesel::expression::SqlLiteral<Bool>,
    <String as diesel::expression::AsExpression<Text>>::Expression,
> {
    diesel::dsl::sql::<Bool>(&format!("({table}.org_id || '') = ")).bind::<Text, _>(org.as_str().to_owned())
}

/// The rows a read-modify-write locks first.
#[derive(Debug, Clone, Copy)]
pub enum Locked {
    Member,
    Group,
}

/// Takes shared locks of the org's member rows among `ids` that are not yet members of `group`, on
/// PostgreSQL, before a group write checks that they are live Users and adds them: a concurrent DELETE of
/// one of them (which holds its row FOR UPDATE) then either commits first, and the check that follows sees
/// it deleted, or waits for the add to commit, and removes the new membership with the others (L3). Rows
/// already in the group are left unlocked: their DELETE takes the group's lock, which the writer holds, so
/// locking them here could deadlock. SQLite's write transaction already holds the database's write lock.
///
/// One statement per id, each by the full primary keys of `members` and `group_members`: the one plan
/// whatever the statistics. A batch of ids with the anti-join in one statement was planned, on tables that
/// were empty when the plan was cached, as a hash anti-join reading the whole of `group_members`.
pub fn lock_joining_members(
    conn: &mut DbConnection,
    org: &OrgId,
    group: &str,
    ids: &[String],
) -> Result<(), StoreError> {
    let DbConnection::Postgres(pg) = conn else {
        return Ok(());
    };
    for id in ids {
        diesel::sql_query(
            "SELECT 1 FROM members WHERE (org_id || '') = $1 AND id = $2 AND NOT EXISTS \
             (SELECT 1 FROM group_members gm WHERE gm.group_id = $3 AND gm.member_id = $2) \
             FOR SHARE OF members",
        )
        .bind::<Text, _>(org.as_str())
        .bind::<Text, _>(id)
        .bind::<Text, _>(group)
        .execute(pg)?;
    }
    Ok(())
}

/// Takes the row lock of an org's member or group before a read-modify-write, on PostgreSQL; SQLite's write
/// transaction already holds the database's write lock. A missing row locks nothing (the read that follows
/// answers 404).
pub fn lock_for_update(
    conn: &mut DbConnection,
    what: Locked,
    org: &OrgId,
    id: &str,
) -> Result<(), StoreError> {
    let DbConnection::Postgres(pg) = conn else {
        return Ok(());
    };
    let sql = match what {
        // The tenant predicate as in `tenant_of_key`: the row is found by its id.
        Locked::Member => "SELECT 1 FROM members WHERE (org_id || '') = $1 AND id = $2 FOR UPDATE",
        Locked::Group => "SELECT 1 FROM groups WHERE (org_id || '') = $1 AND id = $2 FOR UPDATE",
    };
    diesel::sql_query(sql)
        .bind::<Text, _>(org.as_str())
        .bind::<Text, _>(id)
        .execute(pg)?;
    Ok(())
}
