//! The identity of an owner or admin over SCIM (review 3, L-10). SSO finds a member by `externalId` and
//! `userName`; a SCIM caller who could change those of an admin would choose who signs in as that admin. So
//! SCIM may change them only when the org allows it (`models::owner_link::privileged_identity_changes_allowed`,
//! off by default), and every change or refused attempt is audited under its own action, so that it stands
//! out from the stream of `member.updated`.

use super::audit;
use super::{ScimStoreError, WriteCtx};
use crate::connection::DbConnection;
use crate::models::members::{Member, Role};
use crate::models::owner_link;
use crate::user_name;
use scimd_scim::ScimError;
use serde_json::json;

/// A privileged member's `userName` or `externalId` changed over SCIM (or the member was linked).
pub const MEMBER_IDENTITY_CHANGED: &str = "member.privileged_identity_changed";
/// SCIM tried to change them and the org does not allow it.
pub const MEMBER_IDENTITY_CHANGE_REFUSED: &str = "member.privileged_identity_change_refused";

/// Checks a SCIM write of `before` that sets `user_name` and `external_id`, before anything is written. For an
/// owner or admin whose identity keys change: refused (403, the attempt audited and committed) unless the org
/// allows it, then audited. `link`: SCIM takes over a member it did not manage (how an invited admin becomes
/// the IdP's; the owner's link has its own setting): allowed, audited.
pub(super) fn check(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    before: &Member,
    user_name: &str,
    external_id: Option<&str>,
    link: bool,
) -> Result<(), ScimStoreError> {
    let role = before.role();
    if !matches!(role, Role::Owner | Role::Admin) {
        return Ok(());
    }
    let mut changed = Vec::new();
    if user_name::normalize(user_name) != before.user_name_norm {
        changed.push("userName");
    }
    if external_id != before.external_id.as_deref() {
        changed.push("externalId");
    }
    if changed.is_empty() {
        return Ok(());
    }
    let details = json!({ "role": role.as_str(), "changed": changed, "linked": link });
    if !link && !owner_link::privileged_identity_changes_allowed(conn, &ctx.org)? {
        audit::record(conn, ctx, MEMBER_IDENTITY_CHANGE_REFUSED, &before.id, details)?;
        return Err(ScimStoreError::RefusedAudited(ScimError::forbidden(format!(
            "This User is an {} of the organization: SCIM may not change its userName or externalId, \
             which decide who signs in as it. An owner can allow it with \
             `scimd org identity-changes --org ID --set on`.",
            role.as_str()
        ))));
    }
    audit::record(conn, ctx, MEMBER_IDENTITY_CHANGED, &before.id, details)?;
    Ok(())
}

/// The 409 of a SCIM create with the userName of the owner the org keeps from SCIM (`models::owner_link`): no
/// SCIM list shows the owner, so the detail says whose address it is and how to allow the link.
pub(super) fn owner_kept_from_scim() -> ScimStoreError {
    ScimError::uniqueness(
        "This userName belongs to the organization's owner, whom SCIM does not manage: the owner was created \
         with the organization, not by the IdP. To let the IdP take the owner over, an owner allows linking \
         (`scimd org owner-link --org ID --set on`, or the organization's Limits page), then the IdP retries.",
    )
    .into()
}
