//! What the directory API (`directory.rs`) answers and reads, as types: the handlers serialize these, and
//! their `ToSchema` and `IntoParams` derives are the OpenAPI document's (`openapi.rs`), so the two cannot drift
//! apart. A user and a group are `scimd_store::models::platform_views`' shapes, the feed's and webhooks' too
//! (docs/PLATFORM.md, "A user and a group"); `User` and `Group` here document them.

use scimd_store::models::events::rfc3339;
use scimd_store::models::organizations::Organization;
use scimd_store::models::platform_views::{GroupView, UserView};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

/// An org the key may see.
#[derive(Debug, Serialize, ToSchema)]
pub struct Org {
    pub id: String,
    pub name: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&Organization> for Org {
    fn from(o: &Organization) -> Org {
        Org {
            id: o.id.clone(),
            name: o.name.clone(),
            created_at: rfc3339(o.created_at),
        }
    }
}

/// A member of an org.
// The shape is `scimd_store::models::platform_views::UserView`, which the answers serialize: this type only
// documents it (the schema test validates real answers against it).
#[derive(ToSchema)]
#[expect(dead_code, reason = "the schema of `UserView`; never built")]
pub struct User {
    /// The SCIM `id`.
    id: String,
    org_id: String,
    user_name: String,
    #[schema(required = true)]
    external_id: Option<String>,
    /// `false` once the IdP deactivated the user: revoke their access.
    active: bool,
    #[schema(required = true)]
    display_name: Option<String>,
    #[schema(required = true)]
    given_name: Option<String>,
    #[schema(required = true)]
    family_name: Option<String>,
    #[schema(required = true)]
    email: Option<String>,
    /// `owner`, `admin` or `member`: their role in scimd's admin pages.
    role: String,
    /// Whether the IdP provisions this user over SCIM (the org's owner may not be).
    scim_managed: bool,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
    /// Grows with every change: an event whose `version` is not newer than a copy's is already in it.
    version: i64,
    /// The user's effective roles: scimd's own (`owner`, `admin` or `member`) first, then the platform's
    /// roles from its IdP groups (and the IdP's `roles` attribute, when the org honours it), sorted.
    roles: Vec<String>,
    /// The custom attributes the IdP sent (`urn:ietf:params:scim:schemas:extension:scimd:2.0:User`), by
    /// name: each a string, boolean, number or array as declared (`scimd attribute list`); `{}` when none.
    #[schema(value_type = Object)]
    attributes: serde_json::Value,
}

/// A group (its members are a list of their own).
// As `User`: the shape is `platform_views::GroupView`.
#[derive(ToSchema)]
#[expect(dead_code, reason = "the schema of `GroupView`; never built")]
pub struct Group {
    /// The SCIM `id`.
    id: String,
    org_id: String,
    display_name: String,
    #[schema(required = true)]
    external_id: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
    version: i64,
}

/// A page of orgs.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgPage {
    pub orgs: Vec<Org>,
    /// The `after` of the next page; `null` on the last.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// A page of an org's users (or of a group's, with `group=`).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    #[schema(value_type = Vec<User>)]
    pub users: Vec<UserView>,
    /// The `after` of the next page; `null` on the last.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
    /// A feed cursor whose events, and every one before it, are already reflected in the page.
    pub as_of_cursor: String,
}

/// A page of a group's members.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberPage {
    #[schema(value_type = Vec<User>)]
    pub members: Vec<UserView>,
    /// The `after` of the next page; `null` on the last.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
    /// A feed cursor whose events, and every one before it, are already reflected in the page.
    pub as_of_cursor: String,
}

/// A page of an org's groups.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupPage {
    #[schema(value_type = Vec<Group>)]
    pub groups: Vec<GroupView>,
    /// The `after` of the next page; `null` on the last.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
    /// A feed cursor whose events, and every one before it, are already reflected in the page.
    pub as_of_cursor: String,
}

/// The paging of every list, as `directory::ListQuery` parses it.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(
    dead_code,
    reason = "documents the parse of `directory::ListQuery`; never built"
)]
pub struct PageParams {
    /// A `next_cursor` this list returned (opaque); omitted: the first page.
    #[param(max_length = 1024)]
    after: Option<String>,
    /// The most rows in the page (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

/// The filters of an org's users.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(
    dead_code,
    reason = "documents the parse of `directory::ListQuery`; never built"
)]
pub struct UserFilters {
    /// Active users only, or deactivated ones only.
    active: Option<bool>,
    /// Case-insensitive.
    #[param(max_length = 1024)]
    user_name: Option<String>,
    /// The IdP's id of the user.
    #[param(max_length = 1024)]
    external_id: Option<String>,
    /// A group's id: its members only (then `after` is a member id).
    #[param(max_length = 1024)]
    group: Option<String>,
}

/// The filters of an org's groups.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(
    dead_code,
    reason = "documents the parse of `directory::ListQuery`; never built"
)]
pub struct GroupFilters {
    #[param(max_length = 1024)]
    display_name: Option<String>,
    /// The IdP's id of the group.
    #[param(max_length = 1024)]
    external_id: Option<String>,
}

/// The filter of a group's members.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(
    dead_code,
    reason = "documents the parse of `directory::ListQuery`; never built"
)]
pub struct MemberFilters {
    /// Active members only, or deactivated ones only.
    active: Option<bool>,
}
