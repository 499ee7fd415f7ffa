//! The feed events of SCIM writes (`models::events`): each write appends its event beside its audit event,
//! in the same transaction. A User's or Group's event carries the resource as it is after the change, in its
//! SCIM representation (a Group without its members), and its version; a membership change lists the member
//! ids actually added and removed, [`MEMBERSHIP_CHUNK`] at most per event.

use super::WriteCtx;
use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::models::events::{self, MEMBERSHIP_CHUNK, types};
use crate::models::groups::Group;
use crate::models::members::Member;
use chrono::{DateTime, NaiveDateTime, Utc};
use scimd_scim::resources::meta::{Meta, set_id_and_meta};
use serde_json::{Value, json};

/// A User's or Group's row as its event shows it: the SCIM resource type, its plural (the location's path)
/// and the key of the representation in the event's data.
pub trait Resource {
    const KIND: (&'static str, &'static str, &'static str);
    /// (id, document, created, last modified, version)
    fn parts(&self) -> (&str, &str, NaiveDateTime, NaiveDateTime, i64);
}

/// Both rows have the same columns for it.
macro_rules! resource {
    ($row:ty, $kind:expr) => {
        impl Resource for $row {
            const KIND: (&'static str, &'static str, &'static str) = $kind;
            fn parts(&self) -> (&str, &str, NaiveDateTime, NaiveDateTime, i64) {
                (
                    &self.id,
                    &self.document,
                    self.created_at,
                    self.updated_at,
                    self.version,
                )
            }
        }
    };
}
resource!(Member, ("User", "Users", "user"));
resource!(Group, ("Group", "Groups", "group"));

/// `user.*`, `group.created|updated|deleted`: `row` as the change left it (as it was, for a group's deletion),
/// as `{"id", "version", "user"|"group": the SCIM representation}`.
pub fn changed<R: Resource>(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    event_type: &str,
    row: &R,
) -> Result<(), StoreError> {
    let (resource_type, plural, key) = R::KIND;
    let (id, document, created, modified, version) = row.parts();
    let mut doc: Value = serde_json::from_str(document)?;
    let utc = |t: NaiveDateTime| DateTime::<Utc>::from_naive_utc_and_offset(t, Utc);
    set_id_and_meta(
        &mut doc,
        id,
        &Meta {
            resource_type: resource_type.to_owned(),
            created: utc(created),
            last_modified: utc(modified),
            location: format!("/scim/v2/{}/{plural}/{id}", ctx.org),
            version: u64::try_from(version).unwrap_or(0),
        },
    );
    let data = json!({ "id": id, "version": version, key: doc });
    events::append(conn, &ctx.org, event_type, ctx.now, &data)
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
