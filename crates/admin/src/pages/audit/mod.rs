//! Audit trail: the org's events in sentences, newest first, filtered by action and by date, paged by the `seq`
//! cursor, and exported as CSV or JSON (`export.rs`).

pub mod export;
pub mod sentence;

use crate::assets::Assets;
use crate::error::AdminError;
use crate::session::Authed;
use crate::view::{self, Page, Time, urlencode};
use actix_web::HttpResponse;
use actix_web::web::Query;
use askama::Template;
use chrono::{NaiveDate, NaiveDateTime};
use scimd_store::models::admin_views::{self, AuditFilter};
use scimd_store::models::audit_events::AuditEvent;
use scimd_store::models::directory;
use scimd_store::{GroupId, OrgId};
use sentence::{Names, Part};
use serde::Deserialize;

pub const PAGE_SIZE: i64 = 50;

#[derive(Template)]
#[template(path = "pages/audit.html")]
struct AuditPage {
    assets: Assets,
    page: Page,
    actions: Vec<String>,
    action: String,
    from: String,
    to: String,
    rows: Vec<AuditRow>,
    older_url: Option<String>,
    first_url: Option<String>,
    /// The export of what is filtered, without the paging cursor.
    export_query: String,
}

/// An event as a row of the trail (also the member and group pages' history).
pub struct AuditRow {
    pub occurred_at: Time,
    pub sentence: Vec<Part>,
    pub action: String,
    pub details: Vec<(String, String)>,
}

impl AuditRow {
    pub fn new(e: &AuditEvent, names: &Names) -> AuditRow {
        let mut details = details_pairs(&e.details);
        if let Some(t) = &e.target {
            details.insert(0, ("target".to_owned(), t.clone()));
        }
        details.insert(0, ("actor".to_owned(), e.actor.clone()));
        AuditRow {
            occurred_at: Time::naive(e.occurred_at),
            sentence: sentence::sentence(e, names),
            action: e.action.clone(),
            details,
        }
    }
}

/// A JSON details object as (key, value) pairs, strings unquoted.
fn details_pairs(raw: &str) -> Vec<(String, String)> {
    match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(serde_json::Value::Object(map)) => map
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| {
                let text = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, text)
            })
            .collect(),
        _ => vec![("details".to_owned(), raw.to_owned())],
    }
}

/// Looks up the names the sentences of these events need, in the org only.
pub async fn names_for(session: &Authed, base: String, events: &[AuditEvent]) -> Result<Names, AdminError> {
    let (member_ids, group_ids) = Names::wanted(events);
    let org = session.info.org_id.clone();
    let (members, groups) = session
        .state
        .store
        .read_async(move |conn| {
            let members = admin_views::member_labels(conn, &org, &member_ids)?;
            let mut groups = Vec::with_capacity(group_ids.len());
            for id in group_ids {
                if let Some(g) = directory::group(conn, &org, &GroupId::new(&id))? {
                    groups.push((id, g.display_name));
                }
            }
            Ok::<_, scimd_store::StoreError>((members, groups))
        })
        .await?;
    Ok(Names {
        base,
        members: members.into_iter().collect(),
        groups: groups.into_iter().collect(),
    })
}

#[derive(Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    action: String,
    /// A day, `YYYY-MM-DD` (UTC), from its start.
    #[serde(default)]
    from: String,
    /// A day, `YYYY-MM-DD` (UTC), to its end.
    #[serde(default)]
    to: String,
    before: Option<i64>,
}

/// The filter the query asks for, and its query string (without the cursor) to carry into links.
pub(crate) fn filter_of(query: &AuditQuery) -> Result<(AuditFilter, String), AdminError> {
    let action = query.action.trim();
    let day = |name: &str, raw: &str| -> Result<Option<NaiveDate>, AdminError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| AdminError::BadRequest(format!("{name} must be a day written YYYY-MM-DD")))
    };
    let from = day("from", &query.from)?;
    let to = day("to", &query.to)?;
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(AdminError::BadRequest("from must not be after to".into()));
    }
    let start = |d: NaiveDate| -> NaiveDateTime { d.and_hms_opt(0, 0, 0).unwrap_or_default() };
    let filter = AuditFilter {
        action: (!action.is_empty()).then(|| action.to_owned()),
        since: from.map(start),
        // Inclusive of the `to` day: until the start of the next one.
        until: to.and_then(|d| d.succ_opt()).map(start),
        before_seq: query.before,
    };
    let mut q = Vec::new();
    if !action.is_empty() {
        q.push(format!("action={}", urlencode(action)));
    }
    if let Some(f) = from {
        q.push(format!("from={f}"));
    }
    if let Some(t) = to {
        q.push(format!("to={t}"));
    }
    Ok((filter, q.join("&")))
}

/// `GET /admin/orgs/{org}/audit?action=&from=&to=&before=`
/// Editors only, as the JSON API: the trail names every session, login link and token hint of the org.
pub async fn audit_get(session: Authed, query: Query<AuditQuery>) -> Result<HttpResponse, AdminError> {
    session.require_editor()?;
    let page = Page::load(&session, "audit").await?;
    let (filter, filter_q) = filter_of(&query)?;
    let org: OrgId = session.info.org_id.clone();
    let (result, actions) = session
        .state
        .store
        .read_async(move |conn| {
            Ok::<_, scimd_store::StoreError>((
                admin_views::audit_page(conn, &org, &filter, PAGE_SIZE)?,
                admin_views::audit_actions(conn, &org)?,
            ))
        })
        .await?;
    let names = names_for(
        &session,
        page.url("").trim_end_matches('/').to_owned(),
        &result.rows,
    )
    .await?;
    let base = page.url("audit");
    let sep = if filter_q.is_empty() { "" } else { "&" };
    let older_url = match (result.has_older, result.rows.last()) {
        (true, Some(last)) => Some(format!("{base}?{filter_q}{sep}before={}", last.seq)),
        _ => None,
    };
    let first_url = query.before.map(|_| format!("{base}?{filter_q}"));
    let rows = result.rows.iter().map(|e| AuditRow::new(e, &names)).collect();
    view::ok(&AuditPage {
        assets: view::assets(),
        page,
        actions,
        action: query.action.trim().to_owned(),
        from: query.from.trim().to_owned(),
        to: query.to.trim().to_owned(),
        rows,
        older_url,
        first_url,
        export_query: filter_q,
    })
}
