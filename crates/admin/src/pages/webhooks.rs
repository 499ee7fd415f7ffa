//! Webhooks: the org's endpoints (state, where each is in the feed, "send test event", delete), a form to
//! add one (its signing secret is shown once, on the page that answers the form), and the recent attempts
//! to deliver the org's events, with status and latency. Editors only: endpoints are configuration.

use crate::assets::Assets;
use crate::error::AdminError;
use crate::session::{Authed, EmptyForm, Posted};
use crate::view::{self, Page, Time, see_other};
use actix_web::HttpResponse;
use actix_web::web::{Path, Query};
use askama::Template;
use scimd_store::models::webhooks::{self, DISABLE_AFTER_DAYS, Delivery, Endpoint};
use scimd_webhooks::client::{DEFAULT_TIMEOUT, Sender};
use scimd_webhooks::{WebhookError, WebhookService, test_event};
use serde::Deserialize;

/// The attempts the page shows.
pub const RECENT_DELIVERIES: i64 = 50;

#[derive(Template)]
#[template(path = "pages/webhooks.html")]
struct WebhooksPage {
    assets: Assets,
    page: Page,
    endpoints: Vec<EndpointRow>,
    deliveries: Vec<DeliveryRow>,
    /// The form as typed, and why it was refused.
    form_url: String,
    form_error: Option<String>,
    disable_after_days: i64,
    /// Every event type, and whether its box is checked.
    event_types: Vec<(&'static str, bool)>,
}

#[derive(Template)]
#[template(path = "pages/webhook_reveal.html")]
struct RevealPage {
    assets: Assets,
    page: Page,
    url: String,
    secret: String,
}

struct EndpointRow {
    id: String,
    url: String,
    types: String,
    /// `active`, `failing` or `disabled`, with its pill.
    state: &'static str,
    pill: &'static str,
    since: Option<Time>,
    cursor: i64,
    created_at: Time,
}

impl EndpointRow {
    fn new(e: &Endpoint) -> EndpointRow {
        let (state, pill, since) = match (e.disabled_at, e.failing_since) {
            (Some(at), _) => ("disabled", "pill-danger", Some(at)),
            (None, Some(at)) => ("failing", "pill-warning", Some(at)),
            (None, None) => ("active", "pill-success", None),
        };
        EndpointRow {
            id: e.id.clone(),
            url: e.url.clone(),
            types: if e.types.is_empty() {
                "every event".to_owned()
            } else {
                e.type_list().join(", ")
            },
            state,
            pill,
            since: since.map(Time::naive),
            cursor: e.cursor,
            created_at: Time::naive(e.created_at),
        }
    }
}

struct DeliveryRow {
    at: Time,
    endpoint_id: String,
    event_type: String,
    event_id: String,
    attempt: i32,
    status: String,
    latency_ms: i64,
    delivered: bool,
    error: Option<String>,
}

impl DeliveryRow {
    fn new(d: &Delivery) -> DeliveryRow {
        DeliveryRow {
            at: Time::naive(d.attempted_at),
            endpoint_id: d.endpoint_id.clone(),
            event_type: d.event_type.clone(),
            event_id: d.event_id.clone(),
            attempt: d.attempt,
            status: d.status_code.map_or_else(|| "—".to_owned(), |s| s.to_string()),
            latency_ms: d.latency_ms,
            delivered: d.delivered,
            error: d.error.clone(),
        }
    }
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    url: String,
    /// Comma-separated types (scripts post this); the page posts one `event:{type}` checkbox per type.
    #[serde(default)]
    types: String,
    /// The checkboxes, among the other fields (a repeated name would not fit a struct field).
    #[serde(flatten)]
    rest: std::collections::HashMap<String, String>,
}

/// The prefix of an event type's checkbox name.
const CHECKBOX_PREFIX: &str = "event:";

impl CreateForm {
    /// The types asked for, comma-separated as the service parses them (it refuses unknown ones).
    fn type_list(&self) -> String {
        let mut types: Vec<&str> = self
            .types
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .collect();
        let mut checked: Vec<&str> = self
            .rest
            .keys()
            .filter_map(|k| k.strip_prefix(CHECKBOX_PREFIX))
            .collect();
        checked.sort_unstable();
        types.extend(checked);
        types.join(",")
    }
}

async fn render(
    session: &Authed,
    page: Page,
    form: Option<(&CreateForm, String)>,
) -> Result<HttpResponse, AdminError> {
    let org = session.info.org_id.clone();
    let (endpoints, deliveries) = session
        .state
        .store
        .read_async(move |conn| {
            Ok::<_, scimd_store::StoreError>((
                webhooks::list(conn, Some(&org))?,
                webhooks::org_deliveries(conn, &org, RECENT_DELIVERIES)?,
            ))
        })
        .await?;
    let refused = form.is_some();
    let (form_url, form_types, form_error) = match form {
        Some((f, error)) => (f.url.clone(), f.type_list(), Some(error)),
        None => (String::new(), String::new(), None),
    };
    let body = WebhooksPage {
        assets: view::assets(),
        page,
        endpoints: endpoints.iter().map(EndpointRow::new).collect(),
        deliveries: deliveries.iter().map(DeliveryRow::new).collect(),
        form_url,
        form_error,
        disable_after_days: DISABLE_AFTER_DAYS,
        event_types: scimd_store::models::events::types::ALL
            .iter()
            .map(|t| (*t, form_types.split(',').any(|c| c == *t)))
            .collect(),
    };
    let mut response = view::ok(&body)?;
    if refused {
        *response.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// `GET /admin/orgs/{org}/webhooks[?notice=]`
pub async fn webhooks_get(session: Authed, query: Query<NoticeQuery>) -> Result<HttpResponse, AdminError> {
    session.require_editor()?;
    let page = Page::load(&session, "webhooks")
        .await?
        .with_notice(query.notice.as_deref());
    render(&session, page, None).await
}

/// `POST /admin/orgs/{org}/webhooks`: a new endpoint of this org; answers with its secret, shown once. A
/// URL or type list the service refuses comes back with 422 and the form as typed.
pub async fn create_post(posted: Posted<CreateForm>) -> Result<HttpResponse, AdminError> {
    let Posted { session, form } = posted;
    let org = session.info.org_id.clone();
    let actor = session.actor();
    let (url, types) = (form.url.clone(), form.type_list());
    let created = session
        .state
        .blocking(move |s| {
            // The service's refusals come back as the inner error: the form shows them.
            Ok::<_, WebhookError>(
                WebhookService::parse_types(&types)
                    .and_then(|types| s.webhooks.create_blocking(&url, Some(&org), &types, &actor)),
            )
        })
        .await?;
    match created {
        Ok(created) => {
            let page = Page::load(&session, "webhooks").await?;
            view::ok(&RevealPage {
                assets: view::assets(),
                page,
                url: created.endpoint.url,
                secret: created.secret.expose().to_owned(),
            })
        }
        Err(
            e @ (WebhookError::InvalidUrl(_)
            | WebhookError::PrivateAddress
            | WebhookError::InvalidInput(_)
            | WebhookError::TooManyEndpoints { .. }),
        ) => {
            let page = Page::load(&session, "webhooks").await?;
            render(&session, page, Some((&form, refusal_text(&e)))).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A refusal as the org's admin reads it: what they can change, without the server setting that would allow
/// it (that is the operator's, in docs/OPERATIONS.md).
fn refusal_text(e: &WebhookError) -> String {
    match e {
        WebhookError::PrivateAddress => {
            "The URL reaches a loopback, link-local or private address: scimd sends \
                                         webhooks only to public addresses."
                .to_owned()
        }
        WebhookError::TooManyEndpoints { max } => {
            format!(
                "This organization already has {max} webhook endpoints, the most it may have: delete one first."
            )
        }
        other => other.to_string(),
    }
}

/// `POST /admin/orgs/{org}/webhooks/{id}/test`: sends a `webhook.test` event now and says whether it got
/// through; the attempt is in the list.
pub async fn test_post(
    posted: Posted<EmptyForm>,
    path: Path<(String, String)>,
) -> Result<HttpResponse, AdminError> {
    let session = posted.session;
    let (_, id) = path.into_inner();
    let org = session.info.org_id.clone();
    let service = session.state.webhooks.clone();
    let sender = Sender::new(service.policy(), DEFAULT_TIMEOUT)?;
    let notice = match test_event::send(&service, &sender, &id, Some(&org)).await {
        Ok(attempt) if attempt.delivered() => "webhook_test_sent",
        Ok(_) => "webhook_test_failed",
        Err(WebhookError::TestThrottled { .. }) => "webhook_test_throttled",
        Err(e) => return Err(e.into()),
    };
    Ok(see_other(&format!("/admin/orgs/{org}/webhooks?notice={notice}")))
}

#[derive(Deserialize)]
pub struct ReplayForm {
    #[serde(default)]
    after: String,
}

/// `POST /admin/orgs/{org}/webhooks/{id}/replay`: sends the endpoint every retained event after the cursor
/// again, in order, and re-enables it (a disabled endpoint comes back this way).
pub async fn replay_post(
    posted: Posted<ReplayForm>,
    path: Path<(String, String)>,
) -> Result<HttpResponse, AdminError> {
    let Posted { session, form } = posted;
    let (_, id) = path.into_inner();
    let after: i64 = form
        .after
        .trim()
        .parse()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| AdminError::BadRequest("the cursor is a whole number, 0 or more".into()))?;
    let org = session.info.org_id.clone();
    let actor = session.actor();
    let org_for_replay = org.clone();
    session
        .state
        .blocking(move |s| {
            s.webhooks
                .replay_blocking(&id, Some(&org_for_replay), after, &actor)
        })
        .await?;
    Ok(see_other(&format!(
        "/admin/orgs/{org}/webhooks?notice=webhook_replayed"
    )))
}

/// `POST /admin/orgs/{org}/webhooks/{id}/delete`
pub async fn delete_post(
    posted: Posted<EmptyForm>,
    path: Path<(String, String)>,
) -> Result<HttpResponse, AdminError> {
    let session = posted.session;
    let (_, id) = path.into_inner();
    let org = session.info.org_id.clone();
    let actor = session.actor();
    let org_for_delete = org.clone();
    session
        .state
        .blocking(move |s| s.webhooks.delete_blocking(&id, Some(&org_for_delete), &actor))
        .await?;
    Ok(see_other(&format!(
        "/admin/orgs/{org}/webhooks?notice=webhook_deleted"
    )))
}
