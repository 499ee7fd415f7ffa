//! Small builders shared by the tests.

use chrono::NaiveDateTime;
use scimd_store::models::{members, organizations};
use scimd_store::{Clock, DbConnection, MemberId, OrgId, StoreError, SystemClock, user_name};

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

pub fn member(conn: &mut DbConnection, org: &OrgId, user_name: &str) -> Result<members::Member, StoreError> {
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
            scim_managed: true,
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
