//! Small builders shared by the tests.

use chrono::NaiveDateTime;
use scimd_store::models::admin_sessions::{self, AdminSessionRow};
use scimd_store::models::audit_events;
use scimd_store::models::{members, organizations};
use scimd_store::{
    Clock, DbConnection, MemberId, OrgId, SessionId, Store, StoreError, SystemClock, user_name,
};

/// A validated SCIM User document with this userName, active.
pub fn scim_user(name: &str) -> serde_json::Value {
    scimd_scim::resources::validate(
        &serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name, "active": true}),
        &scimd_scim::schema::USER,
    )
    .unwrap()
    .doc
}

pub fn now() -> NaiveDateTime {
    SystemClock.now_naive()
}

pub fn org(conn: &mut DbConnection, name: &str) -> OrgId {
    let id = OrgId::generate();
    organizations::insert(
        conn,
        &organizations::NewOrganization {
            id: id.as_str(),
            name,
            created_at: now(),
        },
    )
    .unwrap();
    id
}

/// An org named `name`, in a write of its own.
pub fn new_org(store: &Store, name: &str) -> OrgId {
    store.write(|conn| Ok::<_, StoreError>(org(conn, name))).unwrap()
}

pub fn member(conn: &mut DbConnection, org: &OrgId, user_name: &str) -> Result<members::Member, StoreError> {
    insert_member(conn, org, user_name, true)
}

/// A member the org invited itself, which SCIM does not manage yet (a SCIM create of its userName links it).
pub fn invited(conn: &mut DbConnection, org: &OrgId, user_name: &str) -> Result<members::Member, StoreError> {
    insert_member(conn, org, user_name, false)
}

fn insert_member(
    conn: &mut DbConnection,
    org: &OrgId,
    user_name: &str,
    scim_managed: bool,
) -> Result<members::Member, StoreError> {
    let id = MemberId::generate();
    members::insert(
        conn,
        &members::NewMember {
            id: id.as_str(),
            org_id: org.as_str(),
            user_name,
            user_name_norm: user_name::normalize(user_name),
            external_id: None,
            role: "member",
            active: true,
            scim_managed,
            display_name: None,
            given_name: None,
            family_name: None,
            email: Some(user_name),
            document: "{}",
            version: 1,
            created_at: now(),
            updated_at: now(),
        },
    )
}

/// An admin session of `member`, open for an hour.
pub fn session(store: &Store, org: &OrgId, member: &str) -> SessionId {
    let id = SessionId::generate();
    let now = now();
    store
        .write(|conn| {
            admin_sessions::insert(
                conn,
                &AdminSessionRow {
                    id: id.as_str().into(),
                    org_id: org.as_str().into(),
                    member_id: member.into(),
                    created_at: now,
                    expires_at: now + chrono::Duration::hours(1),
                    last_seen_at: now,
                    revoked_at: None,
                },
            )
        })
        .unwrap();
    id
}

/// The org's audit actions, oldest first.
pub fn actions(store: &Store, org: &OrgId) -> Vec<String> {
    let mut v: Vec<String> = store
        .read(|conn| audit_events::list(conn, org, None, None, 1000))
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    v.reverse();
    v
}
