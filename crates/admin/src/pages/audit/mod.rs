//! Audit trail: the org's events, newest first, filtered by action, paged by the `seq` cursor.

use crate::assets::Assets;
use crate::error::AdminError;
use crate::session::Authed;
use crate::view::{self, Page, Time, actor_labels, label_actor, urlencode};
use actix_web::HttpResponse;
use actix_web::web::Query;
use askama::Template;
use scimd_store::models::admin_views::{self, AuditFilter};
use scimd_store::models::audit_events::AuditEvent;
use serde::Deserialize;

pub const PAGE_SIZE: i64 = 50;

#[derive(Template)]
#[template(path = "pages/audit.html")]
struct AuditPage {
    assets: Assets,
    page: Page,
    actions: Vec<String>,
    action: String,
    rows: Vec<AuditRow>,
    older_url: Option<String>,
    first_url: Option<String>,
}

struct AuditRow {
    occurred_at: Time,
    actor: String,
    action: String,
    target: Option<String>,
    details: Vec<(String, String)>,
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

#[derive(Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    action: String,
    before: Option<i64>,
}

/// `GET /admin/orgs/{org}/audit?action=&before=`
/// Editors only, as the JSON API: the trail names every session, login link and token hint of the org.
pub async fn audit_get(session: Authed, query: Query<AuditQuery>) -> Result<HttpResponse, AdminError> {
    session.require_editor()?;
    let page = Page::load(&session, "audit").await?;
    let action = query.action.trim().to_owned();
    let filter = AuditFilter {
        action: (!action.is_empty()).then(|| action.clone()),
        before_seq: query.before,
        ..AuditFilter::default()
    };
    let org = session.info.org_id.clone();
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
    let labels = actor_labels(&session, result.rows.iter().map(|e| e.actor.clone())).await?;
    let base = page.url("audit");
    let action_q = if action.is_empty() {
        String::new()
    } else {
        format!("action={}&", urlencode(&action))
    };
    let older_url = match (result.has_older, result.rows.last()) {
        (true, Some(last)) => Some(format!("{base}?{action_q}before={}", last.seq)),
        _ => None,
    };
    let first_url = query
        .before
        .map(|_| format!("{base}?{}", action_q.trim_end_matches('&')));
    let rows = result
        .rows
        .iter()
        .map(|e: &AuditEvent| AuditRow {
            occurred_at: Time::naive(e.occurred_at),
            actor: label_actor(&labels, &e.actor),
            action: e.action.clone(),
            target: e.target.clone(),
            details: details_pairs(&e.details),
        })
        .collect();
    view::ok(&AuditPage {
        assets: view::assets(),
        page,
        actions,
        action,
        rows,
        older_url,
        first_url,
    })
}
