//! `GET /api/v1/events?after=CURSOR&limit=N[&org=ORG][&types=a,b][&wait=SECONDS]`: the ordered feed
//! (`scimd_store::models::events`). Answers `{"events": [...], "next_cursor": "..."}`; a consumer that always
//! passes the last `next_cursor` sees every event exactly once, in order. `after` omitted starts at the oldest
//! event, `after=latest` at the newest; `wait` (up to 30 s) holds an empty answer until an event arrives.

use crate::platform_api::error::PlatformApiError;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use scimd_store::OrgId;
use scimd_store::models::events::{self, types};
use scimd_tokens::ApiKeyAuth;
use serde::Deserialize;
use serde_json::json;
use std::time::{Duration, Instant};

pub const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 1_000;
pub const MAX_WAIT_SECS: u64 = 30;
/// How often a long poll looks again.
const POLL: Duration = Duration::from_millis(100);

/// The raw query: every field is parsed here, so that a bad value is this API's 400, naming it.
#[derive(Debug, Deserialize)]
pub struct FeedQuery {
    after: Option<String>,
    limit: Option<String>,
    org: Option<String>,
    types: Option<String>,
    wait: Option<String>,
}

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
                .json(json!({ "events": events, "next_cursor": next.to_string() })));
        }
        tokio::time::sleep(POLL).await;
    }
}
