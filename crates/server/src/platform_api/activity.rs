//! `GET /api/v1/orgs/{org}/activity`: an org's provisioning activity (`scimd_store::models::scim_activity`),
//! one entry per SCIM request that came with the org's token, newest first, filtered by `outcome`, in keyset
//! pages (`after`). Kept 30 days. What the admin pages' activity shows, for the platform's own monitoring.

use crate::platform_api::audit::{after, limit, ok};
use crate::platform_api::auth::{admit, org_of};
use crate::platform_api::error::{ErrorBody, PlatformApiError};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use scimd_store::models::events::rfc3339;
use scimd_store::models::organizations;
use scimd_store::models::scim_activity::{self, Outcome};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The raw query: every field is parsed here, so that a bad value is this API's 400, naming it.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityQuery {
    /// A `next_cursor` from the previous page; omitted: the newest requests.
    #[param(pattern = r"^[0-9]+$")]
    after: Option<String>,
    /// The most requests in the page (default 100).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
    /// Requests of one outcome only.
    #[param(value_type = Option<OutcomeSchema>)]
    outcome: Option<String>,
}

/// What a request's status says: `success` (1xx-3xx), `client_error` (4xx: the IdP sent something scimd
/// refused), `server_error` (5xx, or the safety valve holding a deprovisioning). The schema of
/// `scim_activity::Outcome`, which the answers serialize.
#[derive(ToSchema)]
#[schema(as = Outcome, rename_all = "snake_case")]
pub enum OutcomeSchema {
    Success,
    ClientError,
    ServerError,
}

/// A page of an org's provisioning activity, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityPage {
    pub requests: Vec<Request>,
    /// The `after` of the next (older) page; `null` on the last.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// One SCIM request (never its body nor its token).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ActivityRequest)]
pub struct Request {
    #[schema(format = DateTime)]
    pub occurred_at: String,
    pub method: String,
    /// The request's path, as the IdP sent it.
    pub path: String,
    pub status: i32,
    #[schema(value_type = OutcomeSchema)]
    pub outcome: Outcome,
    pub duration_ms: f64,
    /// The SCIM error's `scimType`, when scimd refused the request with one.
    #[schema(required = true)]
    pub scim_type: Option<String>,
    /// scimd's own `detail` of a refused or failed request, as the IdP was told it.
    #[schema(required = true)]
    pub detail: Option<String>,
    /// The labels of the IdP dialect rules that fired (scimd's adjustments to an IdP's known habits).
    pub dialects: Vec<String>,
}

/// An org's provisioning activity
///
/// Every SCIM request made with one of the org's tokens, newest first; `outcome` picks the refused or
/// failed ones.
#[utoipa::path(
    get,
    path = "/api/v1/orgs/{org}/activity",
    operation_id = "listActivity",
    params(("org" = String, Path, description = "The org's id"), ActivityQuery),
    responses(
        (status = 200, description = "A page of provisioning activity", body = ActivityPage),
        (status = 403, description = "The key is bound to another org", body = ErrorBody),
        (status = 404, description = "No such org", body = ErrorBody),
    ),
)]
pub async fn activity(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<ActivityQuery>,
) -> Result<HttpResponse, PlatformApiError> {
    let (key, _admission) = admit(&state, &req).await?;
    let org = org_of(&key, &path)?;
    let outcome = match query.outcome.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(Outcome::parse(raw).ok_or_else(|| {
            PlatformApiError::BadRequest("outcome: success, client_error or server_error".into())
        })?),
    };
    let before_seq = after(query.after.as_deref())?;
    let limit = limit(query.limit.as_deref())?;
    let mut rows = state
        .store
        .read_async(move |conn| {
            organizations::find(conn, &org)?.ok_or(PlatformApiError::NotFound("organization"))?;
            Ok::<_, PlatformApiError>(scim_activity::list(conn, &org, outcome, before_seq, limit + 1)?)
        })
        .await?;
    let page_len = usize::try_from(limit).unwrap_or(usize::MAX);
    let has_older = rows.len() > page_len;
    rows.truncate(page_len);
    let next_cursor = has_older
        .then(|| rows.last().map(|r| r.seq.to_string()))
        .flatten();
    let requests = rows
        .into_iter()
        .map(|r| Request {
            occurred_at: rfc3339(r.occurred_at),
            outcome: r.outcome(),
            dialects: r.dialect_labels(),
            // Microseconds as milliseconds: exact for any request shorter than a century.
            duration_ms: r.duration_us as f64 / 1000.0,
            method: r.method,
            path: r.path,
            status: r.status,
            scim_type: r.scim_type,
            detail: r.detail,
        })
        .collect();
    Ok(ok(ActivityPage {
        requests,
        next_cursor,
    }))
}
