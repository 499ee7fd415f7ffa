//! `GET /api/v1/orgs/{org}/audit`: the audit trail as JSON for an owner's or admin's session, filtered by
//! `action`, `since` and `until` (RFC 3339), paged by `cursor` (opaque: pass back the `next_cursor` of the
//! previous response), `limit` from 1 to 200 (default 50).

use crate::api::{cursor, limit};
use crate::error::{AdminError, ApiError};
use crate::session::Authed;
use actix_web::web::Query;
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use scimd_store::models::admin_views::{self, AuditFilter};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
pub struct AuditApiQuery {
    action: Option<String>,
    since: Option<String>,
    until: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

#[derive(Serialize)]
struct EventJson {
    id: String,
    occurred_at: DateTime<Utc>,
    actor: String,
    action: String,
    target: Option<String>,
    details: serde_json::Value,
}

#[derive(Serialize)]
struct PageJson {
    events: Vec<EventJson>,
    next_cursor: Option<String>,
}

fn time(name: &str, raw: Option<&str>) -> Result<Option<chrono::NaiveDateTime>, ApiError> {
    raw.filter(|r| !r.is_empty())
        .map(|r| {
            DateTime::parse_from_rfc3339(r)
                .map(|t| t.with_timezone(&Utc).naive_utc())
                .map_err(|_| {
                    ApiError(AdminError::BadRequest(format!(
                        "{name} must be an RFC 3339 time such as 2026-01-31T00:00:00Z"
                    )))
                })
        })
        .transpose()
}

/// `GET /api/v1/orgs/{org}/audit`
pub async fn audit_api_get(req: HttpRequest, query: Query<AuditApiQuery>) -> Result<HttpResponse, ApiError> {
    let session = Authed::from_req(&req).await?;
    session.require_editor()?;
    let limit = limit(query.limit.as_deref())?;
    let before_seq = cursor(query.cursor.as_deref())?;
    let filter = AuditFilter {
        action: query.action.clone().filter(|a| !a.is_empty()),
        since: time("since", query.since.as_deref())?,
        until: time("until", query.until.as_deref())?,
        before_seq,
    };
    let org = session.info.org_id.clone();
    let page = session
        .state
        .store
        .read_async(move |conn| admin_views::audit_page(conn, &org, &filter, limit))
        .await?;
    let next_cursor = if page.has_older {
        page.rows.last().map(|e| e.seq.to_string())
    } else {
        None
    };
    let events = page
        .rows
        .into_iter()
        .map(|e| EventJson {
            details: serde_json::from_str(&e.details).unwrap_or(serde_json::Value::String(e.details)),
            id: e.id,
            occurred_at: e.occurred_at.and_utc(),
            actor: e.actor,
            action: e.action,
            target: e.target,
        })
        .collect();
    Ok(HttpResponse::Ok().json(PageJson { events, next_cursor }))
}
