//! The feed events of SCIM writes (`models::events`): each write appends its event beside its audit event,
//! in the same transaction. A User's or Group's event carries the resource as it is after the change, in the
//! platform's one shape (`models::platform_views`: the directory API's; a Group without its members), and its
//! version; a membership change lists the member
//! ids actually added and removed, [`MEMBERSHIP_CHUNK`] at most per event.

use super::WriteCtx;
use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::models::events::{self, MEMBERSHIP_CHUNK, types};
use crate::models::groups::Group;
use crate::models::members::Member;
use crate::models::platform_views::{GroupView, UserView};
use serde_json::json;

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

/// `group.updated`: [`group_changed`]'s data with the update's `"method"`.
pub fn group_updated(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    row: &Group,
    method: Method,
) -> Result<(), StoreError> {
    let data = json!({ "id": row.id, "version": row.version, "group": GroupView::from(row),
        "method": method.as_str() });
    events::append(conn, &ctx.org, types::GROUP_UPDATED, ctx.now, &data)
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
    let chunks = added.len().max(removed.len()).div_ceil(MEMBERSHIP_CHUNK);
    for i in 0..chunks {
        let part = |ids: &[String]| -> Vec<String> {
            ids.iter()
                .skip(i * MEMBERSHIP_CHUNK)
                .take(MEMBERSHIP_CHUNK)
                .cloned()
                .collect()
        };
        let data = json!({
            "id": row.id,
            "version": row.version,
            "added": part(added),
            "removed": part(removed),
        });
        events::append(conn, &ctx.org, types::GROUP_MEMBERSHIP_CHANGED, ctx.now, &data)?;
    }
    Ok(())
}
