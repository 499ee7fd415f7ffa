//! Groups: the org's groups with their member counts, newest first, keyset-paged by `seq`.

use crate::assets::Assets;
use crate::error::AdminError;
use crate::session::Authed;
use crate::view::{self, Page, Time};
use actix_web::HttpResponse;
use actix_web::web::Query;
use askama::Template;
use scimd_store::models::admin_views::{self, Keyset};
use serde::Deserialize;

pub const PAGE_SIZE: i64 = 50;

#[derive(Template)]
#[template(path = "pages/groups.html")]
struct GroupsPage {
    assets: Assets,
    page: Page,
    rows: Vec<GroupRow>,
    total: i64,
    older_url: Option<String>,
    newer_url: Option<String>,
}

struct GroupRow {
    /// The group's page.
    href: String,
    name: String,
    external_id: Option<String>,
    member_count: i64,
    updated_at: Time,
}

#[derive(Deserialize)]
pub struct GroupsQuery {
    after: Option<i64>,
    before: Option<i64>,
}

/// `GET /admin/orgs/{org}/groups?after=&before=`
pub async fn groups_get(session: Authed, query: Query<GroupsQuery>) -> Result<HttpResponse, AdminError> {
    // Least privilege (review 3, L-7): the directory is for the org's owners and admins.
    session.require_editor()?;
    let page = Page::load(&session, "groups").await?;
    let keyset = match (query.after, query.before) {
        (Some(after), _) => Keyset::After(after),
        (None, Some(before)) => Keyset::Before(before),
        (None, None) => Keyset::First,
    };
    let org = session.info.org_id.clone();
    let (result, total) = session
        .state
        .store
        .read_async(move |conn| {
            Ok::<_, scimd_store::StoreError>((
                admin_views::groups_page(conn, &org, keyset, PAGE_SIZE)?,
                admin_views::count_groups(conn, &org)?,
            ))
        })
        .await?;
    let base = page.url("groups");
    let older_url = match (result.has_older, result.rows.last()) {
        (true, Some(last)) => Some(format!("{base}?after={}", last.group.seq)),
        _ => None,
    };
    let newer_url = match (result.has_newer, result.rows.first()) {
        (true, Some(first)) => Some(format!("{base}?before={}", first.group.seq)),
        (true, None) => Some(base.clone()),
        _ => None,
    };
    let rows = result
        .rows
        .into_iter()
        .map(|g| GroupRow {
            href: page.url(&format!("groups/{}", crate::view::urlencode(&g.group.id))),
            name: g.group.display_name,
            external_id: g.group.external_id,
            member_count: g.member_count,
            updated_at: Time::naive(g.group.updated_at),
        })
        .collect();
    view::ok(&GroupsPage {
        assets: view::assets(),
        page,
        rows,
        total,
        older_url,
        newer_url,
    })
}
