//! `audit_events`: the org's audit trail. Append-only: this file offers insert and reads, nothing else, and
//! database triggers refuse UPDATE and DELETE on both backends.

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::ids::OrgId;
use crate::schema::audit_events;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

/// Action names shared by the writers and readers of the trail.
pub mod actions {
    pub const MEMBER_DEACTIVATED: &str = "member.deactivated";
    pub const MEMBER_DELETED: &str = "member.deleted";
    pub const SAFETY_VALVE_TRIPPED: &str = "safety_valve.tripped";
    pub const SAFETY_VALVE_RELEASED: &str = "safety_valve.released";
    pub const SAFETY_VALVE_CONFIGURED: &str = "safety_valve.configured";
    /// The actions that take access away, counted by the safety valve.
    pub const DEPROVISIONING: [&str; 2] = [MEMBER_DEACTIVATED, MEMBER_DELETED];
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    pub seq: i64,
    pub id: String,
    pub org_id: String,
    pub occurred_at: NaiveDateTime,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub details: String,
}

/// An event to record. `details` is a compact JSON object of what changed, never a secret.
#[derive(Debug, Clone)]
pub struct NewAuditEvent<'a> {
    pub org_id: &'a OrgId,
    pub occurred_at: NaiveDateTime,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: Option<&'a str>,
    pub details: serde_json::Value,
}

#[derive(Insertable)]
// `None` is NULL (no column of this table has another default): the INSERT then has one fixed text,
// which diesel keeps prepared instead of building and looking up its SQL on every call.
#[diesel(table_name = audit_events, treat_none_as_default_value = false)]
struct AuditEventInsert<'a> {
    id: String,
    org_id: &'a str,
    occurred_at: NaiveDateTime,
    actor: &'a str,
    action: &'a str,
    target: Option<&'a str>,
    details: String,
}

/// Appends an event; call it inside the transaction of the change it records.
pub fn append(conn: &mut DbConnection, event: &NewAuditEvent<'_>) -> Result<(), StoreError> {
    let row = AuditEventInsert {
        id: uuid::Uuid::new_v4().to_string(),
        org_id: event.org_id.as_str(),
        occurred_at: event.occurred_at,
        actor: event.actor,
        action: event.action,
        target: event.target,
        details: serde_json::to_string(&event.details)?,
    };
    diesel::insert_into(audit_events::table)
        .values(&row)
        .execute(conn)?;
    Ok(())
}

/// Appends an event about the org itself (no target) as `actor`; call it inside the change's transaction.
pub fn append_for_org(
    conn: &mut DbConnection,
    org: &OrgId,
    actor: &str,
    action: &str,
    details: serde_json::Value,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    append(
        conn,
        &NewAuditEvent {
            org_id: org,
            occurred_at: now,
            actor,
            action,
            target: None,
            details,
        },
    )
}

/// A page of the org's events, newest first, optionally of one action and strictly older than `before_seq`
/// (the cursor).
pub fn list(
    conn: &mut DbConnection,
    org: &OrgId,
    action: Option<&str>,
    before_seq: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditEvent>, StoreError> {
    let mut query = audit_events::table
        .filter(audit_events::org_id.eq(org.as_str()))
        .select(AuditEvent::as_select())
        .order(audit_events::seq.desc())
        .limit(limit)
        .into_boxed();
    if let Some(action) = action {
        query = query.filter(audit_events::action.eq(action.to_owned()));
    }
    if let Some(before) = before_seq {
        query = query.filter(audit_events::seq.lt(before));
    }
    Ok(query.load(conn)?)
}
