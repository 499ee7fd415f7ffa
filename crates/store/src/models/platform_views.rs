//! One shape for a user and for a group, wherever the platform reads one: the directory API's answers, the
//! feed's `user.*` and `group.*` events and the webhooks that push them (docs/PLATFORM.md, "A user and a
//! group"). snake_case, RFC 3339 times in UTC to the millisecond, a field that may be empty is `null`, never
//! absent. The server's OpenAPI document describes these (`platform_api::directory_json`), and its tests
//! validate real answers against it.

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
    /// The custom attributes in the member's document (`urn:...:scimd:2.0:User`), by name; `{}` when none.
    pub attributes: serde_json::Value,
}

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
