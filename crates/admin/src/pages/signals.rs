//! Shared Signals: the org's SSF streams (who owns each, how it is delivered, what it carries, its state and
//! how many SETs wait) and each one's recent deliveries, read-only: receivers manage their streams through
//! the SSF endpoints with their API keys. Editors only, like webhooks.

use crate::assets::Assets;
use crate::error::AdminError;
use crate::session::Authed;
use crate::view::{self, Page, Time};
use actix_web::HttpResponse;
use askama::Template;
use scimd_ssf::model::{self, Delivery, Stream};

/// The streams the page shows, and the attempts of each.
const MAX_STREAMS: i64 = 100;
pub const RECENT_DELIVERIES: i64 = 20;

#[derive(Template)]
#[template(path = "pages/signals.html")]
struct SignalsPage {
    assets: Assets,
    page: Page,
    streams: Vec<StreamRow>,
    disable_after_days: i64,
}

struct StreamRow {
    id: String,
    api_key_id: String,
    description: Option<String>,
    method: &'static str,
    endpoint: Option<String>,
    events: Vec<String>,
    status: String,
    pill: &'static str,
    reason: Option<String>,
    failing_since: Option<Time>,
    waiting: i64,
    created_at: Time,
    deliveries: Vec<DeliveryRow>,
}

struct DeliveryRow {
    at: Time,
    event_type: String,
    jti: String,
    attempt: i32,
    status: String,
    delivered: bool,
    error: Option<String>,
    latency_ms: i64,
}

impl StreamRow {
    fn new(s: &Stream, waiting: i64, deliveries: &[Delivery]) -> StreamRow {
        let pill = match (s.status.as_str(), s.failing_since) {
            (model::ENABLED, None) => "pill-success",
            (model::ENABLED, Some(_)) | (model::PAUSED, _) => "pill-warning",
            _ => "pill-danger",
        };
        StreamRow {
            id: s.id.clone(),
            api_key_id: s.api_key_id.clone(),
            description: s.description.clone(),
            method: if s.delivery_method == model::PUSH {
                "push"
            } else {
                "poll"
            },
            endpoint: s.endpoint_url.clone(),
            events: s.delivered(),
            status: s.status.clone(),
            pill,
            reason: s.reason.clone(),
            failing_since: s.failing_since.map(Time::naive),
            waiting,
            created_at: Time::naive(s.created_at),
            deliveries: deliveries
                .iter()
                .map(|d| DeliveryRow {
                    at: Time::naive(d.attempted_at),
                    event_type: d.event_type.clone(),
                    jti: d.jti.clone(),
                    attempt: d.attempt,
                    status: d.status_code.map_or_else(
                        || {
                            if d.delivered {
                                "acknowledged".to_owned()
                            } else {
                                "—".to_owned()
                            }
                        },
                        |s| s.to_string(),
                    ),
                    delivered: d.delivered,
                    error: d.error.clone(),
                    latency_ms: d.latency_ms,
                })
                .collect(),
        }
    }
}

/// `GET /admin/orgs/{org}/signals`
pub async fn signals_get(session: Authed) -> Result<HttpResponse, AdminError> {
    session.require_editor()?;
    let page = Page::load(&session, "signals").await?;
    let org = session.info.org_id.clone();
    let streams = session
        .state
        .store
        .read_async(move |conn| {
            let mut rows = Vec::new();
            for s in model::list_for_org(conn, org.as_str(), MAX_STREAMS)? {
                let waiting = model::pending_count(conn, &s.id)?;
                let deliveries = model::deliveries(conn, &s.id, RECENT_DELIVERIES)?;
                rows.push(StreamRow::new(&s, waiting, &deliveries));
            }
            Ok::<_, scimd_store::StoreError>(rows)
        })
        .await?;
    view::ok(&SignalsPage {
        assets: view::assets(),
        page,
        streams,
        disable_after_days: model::DISABLE_AFTER_DAYS,
    })
}
