//! `GET /api/v1/orgs/{org}/audit`: an org's audit trail (`scimd_store::models::admin_views::audit_page`),
//! newest first, filtered by `action` and a time range (`since`, `until`: RFC 3339), in keyset pages
//! (`after`: the previous answer's `next_cursor`). What the admin pages show as the audit trail, for the
//! platform's compliance exports and SIEMs. The types below are also the OpenAPI document's.

use crate::platform_api::auth::{admit, org_of};
use crate::platform_api::error::{ErrorBody, PlatformApiError};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use scimd_store::models::admin_views::{self, AuditFilter};
use scimd_store::models::events::rfc3339;
use scimd_store::models::organizations;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 1_000;
/// The longest `action` the API reads (no action is longer than a few dozen bytes).
const MAX_ACTION: usize = 128;

/// The raw query: every field is parsed here, so that a bad value is this API's 400, naming it.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// A `next_cursor` from the previous page; omitted: the newest events.
    #[param(pattern = r"^[0-9]+$")]
    after: Option<String>,
    /// The most events in the page (default 100).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
    /// One action only, such as `member.deactivated`.
    #[param(max_length = 128)]
    action: Option<String>,
    /// Only events at or after this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    since: Option<String>,
    /// Only events before this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    until: Option<String>,
}

/// A page of an org's audit trail, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    /// The `after` of the next (older) page; `null` on the last.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// One entry of the audit trail.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    pub id: String,
    #[schema(format = DateTime)]
    pub occurred_at: String,
    /// Who did it: `idp:TOKEN_HINT` (an IdP with the org's SCIM token), `member:MEMBER_ID` (in the admin
    /// pages), `cli` (the command line), `system` (scimd itself), ...
    pub actor: String,
    /// What happened, such as `member.created` or `scim_token.generated`.
    pub action: String,
    /// What it happened to (a member's, group's or token's id), when it names one.
    #[schema(required = true)]
    pub target: Option<String>,
    /// What changed, by action; never a secret.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

fn bad(what: &str) -> PlatformApiError {
    PlatformApiError::BadRequest(what.to_owned())
}

/// `limit`, as every newest-first list of this API reads it.
pub(crate) fn limit(raw: Option<&str>) -> Result<i64, PlatformApiError> {
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| bad("limit: a whole number from 1 to 1000")),
    }
}

/// `after` of a newest-first list: the `seq` of the previous page's last row, or none for the newest.
pub(crate) fn after(raw: Option<&str>) -> Result<Option<i64>, PlatformApiError> {
    match raw {
        None | Some("") => Ok(None),
        Some(c) => c
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .map(Some)
            .ok_or_else(|| bad("after: a next_cursor this list returned")),
    }
}

fn time(name: &str, raw: Option<&str>) -> Result<Option<NaiveDateTime>, PlatformApiError> {
    raw.filter(|r| !r.is_empty())
        .map(|r| {
            DateTime::parse_from_rfc3339(r)
                .map(|t| t.with_timezone(&Utc).naive_utc())
                .map_err(|_| {
                    PlatformApiError::BadRequest(format!(
                        "{name}: an RFC 3339 time such as 2026-01-31T00:00:00Z"
                    ))
                })
        })
        .transpose()
}

pub(crate) fn ok(body: impl Serialize) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// An org's audit trail
///
/// Newest first; `since` and `until` bound the time, `action` picks one kind of entry.
#[utoipa::path(
    get,
    path = "/api/v1/orgs/{org}/audit",
    operation_id = "listAuditEvents",
    params(("org" = String, Path, description = "The org's id"), AuditQuery),
    responses(
        (status = 200, description = "A page of the audit trail", body = AuditPage),
        (status = 403, description = "The key is bound to another org", body = ErrorBody),
        (status = 404, description = "No such org", body = ErrorBody),
    ),
)]
pub async fn audit(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, PlatformApiError> {
    let (key, _admission) = admit(&state, &req).await?;
    let org = org_of(&key, &path)?;
    let action = match query.action.as_deref() {
        Some(a) if a.len() > MAX_ACTION => return Err(bad("action: at most 128 bytes")),
        other => other.filter(|a| !a.is_empty()).map(str::to_owned),
    };
    let filter = AuditFilter {
        action,
        since: time("since", query.since.as_deref())?,
        until: time("until", query.until.as_deref())?,
        before_seq: after(query.after.as_deref())?,
    };
    let limit = limit(query.limit.as_deref())?;
    let page = state
        .store
        .read_async(move |conn| {
            organizations::find(conn, &org)?.ok_or(PlatformApiError::NotFound("organization"))?;
            Ok::<_, PlatformApiError>(admin_views::audit_page(conn, &org, &filter, limit)?)
        })
        .await?;
    let next_cursor = page
        .has_older
        .then(|| page.rows.last().map(|e| e.seq.to_string()))
        .flatten();
    let events = page
        .rows
        .into_iter()
        .map(|e| AuditEvent {
            // Written by scimd as a JSON object; an older row that is not one is kept as its text.
            details: serde_json::from_str(&e.details).unwrap_or(serde_json::Value::String(e.details)),
            id: e.id,
            occurred_at: rfc3339(e.occurred_at),
            actor: e.actor,
            action: e.action,
            target: e.target,
        })
        .collect();
    Ok(ok(AuditPage { events, next_cursor }))
}
