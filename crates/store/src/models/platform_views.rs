//! One shape for a user and for a group, wherever the platform reads one: the directory API's answers, the
//! feed's `user.*` and `group.*` events and the webhooks that push them (docs/PLATFORM.md, "A user and a
//! group"). snake_case, RFC 3339 times in UTC to the millisecond, a field that may be empty is `null`, never
//! absent. The server's OpenAPI document describes these (`platform_api::directory_json`), and its tests
//! validate real answers against it.

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::ids::OrgId;
use crate::models::events::rfc3339;
use crate::models::groups::Group;
use crate::models::members::Member;
use scimd_scim::schema::CustomSchema;
use serde::Serialize;

/// A member of an org.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserView {
    /// The SCIM `id`, and the `sub` of scimd's ID tokens.
    pub id: String,
    pub org_id: String,
    pub user_name: String,
    pub external_id: Option<String>,
    pub active: bool,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub email: Option<String>,
    pub role: String,
    pub scim_managed: bool,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
    /// The member's effective roles: scimd's own first, then the platform's, sorted
    /// (`provisioning::roles`).
    pub roles: Vec<String>,
    /// The custom attributes in the member's document (`urn:...:scimd:2.0:User`), by name; `{}` when none.
    pub attributes: serde_json::Value,
}

impl UserView {
    /// The view of `m`, with its effective roles read in the caller's unit of work: one statement (by the
    /// grants' primary key), none for a deleted member (its grants went with it).
    pub fn read(conn: &mut DbConnection, m: &Member) -> Result<UserView, StoreError> {
        let mut v = UserView::from(m);
        if m.deleted_at.is_none() {
            let org = OrgId::new(m.org_id.clone());
            let granted = crate::provisioning::roles::granted_roles(conn, &org, &m.id)?;
            v.roles = crate::provisioning::roles::compose(&m.role, granted.iter().map(String::as_str));
        }
        Ok(v)
    }

    /// The views of `page` (members of one org), their roles read in one pass.
    pub fn many(conn: &mut DbConnection, page: &[Member]) -> Result<Vec<UserView>, StoreError> {
        let Some(first) = page.first() else {
            return Ok(Vec::new());
        };
        let org = OrgId::new(first.org_id.clone());
        let ids: Vec<String> = page.iter().map(|m| m.id.clone()).collect();
        let mut roles = crate::provisioning::roles::effective_of(conn, &org, &ids)?;
        Ok(page
            .iter()
            .map(|m| {
                let mut v = UserView::from(m);
                if let Some(r) = roles.remove(&m.id) {
                    v.roles = r;
                }
                v
            })
            .collect())
    }
}

/// Without a read of its grants: the member's own role only. Use [`UserView::read`] or [`UserView::many`].
impl From<&Member> for UserView {
    fn from(m: &Member) -> UserView {
        UserView {
            id: m.id.clone(),
            org_id: m.org_id.clone(),
            user_name: m.user_name.clone(),
            external_id: m.external_id.clone(),
            active: m.active,
            display_name: m.display_name.clone(),
            given_name: m.given_name.clone(),
            family_name: m.family_name.clone(),
            email: m.email.clone(),
            role: m.role.clone(),
            scim_managed: m.scim_managed,
            created_at: rfc3339(m.created_at),
            updated_at: rfc3339(m.updated_at),
            version: m.version,
            roles: crate::provisioning::roles::compose(&m.role, []),
            attributes: serde_json::from_str(&m.document)
                .map(|d| CustomSchema::values_of(&d))
                .unwrap_or_else(|_| serde_json::Value::Object(serde_json::Map::new())),
        }
    }
}

/// A group (its members are a list of their own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupView {
    /// The SCIM `id`.
    pub id: String,
    pub org_id: String,
    pub display_name: String,
    pub external_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

impl From<&Group> for GroupView {
    fn from(g: &Group) -> GroupView {
        GroupView {
            id: g.id.clone(),
            org_id: g.org_id.clone(),
            display_name: g.display_name.clone(),
            external_id: g.external_id.clone(),
            created_at: rfc3339(g.created_at),
            updated_at: rfc3339(g.updated_at),
            version: g.version,
        }
    }
}
