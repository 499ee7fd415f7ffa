//! "Send test event": a `webhook.test` delivery to one endpoint, now, signed like any other and recorded in
//! its log, outside the feed (it has no cursor and never blocks or moves the endpoint's events). At most one
//! every [`TEST_EVENT_INTERVAL`] per endpoint (its log says when the last went, in any process): the button
//! must not make scimd a source of requests on demand.

use crate::client::{Attempt, Sender};
use crate::error::WebhookError;
use crate::service::WebhookService;
use scimd_store::OrgId;
use scimd_store::models::events::rfc3339;
use scimd_store::models::webhooks::{self, NewDelivery};
use serde_json::json;

pub const TEST_EVENT_TYPE: &str = "webhook.test";
/// The least time between two test events to one endpoint.
pub const TEST_EVENT_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

/// Sends the test event to the endpoint `id` (of `org`, when given) and records the attempt.
pub async fn send(
    service: &WebhookService,
    sender: &Sender,
    id: &str,
    org: Option<&OrgId>,
) -> Result<Attempt, WebhookError> {
    let (svc, id_owned, org) = (service.clone(), id.to_owned(), org.cloned());
    let (endpoint, secret) = scimd_store::blocking(move || {
        let endpoint = svc.get_blocking(&id_owned, org.as_ref())?;
        let now = svc.clock().now_naive();
        let secret = svc.store().read(|conn| {
            let interval = chrono::TimeDelta::from_std(TEST_EVENT_INTERVAL).unwrap_or(chrono::TimeDelta::MAX);
            if webhooks::last_test(conn, &endpoint.id)?.is_some_and(|last| now < last + interval) {
                return Err(WebhookError::TestThrottled {
                    seconds: TEST_EVENT_INTERVAL.as_secs(),
                });
            }
            svc.signing_secret(conn, &endpoint)
        })?;
        Ok::<_, WebhookError>((endpoint, secret))
    })
    .await?;
    let now = service.clock().now_naive();
    let event_id = format!("test_{}", uuid::Uuid::new_v4().simple());
    // Shaped as every delivery (`worker::body`): the event, with the Standard Webhooks `timestamp`.
    let body = serde_json::to_vec(&json!({
        "id": event_id,
        "type": TEST_EVENT_TYPE,
        "org_id": endpoint.org_id,
        "occurred_at": rfc3339(now),
        "cursor": null,
        "timestamp": rfc3339(now),
        "data": { "endpoint_id": endpoint.id },
    }))?;
    let timestamp = now.and_utc().timestamp();
    let headers = [
        ("webhook-id", event_id.clone()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", secret.sign(&event_id, timestamp, &body)?),
    ];
    let attempt = sender.post(&endpoint.url, &headers, body).await;
    let row = NewDelivery {
        endpoint_id: endpoint.id.clone(),
        org_id: endpoint.org_id.clone().unwrap_or_else(|| "*".to_owned()),
        event_id,
        event_type: TEST_EVENT_TYPE.to_owned(),
        position: None,
        attempt: 1,
        status_code: attempt.status.map(i32::from),
        error: attempt.error.clone(),
        latency_ms: attempt.latency_ms,
        delivered: attempt.delivered(),
        attempted_at: now,
    };
    let svc = service.clone();
    scimd_store::blocking(move || svc.store().write(|conn| webhooks::record(conn, &[row]))).await?;
    Ok(attempt)
}
