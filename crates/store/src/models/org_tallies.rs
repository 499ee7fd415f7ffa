//! `org_tallies`: exact counts of an org's SCIM view (Users, active Users, Groups), changed in the same
//! transaction as the rows they count, so that `totalResults` of the common lists and the safety valve's base
//! cost a few rows, not a count of the org.
//!
//! On PostgreSQL a change adds to one of [`SHARDS`](crate::connection::SHARDS) rows of the org, the connection's own, so that concurrent
//! writers of one org do not queue on one row lock; a read sums the org's rows. SQLite has one writer at a
//! time and uses shard 0 only.

use crate::connection::{DbConnection, shard_sql};
use crate::error::StoreError;
use crate::ids::OrgId;
use crate::schema::org_tallies as t;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

/// A change to the tallies (or their totals).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub users: i64,
    pub active_users: i64,
    pub groups: i64,
}

impl Tally {
    /// A User entering the SCIM view (created or linked).
    pub fn user_added(active: bool) -> Tally {
        Tally {
            users: 1,
            active_users: i64::from(active),
            groups: 0,
        }
    }

    /// A User leaving the SCIM view (deleted).
    pub fn user_removed(was_active: bool) -> Tally {
        Tally {
            users: -1,
            active_users: -i64::from(was_active),
            groups: 0,
        }
    }

    /// A User's `active` changing.
    pub fn activity_changed(before: bool, after: bool) -> Tally {
        Tally {
            users: 0,
            active_users: i64::from(after) - i64::from(before),
            groups: 0,
        }
    }

    pub fn groups(n: i64) -> Tally {
        Tally {
            users: 0,
            active_users: 0,
            groups: n,
        }
    }

    fn is_zero(&self) -> bool {
        *self == Tally::default()
    }
}

/// Adds `delta` to the org's tallies, in the caller's transaction.
pub fn add(conn: &mut DbConnection, org: &OrgId, delta: Tally) -> Result<(), StoreError> {
    if delta.is_zero() {
        return Ok(());
    }
    // The shard is the connection's (`connection::shard_sql!`): a transaction that adds twice adds to one
    // row, so two transactions can never lock two shards in opposite orders.
    let sql = match conn {
        DbConnection::Sqlite(_) => {
            "INSERT INTO org_tallies (org_id, shard, users, active_users, groups) VALUES (?, 0, ?, ?, ?) \
             ON CONFLICT (org_id, shard) DO UPDATE SET users = users + excluded.users, \
             active_users = active_users + excluded.active_users, groups = groups + excluded.groups"
        }
        DbConnection::Postgres(_) => concat!(
            "INSERT INTO org_tallies (org_id, shard, users, active_users, groups) VALUES ($1, ",
            shard_sql!(),
            ", $2, $3, $4) \
             ON CONFLICT (org_id, shard) DO UPDATE SET users = org_tallies.users + excluded.users, \
             active_users = org_tallies.active_users + excluded.active_users, \
             groups = org_tallies.groups + excluded.groups"
        ),
    };
    diesel::sql_query(sql)
        .bind::<Text, _>(org.as_str())
        .bind::<BigInt, _>(delta.users)
        .bind::<BigInt, _>(delta.active_users)
        .bind::<BigInt, _>(delta.groups)
        .execute(conn)?;
    Ok(())
}

/// The org's totals.
pub fn totals(conn: &mut DbConnection, org: &OrgId) -> Result<Tally, StoreError> {
    // At most SHARDS rows: summed here, because SUM of a BIGINT is NUMERIC on PostgreSQL.
    let rows: Vec<(i64, i64, i64)> = t::table
        .filter(t::org_id.eq(org.as_str()))
        .select((t::users, t::active_users, t::groups))
        .load(conn)?;
    Ok(rows.into_iter().fold(Tally::default(), |acc, (u, a, g)| Tally {
        users: acc.users + u,
        active_users: acc.active_users + a,
        groups: acc.groups + g,
    }))
}
