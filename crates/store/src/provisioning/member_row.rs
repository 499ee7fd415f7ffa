//! A SCIM User document as a `members` row: the columns kept beside the document, and the one update of a
//! member's row that every SCIM write uses (users and the lifecycle both call it; neither calls the other's
//! internals).

use super::{ScimStoreError, WriteCtx};
use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::models::members::{self, Member, MemberChanges};
use crate::user_name;
use scimd_scim::ScimError;
use scimd_scim::resources::user::UserView;
use serde_json::Value;

/// The columns kept beside the document.
pub(crate) struct UserColumns<'a> {
    pub(crate) user_name: &'a str,
    pub(crate) external_id: Option<&'a str>,
    pub(crate) active: bool,
    pub(crate) display_name: Option<&'a str>,
    pub(crate) given_name: Option<&'a str>,
    pub(crate) family_name: Option<&'a str>,
    pub(crate) email: Option<&'a str>,
}

/// A User created without `active` is active (RFC 7643 leaves the default to the service provider): the
/// created document says so, so that what is served, filtered and stored agree.
pub(crate) fn with_default_active(doc: &Value) -> Value {
    let mut doc = doc.clone();
    if let Some(o) = doc.as_object_mut()
        && !o.contains_key("active")
    {
        o.insert("active".into(), Value::Bool(true));
    }
    doc
}

/// The columns of a User document. `unassigned_active` is the access state when the document has no `active`
/// (a PATCH removed it, or a PUT left it out): the member's previous state, so that unassigning `active`
/// never reactivates a deactivated member (fail closed) nor deactivates an active one.
pub(crate) fn columns(doc: &Value, unassigned_active: bool) -> Result<UserColumns<'_>, ScimError> {
    let v = UserView(doc);
    let user_name = v
        .user_name()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ScimError::invalid_value("\"userName\" is required and must not be empty."))?;
    user_name::key_within_limit("userName", user_name)?;
    Ok(UserColumns {
        user_name,
        external_id: v.external_id(),
        active: if doc.get("active").is_some() {
            v.active()
        } else {
            unassigned_active
        },
        display_name: v.display_name(),
        given_name: v.given_name(),
        family_name: v.family_name(),
        email: v.primary_email(),
    })
}

pub(crate) fn changes<'a>(
    cols: &UserColumns<'a>,
    document: &'a str,
    version: i64,
    ctx: &WriteCtx,
) -> MemberChanges<'a> {
    MemberChanges {
        user_name: cols.user_name,
        user_name_norm: user_name::normalize(cols.user_name),
        external_id: cols.external_id,
        active: cols.active,
        scim_managed: true,
        display_name: cols.display_name,
        given_name: cols.given_name,
        family_name: cols.family_name,
        email: cols.email,
        document,
        version,
        updated_at: ctx.now,
    }
}

/// Writes `ch` to `before`'s row; a userName another member has is 409 `uniqueness`.
pub(crate) fn update_row(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    before: &Member,
    ch: &MemberChanges<'_>,
) -> Result<Member, ScimStoreError> {
    let renames = ch.user_name_norm != before.user_name_norm;
    match members::update(conn, &ctx.org, &before.member_id(), ch, renames) {
        Err(StoreError::Conflict(_)) => {
            Err(ScimError::uniqueness("Another User of this organization already has this userName.").into())
        }
        other => Ok(other?),
    }
}
