//! The feed events of SCIM writes (`models::events`): each write appends its event beside its audit event,
//! in the same transaction. A User's or Group's event carries the resource as it is after the change, in the
//! platform's one shape (`models::platform_views`: the directory API's; a Group without its members), and its
//! version; a membership change lists the member
//! ids actually added and removed, [`MEMBERSHIP_CHUNK`] at most per event.

use super::WriteCtx;
use super::roles::RolesChange;
use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::models::events::{self, MEMBERSHIP_CHUNK, types};
use crate::models::groups::Group;
use crate::models::members::Member;
use crate::models::platform_views::{GroupView, UserView};
use serde_json::{Value, json};

/// `user.*`, `group.created|updated|deleted`: `row` as the change left it (as it was, for a group's deletion),
/// as `{"id", "version", "user"|"group": ...}` in the platform's one shape of a user and a group
/// (`models::platform_views`), the directory API's.
pub fn user_changed(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    event_type: &str,
    row: &Member,
) -> Result<(), StoreError> {
    let data = json!({ "id": row.id, "version": row.version, "user": UserView::read(conn, row)? });
    events::append(conn, &ctx.org, event_type, ctx.now, &data)
}

/// The SCIM method of an update (RFC 7644 §3.5.1 PUT, §3.5.2 PATCH), which RFC 9967 tells apart
/// (`prov:put:*`, `prov:patch:*`): `user.updated` and `group.updated` carry it as `"method"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Put,
    Patch,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Put => "put",
            Method::Patch => "patch",
        }
    }
}

/// `user.updated`: [`user_changed`]'s data with the update's `"method"` (in the same row: no extra statement).
pub fn user_updated(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    row: &Member,
    method: Method,
) -> Result<(), StoreError> {
    let data = json!({ "id": row.id, "version": row.version, "user": UserView::read(conn, row)?,
        "method": method.as_str() });
    events::append(conn, &ctx.org, types::USER_UPDATED, ctx.now, &data)
}

/// [`user_changed`] of a group.
pub fn group_changed(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    event_type: &str,
    row: &Group,
) -> Result<(), StoreError> {
    let data = json!({ "id": row.id, "version": row.version, "group": GroupView::from(row) });
    events::append(conn, &ctx.org, event_type, ctx.now, &data)
}

/// `group.updated`'s data: [`group_changed`]'s with the update's `"method"`.
fn group_updated_data(row: &Group, method: Method) -> Value {
    json!({ "id": row.id, "version": row.version, "group": GroupView::from(row), "method": method.as_str() })
}

/// What a Group's update did to its members: the ids it added and removed, and the roles that moved with them
/// (issue #26).
#[derive(Debug, Default)]
pub struct MembersMoved {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub roles: Vec<RolesChange>,
}

/// The feed events of a Group's update, written together in one statement (`events::append_each`):
/// `group.updated` with the update's method when the document changed (`document` is `Some`),
/// `group.membership_changed` when members did, and `user.roles_changed` of each moved member whose roles
/// the change moved.
pub fn group_update(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    row: &Group,
    document: Option<Method>,
    members: &MembersMoved,
) -> Result<(), StoreError> {
    let mut data = Vec::new();
    if let Some(method) = document {
        data.push((types::GROUP_UPDATED, group_updated_data(row, method)));
    }
    data.extend(
        membership_data(row, &members.added, &members.removed).map(|d| (types::GROUP_MEMBERSHIP_CHANGED, d)),
    );
    for change in &members.roles {
        data.push((types::USER_ROLES_CHANGED, serde_json::to_value(change)?));
    }
    let each: Vec<(&str, &Value)> = data.iter().map(|(t, d)| (*t, d)).collect();
    events::append_each(conn, &ctx.org, ctx.now, &each)
}

/// `group.membership_changed` for the member ids the write added to and removed from `row`, in chunks; none
/// when nothing changed.
pub fn membership(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    row: &Group,
    added: &[String],
    removed: &[String],
) -> Result<(), StoreError> {
    for data in membership_data(row, added, removed) {
        events::append(conn, &ctx.org, types::GROUP_MEMBERSHIP_CHANGED, ctx.now, &data)?;
    }
    Ok(())
}

/// The data of [`membership`]'s events.
fn membership_data<'a>(
    row: &'a Group,
    added: &'a [String],
    removed: &'a [String],
) -> impl Iterator<Item = Value> + 'a {
    let chunks = added.len().max(removed.len()).div_ceil(MEMBERSHIP_CHUNK);
    (0..chunks).map(move |i| {
        let part = |ids: &[String]| -> Vec<String> {
            ids.iter()
                .skip(i * MEMBERSHIP_CHUNK)
                .take(MEMBERSHIP_CHUNK)
                .cloned()
                .collect()
        };
        json!({
            "id": row.id,
            "version": row.version,
            "added": part(added),
            "removed": part(removed),
        })
    })
}
