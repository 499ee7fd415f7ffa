//! The directory API: `GET /api/v1/orgs`, `/api/v1/orgs/{org}/users[/{id}]`, `/groups[/{id}]` and
//! `/groups/{id}/members`, read with an API key (`scimd_store::models::directory`).
//!
//! Lists are keyset pages: `?after=CURSOR&limit=N` (1 to 1000, default 100) answer
//! `{"users"|"groups"|"members"|"orgs": [...], "next_cursor": CURSOR or null}`; cursors are opaque. Each list of
//! an org's directory also answers `"as_of_cursor"`: an event-feed cursor whose every event, and every one
//! before it, is already reflected in the page. A consumer that copies the directory takes the first page's
//! `as_of_cursor`, copies every page, then follows the feed from it; an event it already holds is recognised
//! by its `version` (the copy's is as new or newer), so nothing is lost and nothing applied twice.
//!
//! The answers are the types of `directory_json`, which are also the OpenAPI document's schemas.

use crate::platform_api::auth::{admit, org_of};
use crate::platform_api::directory_json::{
    Group, GroupFilters, GroupPage, MemberFilters, MemberPage, Org, OrgPage, PageParams, User, UserFilters,
    UserPage,
};
use crate::platform_api::error::{ErrorBody, PlatformApiError};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use scimd_store::models::directory::{self, GroupFilter, UserFilter};
use scimd_store::models::events;
use scimd_store::models::organizations;
use scimd_store::models::platform_views::{GroupView, UserView};
use scimd_store::{GroupId, OrgId, Store, StoreError};
use serde::{Deserialize, Serialize};

pub const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 1_000;
/// The longest cursor or filter value the API reads.
pub const MAX_PARAM: usize = 1_024;

/// The raw query of every list: each field is checked here, so that a bad value is a 400 naming it. What each
/// list accepts is documented by `directory_json::{PageParams, UserFilters, GroupFilters, MemberFilters}`.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    after: Option<String>,
    limit: Option<String>,
    active: Option<String>,
    user_name: Option<String>,
    external_id: Option<String>,
    group: Option<String>,
    display_name: Option<String>,
}

fn bad(what: &str) -> PlatformApiError {
    PlatformApiError::BadRequest(what.to_owned())
}

impl ListQuery {
    fn limit(&self) -> Result<i64, PlatformApiError> {
        match self.limit.as_deref() {
            None => Ok(DEFAULT_LIMIT),
            Some(l) => l
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| bad("limit: a whole number from 1 to 1000")),
        }
    }

    /// The cursor of a list in `seq` order: 0 for the first page.
    fn after_seq(&self) -> Result<i64, PlatformApiError> {
        match self.after.as_deref() {
            None | Some("") => Ok(0),
            Some(c) => c
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| bad("after: a next_cursor this list returned")),
        }
    }

    /// The cursor of a list in member-id order: "" for the first page.
    fn after_id(&self) -> Result<String, PlatformApiError> {
        let after = self.after.clone().unwrap_or_default();
        if after.len() > MAX_PARAM {
            return Err(bad("after: a next_cursor this list returned"));
        }
        Ok(after)
    }

    fn text(value: &Option<String>, name: &str) -> Result<Option<String>, PlatformApiError> {
        match value {
            Some(v) if v.len() > MAX_PARAM => Err(PlatformApiError::BadRequest(format!(
                "{name}: at most {MAX_PARAM} bytes"
            ))),
            other => Ok(other.clone()),
        }
    }

    fn user_filter(&self) -> Result<UserFilter, PlatformApiError> {
        let active = match self.active.as_deref() {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => return Err(bad("active: true or false")),
        };
        Ok(UserFilter {
            active,
            user_name: Self::text(&self.user_name, "user_name")?,
            external_id: Self::text(&self.external_id, "external_id")?,
        })
    }

    fn group_filter(&self) -> Result<GroupFilter, PlatformApiError> {
        Ok(GroupFilter {
            display_name: Self::text(&self.display_name, "display_name")?,
            external_id: Self::text(&self.external_id, "external_id")?,
        })
    }
}

