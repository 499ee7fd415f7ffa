//! One group: its members, paged by member id (50 a page, the group's primary-key order), and its history.
//! Owners and admins only, as the list; a group of another org is a 404 like one that does not exist.

use crate::assets::Assets;
use crate::error::AdminError;
use crate::pages::audit::{AuditRow, names_for};
use crate::session::Authed;
use crate::view::{self, Page, Time, urlencode};
use actix_web::HttpResponse;
use actix_web::web::{Path, Query};
use askama::Template;
use scimd_store::GroupId;
use scimd_store::models::directory::{self, UserFilter};
use scimd_store::models::{admin_views, groups};
use serde::Deserialize;

pub const PAGE_SIZE: i64 = 50;
pub const HISTORY_SHOWN: i64 = 20;

#[derive(Template)]
#[template(path = "pages/group.html")]
struct GroupPage {
    assets: Assets,
    page: Page,
    name: String,
    external_id: Option<String>,
    member_count: i64,
    updated_at: Time,
    members: Vec<MemberLine>,
    next_url: Option<String>,
    first_url: Option<String>,
    history: Vec<AuditRow>,
}

struct MemberLine {
    href: String,
    email: String,
    name: Option<String>,
    active: bool,
}

#[derive(Deserialize)]
pub struct GroupQuery {
    /// The member id the previous page ended with.
    after: Option<String>,
}

/// `GET /admin/orgs/{org}/groups/{id}?after=`
pub async fn group_get(
    session: Authed,
    path: Path<(String, String)>,
    query: Query<GroupQuery>,
) -> Result<HttpResponse, AdminError> {
    session.require_editor()?;
    let page = Page::load(&session, "groups").await?;
    let (_, id) = path.into_inner();
    let org = session.info.org_id.clone();
    let after = query.after.clone().unwrap_or_default();
    let group_id = id.clone();
    let (group, count, mut rows, history) = session
        .state
        .store
        .read_async(move |conn| {
            let gid = GroupId::new(&group_id);
            let Some(group) = directory::group(conn, &org, &gid)? else {
                return Err(scimd_store::StoreError::NotFound);
            };
            let count = groups::member_count(conn, &org, &gid)?;
            let rows =
                directory::group_members(conn, &org, &gid, &UserFilter::default(), &after, PAGE_SIZE + 1)?;
            let history = admin_views::audit_about(conn, &org, gid.as_str(), HISTORY_SHOWN)?;
            Ok((group, count, rows, history))
        })
        .await?;
    let has_more = rows.len() > usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX));
    let base = page.url(&format!("groups/{}", urlencode(&id)));
    let next_url = match (has_more, rows.last()) {
        (true, Some(last)) => Some(format!("{base}?after={}", urlencode(&last.id))),
        _ => None,
    };
    let first_url = query.after.as_ref().map(|_| base.clone());
    let names = names_for(&session, page.url("").trim_end_matches('/').to_owned(), &history).await?;
    let members = rows
        .iter()
        .map(|m| MemberLine {
            href: page.url(&format!("members/{}", urlencode(&m.id))),
            email: m.email.clone().unwrap_or_else(|| m.user_name.clone()),
            name: m.display_name.clone().filter(|n| !n.trim().is_empty()),
            active: m.active,
        })
        .collect();
    view::ok(&GroupPage {
        assets: view::assets(),
        name: group.display_name,
        external_id: group.external_id,
        member_count: count,
        updated_at: Time::naive(group.updated_at),
        members,
        next_url,
        first_url,
        history: history.iter().map(|e| AuditRow::new(e, &names)).collect(),
        page,
    })
}
