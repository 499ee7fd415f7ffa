//! The audit events of SCIM writes: their action names, and the compact diff they carry (the names of the
//! attributes that changed, never their values: no secret and no personal data beyond what the action says).

use super::WriteCtx;
use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::models::audit_events::{self, NewAuditEvent};
use serde_json::{Map, Value};

pub const MEMBER_CREATED: &str = "member.created";
pub const MEMBER_LINKED: &str = "member.linked";
pub const MEMBER_UPDATED: &str = "member.updated";
pub const MEMBER_DEACTIVATED: &str = "member.deactivated";
pub const MEMBER_REACTIVATED: &str = "member.reactivated";
pub const MEMBER_DELETED: &str = "member.deleted";
/// SCIM tried to deactivate or delete the org's last active owner, and was refused.
pub const MEMBER_DEPROVISION_REFUSED: &str = "member.deprovision_refused";
pub const GROUP_CREATED: &str = "group.created";
pub const GROUP_UPDATED: &str = "group.updated";
pub const GROUP_DELETED: &str = "group.deleted";

/// Appends one event in the caller's transaction.
pub fn record(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    action: &str,
    target: &str,
    details: Value,
) -> Result<(), StoreError> {
    audit_events::append(
        conn,
        &NewAuditEvent {
            org_id: &ctx.org,
            occurred_at: ctx.now,
            actor: &ctx.actor,
            action,
            target: Some(target),
            details,
        },
    )
}

/// Adds the SCIM dialects a request was read in (Entra's string booleans, Okta's path-less PATCH, ...) to an
/// event's details, when there were any.
pub fn with_dialects(mut details: Value, dialects: &[scimd_scim::Dialect]) -> Value {
    if !dialects.is_empty()
        && let Some(o) = details.as_object_mut()
    {
        o.insert(
            "dialects".into(),
            Value::from(dialects.iter().map(|d| d.label()).collect::<Vec<_>>()),
        );
    }
    details
}

/// The attributes that differ between two documents: top-level names, and `urn:...:attr` inside extension
/// objects. Sorted, each once.
pub fn changed_attributes(before: &Value, after: &Value) -> Vec<String> {
    let empty = Map::new();
    let b = before.as_object().unwrap_or(&empty);
    let a = after.as_object().unwrap_or(&empty);
    let mut out = Vec::new();
    for key in b.keys().chain(a.keys().filter(|k| !b.contains_key(*k))) {
        if key == "schemas" {
            continue;
        }
        let (bv, av) = (b.get(key), a.get(key));
        if bv == av {
            continue;
        }
        match (bv, av) {
            (Some(Value::Object(bo)), Some(Value::Object(ao))) if key.starts_with("urn:") => {
                for sub in bo.keys().chain(ao.keys().filter(|k| !bo.contains_key(*k))) {
                    if bo.get(sub) != ao.get(sub) {
                        out.push(format!("{key}:{sub}"));
                    }
                }
            }
            _ => out.push(key.clone()),
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diffs_name_attributes_not_values() {
        let before =
            json!({"userName": "a", "active": true, "urn:x:User": {"manager": {"value": "1"}, "d": 1}});
        let after = json!({"userName": "a", "active": false, "title": "T", "urn:x:User": {"manager": {"value": "2"}, "d": 1}});
        assert_eq!(
            changed_attributes(&before, &after),
            vec!["active", "title", "urn:x:User:manager"]
        );
    }
}
