//! Whether SCIM may link the org's owner: an org setting (`org_settings.scim_may_link_owner`), off by default.
//!
//! The owner that `scimd org create` makes is not SCIM-managed. A SCIM create with the owner's userName would
//! otherwise hand the owner's row to whoever holds the org's SCIM token (they could then rename or deactivate
//! it). Only an admin's explicit choice allows it; other members SCIM does not manage yet keep linking.

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::ids::OrgId;
use crate::models::audit_events;
use crate::models::safety_valve;
use crate::schema::org_settings;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// The audit action of a change of the setting.
pub const OWNER_LINK_CONFIGURED: &str = "org.owner_link_configured";

/// Whether a SCIM create may link the org's owner (false when the org saved no settings).
pub fn allowed(conn: &mut DbConnection, org: &OrgId) -> Result<bool, StoreError> {
    Ok(org_settings::table
        .find(org.as_str())
        .select(org_settings::scim_may_link_owner)
        .first(conn)
        .optional()?
        .unwrap_or(false))
}

/// Allows or forbids SCIM to link the org's owner, audited as `actor`. Run it in a write unit of work.
pub fn set_allowed(
    conn: &mut DbConnection,
    org: &OrgId,
    actor: &str,
    allowed: bool,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    safety_valve::lock(conn, org, now)?;
    diesel::update(org_settings::table.find(org.as_str()))
        .set((
            org_settings::scim_may_link_owner.eq(allowed),
            org_settings::updated_at.eq(now),
        ))
        .execute(conn)?;
    let details = serde_json::json!({ "allowed": allowed });
    audit_events::append_for_org(conn, org, actor, OWNER_LINK_CONFIGURED, details, now)
}

/// The audit action of a change of whether SCIM may change a privileged member's identity.
pub const PRIVILEGED_IDENTITY_CONFIGURED: &str = "org.privileged_identity_configured";

/// Whether SCIM may change the `userName` or `externalId` of an owner or admin (false when the org saved no
/// settings). Those are the keys SSO finds a member by: changing them re-points who signs in as that member
/// (review 3, L-10), so only an admin's explicit choice allows it.
pub fn privileged_identity_changes_allowed(conn: &mut DbConnection, org: &OrgId) -> Result<bool, StoreError> {
    Ok(org_settings::table
        .find(org.as_str())
        .select(org_settings::scim_may_change_privileged_identity)
        .first(conn)
        .optional()?
        .unwrap_or(false))
}

/// Allows or forbids SCIM to change a privileged member's identity, audited as `actor`. Run it in a write
/// unit of work.
pub fn set_privileged_identity_changes_allowed(
    conn: &mut DbConnection,
    org: &OrgId,
    actor: &str,
    allowed: bool,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    safety_valve::lock(conn, org, now)?;
    diesel::update(org_settings::table.find(org.as_str()))
        .set((
            org_settings::scim_may_change_privileged_identity.eq(allowed),
            org_settings::updated_at.eq(now),
        ))
        .execute(conn)?;
    let details = serde_json::json!({ "allowed": allowed });
    audit_events::append_for_org(conn, org, actor, PRIVILEGED_IDENTITY_CONFIGURED, details, now)
}
