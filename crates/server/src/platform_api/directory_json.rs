//! What the directory API (`directory.rs`) answers and reads, as types: the handlers serialize these, and
//! their `ToSchema` and `IntoParams` derives are the OpenAPI document's (`openapi.rs`), so the two cannot drift
//! apart. A stable, snake_case shape with RFC 3339 times in UTC (docs/PLATFORM.md, "The directory API"); a
//! field that may be empty is `null`, never absent.

use scimd_store::models::events::rfc3339;
use scimd_store::models::groups::Group as GroupRow;
use scimd_store::models::members::Member;
use scimd_store::models::organizations::Organization;
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
#[derive(Debug, Serialize, ToSchema)]
pub struct User {
    /// The SCIM `id`.
    pub id: String,
    pub org_id: String,
    pub user_name: String,
    #[schema(required = true)]
    pub external_id: Option<String>,
    /// `false` once the IdP deactivated the user: revoke their access.
    pub active: bool,
    #[schema(required = true)]
    pub display_name: Option<String>,
    #[schema(required = true)]
    pub given_name: Option<String>,
    #[schema(required = true)]
    pub family_name: Option<String>,
    #[schema(required = true)]
    pub email: Option<String>,
    /// `owner`, `admin` or `member`: their role in scimd's admin pages.
    pub role: String,
    /// Whether the IdP provisions this user over SCIM (the org's owner may not be).
    pub scim_managed: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// Grows with every change: an event whose `version` is not newer than a copy's is already in it.
    pub version: i64,
}

impl From<&Member> for User {
    fn from(m: &Member) -> User {
        User {
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
        }
    }
}

/// A group (its members are a list of their own).
#[derive(Debug, Serialize, ToSchema)]
pub struct Group {
    /// The SCIM `id`.
    pub id: String,
    pub org_id: String,
    pub display_name: String,
    #[schema(required = true)]
    pub external_id: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub version: i64,
}

impl From<&GroupRow> for Group {
    fn from(g: &GroupRow) -> Group {
        Group {
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
    pub users: Vec<User>,
    /// The `after` of the next page; `null` on the last.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
    /// A feed cursor whose events, and every one before it, are already reflected in the page.
    pub as_of_cursor: String,
}

/// A page of a group's members.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberPage {
    pub members: Vec<User>,
    /// The `after` of the next page; `null` on the last.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
    /// A feed cursor whose events, and every one before it, are already reflected in the page.
    pub as_of_cursor: String,
}

/// A page of an org's groups.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupPage {
    pub groups: Vec<Group>,
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
