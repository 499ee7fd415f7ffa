//! `GET /api/v1/orgs/{org}/activity`: provisioning activity as JSON for an owner's or admin's session, newest
//! first, filtered by `outcome` (success, client_error, server_error), paged by `cursor` and `limit`.

use crate::api::{cursor, limit};
use crate::error::ApiError;
use crate::session::Authed;
use crate::view::parse_outcome;
use actix_web::web::Query;
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use scimd_store::models::scim_activity::{self, Outcome};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
pub struct ActivityApiQuery {
    outcome: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

#[derive(Serialize)]
struct RequestJson {
    occurred_at: DateTime<Utc>,
    method: String,
    path: String,
    status: i32,
    outcome: Outcome,
    duration_ms: f64,
    scim_type: Option<String>,
    /// The labels of the IdP dialect rules that fired.
    dialects: Vec<String>,
}

#[derive(Serialize)]
struct PageJson {
    requests: Vec<RequestJson>,
    next_cursor: Option<String>,
}

/// `GET /api/v1/orgs/{org}/activity`
pub async fn activity_api_get(
    req: HttpRequest,
    query: Query<ActivityApiQuery>,
) -> Result<HttpResponse, ApiError> {
    let session = Authed::from_req(&req).await?;
    session.require_editor()?;
    let outcome = parse_outcome(query.outcome.as_deref())?;
    let limit = limit(query.limit.as_deref())?;
    let before_seq = cursor(query.cursor.as_deref())?;
    let org = session.info.org_id.clone();
    let mut rows = session
        .state
        .store
        .read_async(move |conn| scim_activity::list(conn, &org, outcome, before_seq, limit + 1))
        .await?;
    let has_older = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = if has_older {
        rows.last().map(|r| r.seq.to_string())
    } else {
        None
    };
    let requests = rows
        .into_iter()
        .map(|r| RequestJson {
            occurred_at: r.occurred_at.and_utc(),
            outcome: r.outcome(),
            dialects: r.dialect_labels(),
            duration_ms: r.duration_us as f64 / 1000.0,
            method: r.method,
            path: r.path,
            status: r.status,
            scim_type: r.scim_type,
        })
        .collect();
    Ok(HttpResponse::Ok().json(PageJson {
        requests,
        next_cursor,
    }))
}
