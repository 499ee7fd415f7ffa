//! The member lifecycle as SCIM drives it: ONE deprovisioning path for every shape an IdP uses (PATCH
//! `active=false` with or without a path, `"False"` as a string, PUT with `active: false`, DELETE), and
//! reactivation.
//!
//! In the caller's transaction, [`deprovision`] deactivates the member (DELETE also hides it from SCIM:
//! `deleted_at` set, so later reads are 404 and the userName is free again, the unique index being partial
//! on `deleted_at IS NULL`), revokes every admin session of the member, keeps its group memberships
//! (deactivation) or removes them (DELETE), and writes one audit event saying who did what to whom.
//! Callers reach it only on a transition: deactivating an inactive member writes nothing. The deprovisioning
//! safety valve (`models::safety_valve`) is consulted first, before anything is written: when it holds, the
//! request is refused with 503 and nothing changes but the recorded trip.

use super::audit::{self, MEMBER_DEACTIVATED, MEMBER_DELETED, MEMBER_REACTIVATED};
use super::member_row::update_row;
use super::{ScimStoreError, WriteCtx};
use crate::connection::DbConnection;
use crate::models::members::{self, Member, MemberChanges};
use crate::models::org_tallies::{self, Tally};
use crate::models::safety_valve::{self, Verdict};
use crate::models::{admin_sessions, groups};
use serde_json::Value;

/// How a member leaves.
#[derive(Debug)]
pub enum Deprovision<'a> {
    /// `active` becomes false, with the rest of the new document (`changes.active` is false).
    Deactivate(&'a MemberChanges<'a>),
    /// SCIM DELETE.
    Delete,
}

/// Deprovisions `member` (see the module docs). Returns the row as it now is.
pub fn deprovision(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    member: &Member,
    how: Deprovision<'_>,
    mut details: Value,
) -> Result<Member, ScimStoreError> {
    if let Verdict::Held { retry_after_secs } =
        safety_valve::check(conn, &ctx.org, &ctx.actor, member.created_at, ctx.now)?
    {
        return Err(ScimStoreError::Held { retry_after_secs });
    }
    let id = member.member_id();
    let (row, action, groups_removed) = match how {
        Deprovision::Deactivate(changes) => {
            let row = update_row(conn, ctx, member, changes)?;
            org_tallies::add(conn, &ctx.org, Tally::activity_changed(member.active, false))?;
            (row, MEMBER_DEACTIVATED, None)
        }
        Deprovision::Delete => {
            let version = member.version + 1;
            members::soft_delete(conn, &ctx.org, &id, version, ctx.now)?;
            let removed = groups::remove_member_everywhere(conn, &ctx.org, &id, ctx.now)?;
            let mut row = member.clone();
            row.deleted_at = Some(ctx.now);
            row.active = false;
            row.version = version;
            row.updated_at = ctx.now;
            org_tallies::add(conn, &ctx.org, Tally::user_removed(member.active))?;
            (row, MEMBER_DELETED, Some(removed))
        }
    };
    let revoked = admin_sessions::revoke_all_for_member(conn, &ctx.org, &id, ctx.now)?;
    if let Some(o) = details.as_object_mut() {
        o.insert("sessions_revoked".into(), Value::from(revoked));
        if let Some(n) = groups_removed {
            o.insert("groups_removed".into(), Value::from(n));
        }
    }
    audit::record(conn, ctx, action, &member.id, details)?;
    Ok(row)
}

/// Reactivates `member` (`changes.active` is true): access is restored (sign-in checks `active`), audited.
pub fn reactivate(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    member: &Member,
    changes: &MemberChanges<'_>,
    details: Value,
) -> Result<Member, ScimStoreError> {
    let row = update_row(conn, ctx, member, changes)?;
    org_tallies::add(conn, &ctx.org, Tally::activity_changed(member.active, true))?;
    audit::record(conn, ctx, MEMBER_REACTIVATED, &member.id, details)?;
    Ok(row)
}
