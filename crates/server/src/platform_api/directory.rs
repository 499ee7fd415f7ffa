//! The directory API: `GET /api/v1/orgs`, `/api/v1/orgs/{org}/users[/{id}]`, `/groups[/{id}]` and
//! `/groups/{id}/members`, read with an API key (`scimd_store::models::directory`).
//!
//! Lists are keyset pages: `?after=CURSOR&limit=N` (1 to 1000, default 100) answer
//! `{"users"|"groups"|"members"|"orgs": [...], "next_cursor": CURSOR or null}`; cursors are opaque. Each list of
//! an org's directory also answers `"as_of_cursor"`: an event-feed cursor whose every event, and every one
//! before it, is already reflected in the page. A consumer that copies the directory takes the first page's
//! `as_of_cursor`, copies every page, then follows the feed from it; an event it already holds is recognised
//! by its `version` (the copy's is as new or newer), so nothing is lost and nothing applied twice.

use crate::platform_api::auth::{admit, org_of};
use crate::platform_api::error::PlatformApiError;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use scimd_store::models::directory::{self, GroupFilter, UserFilter};
use scimd_store::models::events::{self, rfc3339};
use scimd_store::models::groups::Group;
use scimd_store::models::members::Member;
use scimd_store::models::organizations;
use scimd_store::{GroupId, OrgId, Store, StoreError};
use serde::Deserialize;
use serde_json::{Value, json};

pub const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 1_000;
/// The longest cursor or filter value the API reads.
const MAX_PARAM: usize = 1_024;

/// The raw query of every list: each field is checked here, so that a bad value is a 400 naming it.
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

/// A member as the directory API shows it: a stable, snake_case shape (README, "Consuming the directory").
pub fn user_json(m: &Member) -> Value {
    json!({
        "id": m.id,
        "org_id": m.org_id,
        "user_name": m.user_name,
        "external_id": m.external_id,
        "active": m.active,
        "display_name": m.display_name,
        "given_name": m.given_name,
        "family_name": m.family_name,
        "email": m.email,
        "role": m.role,
        "scim_managed": m.scim_managed,
        "created_at": rfc3339(m.created_at),
        "updated_at": rfc3339(m.updated_at),
        "version": m.version,
    })
}

/// A group as the directory API shows it (its members are a list of their own).
pub fn group_json(g: &Group) -> Value {
    json!({
        "id": g.id,
        "org_id": g.org_id,
        "display_name": g.display_name,
        "external_id": g.external_id,
        "created_at": rfc3339(g.created_at),
        "updated_at": rfc3339(g.updated_at),
        "version": g.version,
    })
}

fn ok(body: Value) -> HttpResponse {
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
fn next<T>(page: &[T], limit: i64, key: impl Fn(&T) -> String) -> Value {
    match page.last() {
        Some(last) if i64::try_from(page.len()).unwrap_or(i64::MAX) >= limit => json!(key(last)),
        _ => Value::Null,
    }
}

/// `GET /api/v1/orgs`: the orgs the key may see (a bound key: its own).
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
    let orgs: Vec<Value> = page
        .iter()
        .map(|o| json!({ "id": o.id, "name": o.name, "created_at": rfc3339(o.created_at) }))
        .collect();
    Ok(ok(
        json!({ "orgs": orgs, "next_cursor": next(&page, limit, |o| o.id.clone()) }),
    ))
}

/// `GET /api/v1/orgs/{org}/users[?active=&user_name=&external_id=&group=]`.
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
        Some(group) => members_page(&state, org, GroupId::new(group), filter, &query, "users").await,
        None => {
            let after = query.after_seq()?;
            let (as_of, page) = read_org(&state, org, move |conn, org| {
                directory::users(conn, org, &filter, after, limit)
            })
            .await?;
            Ok(ok(json!({
                "users": page.iter().map(user_json).collect::<Vec<_>>(),
                "next_cursor": next(&page, limit, |m| m.seq.to_string()),
                "as_of_cursor": as_of.to_string(),
            })))
        }
    }
}

/// A page of a group's members, as `users?group=` and `groups/{id}/members` answer it (404 for an unknown
/// group).
async fn members_page(
    state: &AppState,
    org: OrgId,
    group: GroupId,
    filter: UserFilter,
    query: &ListQuery,
    list: &str,
) -> Result<HttpResponse, PlatformApiError> {
    let (limit, after) = (query.limit()?, query.after_id()?);
    let (as_of, page) = read_org(state, org, move |conn, org| {
        match directory::group(conn, org, &group)? {
            None => Ok(None),
            Some(_) => Ok(Some(directory::group_members(
                conn, org, &group, &filter, &after, limit,
            )?)),
        }
    })
    .await?;
    let page = page.ok_or(PlatformApiError::NotFound("group"))?;
    Ok(ok(json!({
        list: page.iter().map(user_json).collect::<Vec<_>>(),
        "next_cursor": next(&page, limit, |m| m.id.clone()),
        "as_of_cursor": as_of.to_string(),
    })))
}

/// `GET /api/v1/orgs/{org}/users/{id}`.
pub async fn user(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PlatformApiError> {
    let (key, _admission) = admit(&state, &req).await?;
    let (org, id) = path.into_inner();
    let org = org_of(&key, &org)?;
    let (_, found) = read_org(&state, org, move |conn, org| {
        scimd_store::models::members::find(conn, org, &scimd_store::MemberId::new(id))
    })
    .await?;
    let m = found.ok_or(PlatformApiError::NotFound("user"))?;
    Ok(ok(user_json(&m)))
}

/// `GET /api/v1/orgs/{org}/groups[?display_name=&external_id=]`.
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
    Ok(ok(json!({
        "groups": page.iter().map(group_json).collect::<Vec<_>>(),
        "next_cursor": next(&page, limit, |g| g.seq.to_string()),
        "as_of_cursor": as_of.to_string(),
    })))
}

/// `GET /api/v1/orgs/{org}/groups/{id}`.
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
    Ok(ok(group_json(&g)))
}

/// `GET /api/v1/orgs/{org}/groups/{id}/members[?active=]`: streams a group of any size page by page.
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
    members_page(&state, org, GroupId::new(id), filter, &query, "members").await
}
