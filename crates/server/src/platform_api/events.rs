//! `GET /api/v1/events?after=CURSOR&limit=N[&org=ORG][&types=a,b][&wait=SECONDS]`: the ordered feed
//! (`scimd_store::models::events`). Answers `{"events": [...], "next_cursor": "..."}`; a consumer that always
//! passes the last `next_cursor` sees every event exactly once, in order. `after` omitted starts at the oldest
//! event, `after=latest` at the newest; `wait` (up to 30 s) holds an empty answer until an event arrives.
//! The types below are also the OpenAPI document's (`openapi.rs`).

use crate::platform_api::error::{ErrorBody, PlatformApiError};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use scimd_store::OrgId;
use scimd_store::models::events::{self, types};
use scimd_tokens::ApiKeyAuth;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{IntoParams, PartialSchema, ToSchema};

pub const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 1_000;
pub const MAX_WAIT_SECS: u64 = 30;
/// How often a long poll looks again.
const POLL: Duration = Duration::from_millis(100);

/// The raw query: every field is parsed here, so that a bad value is this API's 400, naming it (the
/// `param` attributes document what the parse accepts).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// A `next_cursor` from an earlier answer; omitted: from the oldest event; `latest`: only what comes next.
    #[param(pattern = r"^([0-9]+|latest)$")]
    after: Option<String>,
    /// The most events in the answer (default 100).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
    /// One org's events only (a key bound to an org always reads its own, and gets 403 for another).
    org: Option<String>,
    /// A comma-separated list of event types.
    types: Option<String>,
    /// Seconds: an answer with no events waits up to this long for one to arrive (default 0).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 30)]
    wait: Option<String>,
}

/// An answer of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    /// In feed order; empty when nothing came after `after` (within `wait`).
    #[schema(value_type = Vec<Event>)]
    events: Vec<serde_json::Value>,
    /// The `after` of the next request: the last event's `cursor`, or `after` itself when none came.
    next_cursor: String,
}

/// One event of the feed (a webhook delivers the same, as its `data`).
// What `scimd_store::models::events::to_json` writes.
#[derive(ToSchema)]
#[expect(
    dead_code,
    reason = "the schema of the JSON that `events::to_json` writes; never built"
)]
pub struct Event {
    /// Unique: deduplicate by it.
    id: String,
    r#type: EventType,
    org_id: String,
    #[schema(format = DateTime)]
    occurred_at: String,
    /// This event's position in the feed: an `after` that resumes right after it.
    cursor: String,
    /// Depends on `type` (docs/PLATFORM.md, "The event feed").
    #[schema(value_type = Object)]
    data: serde_json::Value,
}

/// An event's type: one of `types::ALL`.
pub struct EventType;

impl PartialSchema for EventType {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(types::ALL))
            .into()
    }
}

impl ToSchema for EventType {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    At(i64),
    Latest,
}

#[derive(Debug)]
struct Params {
    start: Start,
    limit: i64,
    org: Option<OrgId>,
    types: Vec<String>,
    wait: Duration,
}

fn bad(what: &str) -> PlatformApiError {
    PlatformApiError::BadRequest(what.to_owned())
}

impl Params {
    fn parse(q: &FeedQuery, key: &ApiKeyAuth) -> Result<Params, PlatformApiError> {
        let start = match q.after.as_deref() {
            None | Some("") => Start::At(0),
            Some("latest") => Start::Latest,
            Some(c) => Start::At(
                c.parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| bad("after: a cursor this feed returned, or \"latest\""))?,
            ),
        };
        let limit = match q.limit.as_deref() {
            None => DEFAULT_LIMIT,
            Some(l) => l
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| bad("limit: a whole number from 1 to 1000"))?,
        };
        let wait = match q.wait.as_deref() {
            None => 0,
            Some(w) => w
                .parse::<u64>()
                .ok()
                .filter(|n| *n <= MAX_WAIT_SECS)
                .ok_or_else(|| bad("wait: seconds, from 0 to 30"))?,
        };
        let types: Vec<String> = match q.types.as_deref() {
            None | Some("") => Vec::new(),
            Some(list) => list.split(',').map(|t| t.trim().to_owned()).collect(),
        };
        if let Some(unknown) = types.iter().find(|t| !types::ALL.contains(&t.as_str())) {
            return Err(PlatformApiError::BadRequest(format!(
                "types: {unknown:?} is not an event type"
            )));
        }
        // A key bound to an org reads that org's events only.
        let org = match (q.org.as_deref(), &key.org) {
            (Some(asked), _) => {
                let asked = OrgId::new(asked);
                if !key.sees(&asked) {
                    return Err(PlatformApiError::Forbidden);
                }
                Some(asked)
            }
            (None, own) => own.clone(),
        };
        Ok(Params {
            start,
            limit,
            org,
            types,
            wait: Duration::from_secs(wait),
        })
    }
}

/// The event feed
///
/// Every change to the orgs' directories, in commit order: a consumer that always passes the last
/// `next_cursor` sees every event exactly once, in order.
#[utoipa::path(
    get,
    path = "/api/v1/events",
    operation_id = "listEvents",
    params(FeedQuery),
    responses(
        (status = 200, description = "A page of the feed", body = EventPage),
        (status = 403, description = "`org` is not the key's own", body = ErrorBody),
        (
            status = 410,
            description = "`after` is past the feed's retention (`cursor_expired`): start again from `after=latest`",
            body = ErrorBody
        ),
    ),
)]
pub async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<FeedQuery>,
) -> Result<HttpResponse, PlatformApiError> {
    // Held for the whole request, long poll included.
    let (key, _admission) = crate::platform_api::auth::admit(&state, &req).await?;
    let params = Params::parse(&query, &key)?;
    let deadline = Instant::now() + params.wait;
    let mut cursor = params.start;
    loop {
        let store = state.store.clone();
        let (org, event_types, limit) = (params.org.clone(), params.types.clone(), params.limit);
        let (at, page) = scimd_store::blocking(move || {
            events::catch_up(&store)?;
            store.read(|conn| {
                let at = match cursor {
                    Start::At(n) => n,
                    Start::Latest => events::latest(conn)?,
                };
                // Positions are gapless: a cursor below the oldest retained event but one lost events.
                if let Some(oldest) = events::oldest(conn)?
                    && at > 0
                    && at < oldest - 1
                {
                    return Err(PlatformApiError::Gone(format!(
                        "after: the events after cursor {at} are past the feed's retention; \
                         start again from after=latest (or from the oldest event: no after)"
                    )));
                }
                Ok((at, events::after(conn, at, limit, org.as_ref(), &event_types)?))
            })
        })
        .await?;
        cursor = Start::At(at);
        if !page.is_empty() || Instant::now() >= deadline {
            let next = page.last().and_then(|e| e.position).unwrap_or(at);
            let events = page.iter().map(events::to_json).collect::<Result<Vec<_>, _>>()?;
            return Ok(HttpResponse::Ok()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(EventPage {
                    events,
                    next_cursor: next.to_string(),
                }));
        }
        tokio::time::sleep(POLL).await;
    }
}
