//! One member: the attributes as the identity provider sent them, the member's groups, live sessions and
//! history (the audit events about them). Owners and admins only, as the list; a member of another org is a
//! 404 like one that does not exist.

use crate::assets::Assets;
use crate::error::AdminError;
use crate::pages::audit::{AuditRow, names_for};
use crate::session::Authed;
use crate::view::{self, Page, Time};
use actix_web::HttpResponse;
use actix_web::web::Path;
use askama::Template;
use scimd_store::models::{admin_sessions, admin_views, directory, groups, members};
use scimd_store::{GroupId, MemberId};

/// The most groups, sessions and history entries a member page lists (the audit trail has the rest).
pub const GROUPS_SHOWN: usize = 100;
pub const SESSIONS_SHOWN: i64 = 20;
pub const HISTORY_SHOWN: i64 = 50;

#[derive(Template)]
#[template(path = "pages/member.html")]
struct MemberPage {
    assets: Assets,
    page: Page,
    m: MemberView,
    /// The stored SCIM document, pretty-printed; empty for a member added by hand.
    attributes: String,
    groups: Vec<(String, String)>,
    more_groups: usize,
    sessions: Vec<SessionView>,
    history: Vec<AuditRow>,
    audit_url: String,
}

struct MemberView {
    name: String,
    email: String,
    user_name: String,
    external_id: Option<String>,
    role: &'static str,
    active: bool,
    deleted: Option<Time>,
    scim_managed: bool,
    created_at: Time,
    updated_at: Time,
}

struct SessionView {
    started: Time,
    last_seen: Time,
    expires: Time,
}

/// `GET /admin/orgs/{org}/members/{id}`
pub async fn member_get(session: Authed, path: Path<(String, String)>) -> Result<HttpResponse, AdminError> {
    session.require_editor()?;
    let page = Page::load(&session, "members").await?;
    let (_, id) = path.into_inner();
    let org = session.info.org_id.clone();
    let now = session.state.clock.now_naive();
    let (member, group_rows, more_groups, sessions, history) = session
        .state
        .store
        .read_async(move |conn| {
            let id = MemberId::new(&id);
            let Some(member) = members::find(conn, &org, &id)? else {
                return Err(scimd_store::StoreError::NotFound);
            };
            let group_ids = groups::ids_of_member(conn, &org, &id)?;
            let more = group_ids.len().saturating_sub(GROUPS_SHOWN);
            let mut group_rows = Vec::new();
            for gid in group_ids.iter().take(GROUPS_SHOWN) {
                if let Some(g) = directory::group(conn, &org, &GroupId::new(gid))? {
                    group_rows.push((g.id, g.display_name));
                }
            }
            let sessions = admin_sessions::live_for_member(conn, &org, &id, now, SESSIONS_SHOWN)?;
            let history = admin_views::audit_about(conn, &org, id.as_str(), HISTORY_SHOWN)?;
            Ok((member, group_rows, more, sessions, history))
        })
        .await?;
    let names = names_for(&session, page.url("").trim_end_matches('/').to_owned(), &history).await?;
    let attributes = serde_json::from_str::<serde_json::Value>(&member.document)
        .ok()
        .filter(|v| v.as_object().is_some_and(|o| !o.is_empty()))
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_default();
    let name = [member.given_name.as_deref(), member.family_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let m = MemberView {
        name: member
            .display_name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or(name),
        email: member.email.clone().unwrap_or_else(|| member.user_name.clone()),
        user_name: member.user_name.clone(),
        external_id: member.external_id.clone(),
        role: member.role().as_str(),
        active: member.active,
        deleted: member.deleted_at.map(Time::naive),
        scim_managed: member.scim_managed,
        created_at: Time::naive(member.created_at),
        updated_at: Time::naive(member.updated_at),
    };
    let groups = group_rows
        .into_iter()
        .map(|(gid, name)| (page.url(&format!("groups/{}", view::urlencode(&gid))), name))
        .collect();
    view::ok(&MemberPage {
        assets: view::assets(),
        audit_url: page.url("audit"),
        page,
        m,
        attributes,
        groups,
        more_groups,
        sessions: sessions
            .iter()
            .map(|s| SessionView {
                started: Time::naive(s.created_at),
                last_seen: Time::naive(s.last_seen_at),
                expires: Time::naive(s.expires_at),
            })
            .collect(),
        history: history.iter().map(|e| AuditRow::new(e, &names)).collect(),
    })
}
