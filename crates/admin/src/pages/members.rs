//! Members: the org's users, SCIM-provisioned or not, newest first, searchable by name or email, keyset-paged
//! by `seq` so that every page is as fast at 100,000 members as the first.

use crate::assets::Assets;
use crate::error::AdminError;
use crate::session::Authed;
use crate::view::{self, Page, Time, urlencode};
use actix_web::HttpResponse;
use actix_web::web::Query;
use askama::Template;
use scimd_store::models::admin_views::{self, Keyset};
use scimd_store::models::members::{self, Member};
use serde::Deserialize;

pub const PAGE_SIZE: i64 = 50;

#[derive(Template)]
#[template(path = "pages/members.html")]
struct MembersPage {
    assets: Assets,
    page: Page,
    search: String,
    rows: Vec<MemberRow>,
    /// Members in the org (shown without a search only: counting matches would scan).
    total: Option<i64>,
    older_url: Option<String>,
    newer_url: Option<String>,
}

struct MemberRow {
    /// The member's page.
    href: String,
    name: String,
    email: String,
    initials: String,
    role: &'static str,
    active: bool,
    scim_managed: bool,
    updated_at: Time,
}

impl MemberRow {
    fn new(m: &Member, page: &Page) -> MemberRow {
        let email = m.email.clone().unwrap_or_else(|| m.user_name.clone());
        let name = m
            .display_name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .or_else(|| {
                let joined = [m.given_name.as_deref(), m.family_name.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                (!joined.trim().is_empty()).then_some(joined)
            })
            .unwrap_or_default();
        let source = if name.is_empty() { &email } else { &name };
        let initials = source
            .split(|c: char| c.is_whitespace() || c == '.' || c == '@')
            .filter_map(|w| w.chars().next())
            .take(2)
            .flat_map(char::to_uppercase)
            .collect();
        MemberRow {
            href: page.url(&format!("members/{}", urlencode(&m.id))),
            name,
            email,
            initials,
            role: m.role().as_str(),
            active: m.active,
            scim_managed: m.scim_managed,
            updated_at: Time::naive(m.updated_at),
        }
    }
}

#[derive(Deserialize)]
pub struct MembersQuery {
    #[serde(default)]
    q: String,
    after: Option<i64>,
    before: Option<i64>,
}

/// `GET /admin/orgs/{org}/members?q=&after=&before=`
pub async fn members_get(session: Authed, query: Query<MembersQuery>) -> Result<HttpResponse, AdminError> {
    // Least privilege (review 3, L-7): every SSO-signed-in employee has a session; the directory of their
    // colleagues is for the org's owners and admins.
    session.require_editor()?;
    let page = Page::load(&session, "members").await?;
    let search = query.q.trim().chars().take(200).collect::<String>();
    let keyset = match (query.after, query.before) {
        (Some(after), _) => Keyset::After(after),
        (None, Some(before)) => Keyset::Before(before),
        (None, None) => Keyset::First,
    };
    let org = session.info.org_id.clone();
    let search_for_query = (!search.is_empty()).then(|| search.clone());
    let (result, total) = session
        .state
        .store
        .read_async(move |conn| {
            let result =
                admin_views::members_page(conn, &org, search_for_query.as_deref(), keyset, PAGE_SIZE)?;
            let total = match search_for_query {
                None => Some(members::count_live(conn, &org)?),
                Some(_) => None,
            };
            Ok::<_, scimd_store::StoreError>((result, total))
        })
        .await?;
    let q = if search.is_empty() {
        String::new()
    } else {
        format!("q={}&", urlencode(&search))
    };
    let base = page.url("members");
    let older_url = match (result.has_older, result.rows.last()) {
        (true, Some(last)) => Some(format!("{base}?{q}after={}", last.seq)),
        _ => None,
    };
    let newer_url = match (result.has_newer, result.rows.first()) {
        (true, Some(first)) => Some(format!("{base}?{q}before={}", first.seq)),
        (true, None) => Some(format!("{base}?{}", q.trim_end_matches('&'))),
        _ => None,
    };
    view::ok(&MembersPage {
        assets: view::assets(),
        search,
        rows: result.rows.iter().map(|m| MemberRow::new(m, &page)).collect(),
        page,
        total,
        older_url,
        newer_url,
    })
}