fn ok(body: impl Serialize) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// Reads `f` of an org that exists (404 otherwise), together with the feed cursor it is consistent with:
/// every committed event is positioned first, the newest position read, and only then the rows, so each event
/// up to that cursor is already reflected in them.
async fn read_org<T: Send + 'static>(
    state: &AppState,
    org: OrgId,
    f: impl FnOnce(&mut scimd_store::DbConnection, &OrgId) -> Result<T, StoreError> + Send + 'static,
) -> Result<(i64, T), PlatformApiError> {
    let store: Store = state.store.clone();
    scimd_store::blocking(move || {
        events::catch_up(&store)?;
        store.read(|conn| {
            organizations::find(conn, &org)?.ok_or(PlatformApiError::NotFound("organization"))?;
            let as_of = events::latest(conn)?;
            Ok((as_of, f(conn, &org)?))
        })
    })
    .await
}

/// The next page's cursor: the last row's key when the page is full (a short page is the last).
fn next<T>(page: &[T], limit: i64, key: impl Fn(&T) -> String) -> Option<String> {
    match page.last() {
        Some(last) if i64::try_from(page.len()).unwrap_or(i64::MAX) >= limit => Some(key(last)),
        _ => None,
    }
}

/// The orgs
///
/// The orgs the key may see (a key bound to an org: its own), by id.
#[utoipa::path(
    get,
    path = "/api/v1/orgs",
    operation_id = "listOrgs",
    params(PageParams),
    responses((status = 200, description = "A page of orgs", body = OrgPage)),
)]
pub async fn orgs(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PlatformApiError> {
    let (key, _admission) = admit(&state, &req).await?;
    let (limit, after) = (query.limit()?, query.after_id()?);
    let store = state.store.clone();
    let page = scimd_store::blocking(move || {
        store.read(|conn| match &key.org {
            Some(own) => Ok(organizations::find(conn, own)?
                .filter(|o| o.id.as_str() > after.as_str())
                .into_iter()
                .collect()),
            None => organizations::page(conn, &after, limit),
        })
    })
    .await?;
    Ok(ok(OrgPage {
        next_cursor: next(&page, limit, |o| o.id.clone()),
        orgs: page.iter().map(Org::from).collect(),
    }))
}

/// An org's users
///
/// Every live member of the org, filtered by `active`, `user_name`, `external_id` or `group`.
#[utoipa::path(
    get,
    path = "/api/v1/orgs/{org}/users",
    operation_id = "listUsers",
    params(("org" = String, Path, description = "The org's id"), PageParams, UserFilters),
    responses(
        (status = 200, description = "A page of users", body = UserPage),
        (status = 403, description = "The key is bound to another org", body = ErrorBody),
        (status = 404, description = "No such org, or no such `group`", body = ErrorBody),
    ),
)]
pub async fn users(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PlatformApiError> {
    let (key, _admission) = admit(&state, &req).await?;
    let org = org_of(&key, &path)?;
    let filter = query.user_filter()?;
    let limit = query.limit()?;
    match ListQuery::text(&query.group, "group")? {
        Some(group) => {
            let (users, next_cursor, as_of_cursor) =
                members_page(&state, org, GroupId::new(group), filter, &query).await?;
            Ok(ok(UserPage {
                users,
                next_cursor,
                as_of_cursor,
            }))
        }
        None => {
            let after = query.after_seq()?;
            let (as_of, (page, users)) = read_org(&state, org, move |conn, org| {
                let page = directory::users(conn, org, &filter, after, limit)?;
                let users = UserView::many(conn, &page)?;
                Ok((page, users))
            })
            .await?;
            Ok(ok(UserPage {
                users,
                next_cursor: next(&page, limit, |m| m.seq.to_string()),
                as_of_cursor: as_of.to_string(),
            }))
        }
    }
}

/// A page of a group's members, as `users?group=` and `groups/{id}/members` answer it (404 for an unknown
/// group): the users, the next page's cursor and the `as_of_cursor`.
async fn members_page(
    state: &AppState,
    org: OrgId,
    group: GroupId,
    filter: UserFilter,
    query: &ListQuery,
) -> Result<(Vec<UserView>, Option<String>, String), PlatformApiError> {
    let (limit, after) = (query.limit()?, query.after_id()?);
    let (as_of, page) = read_org(state, org, move |conn, org| {
        match directory::group(conn, org, &group)? {
            None => Ok(None),
            Some(_) => {
                let page = directory::group_members(conn, org, &group, &filter, &after, limit)?;
                let users = UserView::many(conn, &page)?;
                Ok(Some((page, users)))
            }
        }
    })
    .await?;
    let (page, users) = page.ok_or(PlatformApiError::NotFound("group"))?;
    Ok((users, next(&page, limit, |m| m.id.clone()), as_of.to_string()))
}

/// One user
#[utoipa::path(
    get,
    path = "/api/v1/orgs/{org}/users/{id}",
    operation_id = "getUser",
    params(
        ("org" = String, Path, description = "The org's id"),
        ("id" = String, Path, description = "The user's id (the SCIM `id`)"),
    ),
    responses(
        (status = 200, description = "The user", body = User),
        (status = 403, description = "The key is bound to another org", body = ErrorBody),
        (status = 404, description = "No such org or user", body = ErrorBody),
    ),
)]
pub async fn user(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PlatformApiError> {
    let (key, _admission) = admit(&state, &req).await?;
    let (org, id) = path.into_inner();
    let org = org_of(&key, &org)?;
    let (_, found) = read_org(&state, org, move |conn, org| {
        scimd_store::models::members::find(conn, org, &scimd_store::MemberId::new(id))?
            .map(|m| UserView::read(conn, &m))
            .transpose()
    })
    .await?;
    Ok(ok(found.ok_or(PlatformApiError::NotFound("user"))?))
}

/// An org's groups
///
/// Filtered by `display_name` or `external_id`.
#[utoipa::path(
    get,
    path = "/api/v1/orgs/{org}/groups",
    operation_id = "listGroups",
    params(("org" = String, Path, description = "The org's id"), PageParams, GroupFilters),
    responses(
        (status = 200, description = "A page of groups", body = GroupPage),
        (status = 403, description = "The key is bound to another org", body = ErrorBody),
        (status = 404, description = "No such org", body = ErrorBody),
    ),
)]
pub async fn groups(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PlatformApiError> {
    let (key, _admission) = admit(&state, &req).await?;
    let org = org_of(&key, &path)?;
    let (filter, limit, after) = (query.group_filter()?, query.limit()?, query.after_seq()?);
    let (as_of, page) = read_org(&state, org, move |conn, org| {
        directory::groups(conn, org, &filter, after, limit)
    })
    .await?;
    Ok(ok(GroupPage {
        groups: page.iter().map(GroupView::from).collect(),
        next_cursor: next(&page, limit, |g| g.seq.to_string()),
        as_of_cursor: as_of.to_string(),
    }))
}

/// One group
///
/// Its members are a list of their own (`/groups/{id}/members`).
#[utoipa::path(
    get,
    path = "/api/v1/orgs/{org}/groups/{id}",
    operation_id = "getGroup",
    params(
        ("org" = String, Path, description = "The org's id"),
        ("id" = String, Path, description = "The group's id (the SCIM `id`)"),
    ),
    responses(
        (status = 200, description = "The group", body = Group),
        (status = 403, description = "The key is bound to another org", body = ErrorBody),
        (status = 404, description = "No such org or group", body = ErrorBody),
    ),
)]
pub async fn group(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PlatformApiError> {
    let (key, _admission) = admit(&state, &req).await?;
    let (org, id) = path.into_inner();
    let org = org_of(&key, &org)?;
    let (_, found) = read_org(&state, org, move |conn, org| {
        directory::group(conn, org, &GroupId::new(id))
    })
    .await?;
    let g = found.ok_or(PlatformApiError::NotFound("group"))?;
    Ok(ok(GroupView::from(&g)))
}

/// A group's members
///
/// Streams a group of any size page by page.
#[utoipa::path(
    get,
    path = "/api/v1/orgs/{org}/groups/{id}/members",
    operation_id = "listGroupMembers",
    params(
        ("org" = String, Path, description = "The org's id"),
        ("id" = String, Path, description = "The group's id"),
        PageParams,
        MemberFilters,
    ),
    responses(
        (status = 200, description = "A page of the group's members", body = MemberPage),
        (status = 403, description = "The key is bound to another org", body = ErrorBody),
        (status = 404, description = "No such org or group", body = ErrorBody),
    ),
)]
pub async fn group_members(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PlatformApiError> {
    let (key, _admission) = admit(&state, &req).await?;
    let (org, id) = path.into_inner();
    let org = org_of(&key, &org)?;
    let filter = query.user_filter()?;
    let (members, next_cursor, as_of_cursor) =
        members_page(&state, org, GroupId::new(id), filter, &query).await?;
    Ok(ok(MemberPage {
        members,
        next_cursor,
        as_of_cursor,
    }))
}
