//! The member lifecycle as SCIM drives it: ONE deprovisioning path for every shape an IdP uses (PATCH
//! `active=false` with or without a path, `"False"` as a string, PUT with `active: false`, DELETE), and
//! reactivation.
//!
//! In the caller's transaction, [`deprovision`] deactivates the member (DELETE also hides it from SCIM:
//! `deleted_at` set, so later reads are 404 and the userName is free again, the unique index holding live
//! members only), revokes every admin session of the member, keeps its group memberships
//! (deactivation) or removes them (DELETE), and writes one audit event saying who did what to whom.
//! Callers reach it only on a transition: deactivating an inactive member writes nothing. The deprovisioning
//! safety valve (`models::safety_valve`) is consulted first, before anything is written: when it holds, the
//! request is refused with 503 and nothing changes but the recorded trip. Before the valve, the org's last
//! active owner is kept: SCIM deprovisioning it is 409, and only the refusal event is written (an org without
//! an owner can only be recovered with the CLI).

use super::audit::{
    self, MEMBER_DEACTIVATED, MEMBER_DELETED, MEMBER_DEPROVISION_REFUSED, MEMBER_REACTIVATED,
};
use super::feed;
use super::member_row::update_row;
use super::{ScimStoreError, WriteCtx};
use crate::connection::DbConnection;
use crate::models::events::types;
use crate::models::members::{self, Member, MemberChanges, Role};
use crate::models::org_tallies::{self, Tally};
use crate::models::safety_valve::{self, Verdict};
use crate::models::{admin_sessions, groups};
use scimd_scim::ScimError;
use serde_json::{Value, json};

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
    keep_last_owner(conn, ctx, member, &how)?;
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
            super::roles::on_member_deleted(conn, &ctx.org, &id)?;
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
    if !revoked.is_empty() {
        // The platform ends its own sessions of the member on this event (its `sid`s are these ids).
        let data = serde_json::json!({
            "member_id": id.as_str(), "session_ids": revoked, "reason": "deprovisioned",
        });
        crate::models::events::append(conn, &ctx.org, types::SESSION_REVOKED, ctx.now, &data)?;
    }
    if let Some(o) = details.as_object_mut() {
        o.insert("sessions_revoked".into(), Value::from(revoked.len()));
        if let Some(n) = groups_removed {
            o.insert("groups_removed".into(), Value::from(n));
        }
    }
    audit::record(conn, ctx, action, &member.id, details)?;
    let event = if action == MEMBER_DELETED {
        types::USER_DELETED
    } else {
        types::USER_DEACTIVATED
    };
    feed::user_changed(conn, ctx, event, &row)?;
    Ok(row)
}

/// Refuses (409, audited) to deprovision the org's last live active owner: the owner role is not SCIM's to
/// take away, and SCIM can reach an owner only once linked (see `models::owner_link`).
fn keep_last_owner(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    member: &Member,
    how: &Deprovision<'_>,
) -> Result<(), ScimStoreError> {
    if Role::parse(&member.role) != Role::Owner || !member.active {
        return Ok(());
    }
    if members::other_active_owners(conn, &ctx.org, &member.member_id())? > 0 {
        return Ok(());
    }
    let attempted = match how {
        Deprovision::Deactivate(_) => "deactivate",
        Deprovision::Delete => "delete",
    };
    audit::record(
        conn,
        ctx,
        MEMBER_DEPROVISION_REFUSED,
        &member.id,
        json!({ "attempted": attempted, "reason": "last_active_owner" }),
    )?;
    Err(ScimStoreError::RefusedAudited(ScimError::conflict(
        "This User is the organization's last active owner: SCIM cannot deactivate or delete it. \
         The organization needs another active owner first.",
    )))
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
    feed::user_changed(conn, ctx, types::USER_REACTIVATED, &row)?;
    Ok(row)
}
