//! What every signed-in page shows (`Page`), times as the templates print them, and rendering.

use crate::assets::Assets;
use crate::error::AdminError;
use crate::session::Authed;
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use askama::Template;
use chrono::{DateTime, NaiveDateTime, Utc};
use scimd_store::models::scim_activity::Outcome;
use scimd_store::models::{admin_views, organizations, safety_valve};

/// The frame of a signed-in page: who, which org, which tab, and the CSRF token for its forms.
#[derive(Debug, Clone)]
pub struct Page {
    pub tab: &'static str,
    pub org_id: String,
    pub org_name: String,
    pub email: String,
    pub role: &'static str,
    pub can_edit: bool,
    pub csrf_token: String,
    /// A one-line confirmation after a change (from the redirect's `notice` parameter).
    pub notice: Option<&'static str>,
    /// The safety valve is holding deprovisioning: the banner every page of the org shows.
    pub hold: Option<Hold>,
}

/// What the hold banner says.
#[derive(Debug, Clone)]
pub struct Hold {
    pub since: Time,
    pub deprovisioned_in_window: i64,
    pub threshold: i64,
}

impl Page {
    pub async fn load(session: &Authed, tab: &'static str) -> Result<Page, AdminError> {
        let org = session.info.org_id.clone();
        let now = session.state.clock.now_naive();
        let (org_row, hold) = session
            .state
            .store
            .read_async(move |conn| {
                let org_row = organizations::get(conn, &org)?;
                // The settings row is one primary-key read; the counts are taken only while holding.
                let hold = if safety_valve::settings(conn, &org, now)?.is_held() {
                    let status = safety_valve::status(conn, &org, now)?;
                    status.settings.safety_valve_tripped_at.map(|since| Hold {
                        since: Time::naive(since),
                        deprovisioned_in_window: status.deprovisioned_in_window,
                        threshold: status.threshold,
                    })
                } else {
                    None
                };
                Ok::<_, scimd_store::StoreError>((org_row, hold))
            })
            .await?;
        Ok(Page {
            tab,
            org_id: org_row.id,
            org_name: org_row.name,
            email: session.info.email.clone(),
            role: session.info.role.as_str(),
            can_edit: session.can_edit(),
            csrf_token: session.csrf_token.clone(),
            notice: None,
            hold,
        })
    }

    pub fn with_notice(mut self, code: Option<&str>) -> Page {
        self.notice = code.and_then(notice_text);
        self
    }

    /// The org's monogram for the top bar.
    pub fn org_initial(&self) -> String {
        self.org_name
            .chars()
            .find(|c| c.is_alphanumeric())
            .map(|c| c.to_uppercase().collect())
            .unwrap_or_else(|| "O".to_owned())
    }

    /// `/admin/orgs/{org}/{rest}`
    pub fn url(&self, rest: &str) -> String {
        format!("/admin/orgs/{}/{rest}", self.org_id)
    }
}

/// Notices are codes in the redirect URL, mapped to fixed sentences: nothing in the URL is ever echoed.
fn notice_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "sso_saved" => "SSO connection saved.",
        "sso_removed" => "SSO connection removed. SCIM provisioning was turned off and its tokens revoked.",
        "scim_deleted" => "SCIM configuration deleted. Its tokens no longer work.",
        "valve_released" => "Hold released. Your IdP's deactivations and deletions go through again.",
        "valve_not_held" => "Deprovisioning was not on hold: nothing to release.",
        "valve_saved" => "Safety valve settings saved.",
        "role_created" => "Role added to the catalog.",
        "role_mapped" => "Mapping saved. Its members have the role now (a large group's, within moments).",
        "role_unmapped" => "Mapping removed. Its members lost the role (a large group's, within moments).",
        "roles_saved" => "Role settings saved.",
        "limits_saved" => "Limits saved. The SCIM API applies them within seconds.",
        "attribute_defined" => {
            "Attribute declared. Your IdP can map it now (Okta: import the app's schema again)."
        }
        "webhook_deleted" => "Webhook endpoint deleted. Nothing more is sent to it.",
        "webhook_replayed" => "Replay scheduled: the endpoint gets those events again, in order.",
        "webhook_test_sent" => "Test event delivered: the endpoint answered 2xx.",
        "webhook_test_failed" => "Test event not delivered. See the attempt in Recent deliveries.",
        "webhook_test_throttled" => {
            "A test event went to this endpoint less than 10 seconds ago. Wait and try again."
        }
        _ => return None,
    })
}

/// A time as pages show it (one format everywhere, with its zone: `2026-12-04 14:03:12 UTC`), with a
/// machine-readable form for `<time datetime>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Time {
    pub iso: String,
    pub display: String,
    pub date: String,
}

/// How every page prints a time.
pub const DISPLAY_FORMAT: &str = "%Y-%m-%d %H:%M:%S UTC";

impl Time {
    pub fn utc(t: DateTime<Utc>) -> Time {
        Time {
            iso: t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            display: t.format(DISPLAY_FORMAT).to_string(),
            date: t.format("%Y-%m-%d").to_string(),
        }
    }

    pub fn naive(t: NaiveDateTime) -> Time {
        Time::utc(t.and_utc())
    }
}

/// Names actors (`member:ID`, `cli`, `system`, `scim:...`) by email where the actor is a member of the org.
pub async fn actor_labels(
    session: &Authed,
    actors: impl IntoIterator<Item = String>,
) -> Result<Vec<(String, String)>, AdminError> {
    let mut ids: Vec<String> = actors
        .into_iter()
        .filter_map(|a| a.strip_prefix("member:").map(str::to_owned))
        .collect();
    ids.sort();
    ids.dedup();
    let org = session.info.org_id.clone();
    Ok(session
        .state
        .store
        .read_async(move |conn| admin_views::member_labels(conn, &org, &ids))
        .await?)
}

pub fn label_actor(labels: &[(String, String)], actor: &str) -> String {
    if let Some(id) = actor.strip_prefix("member:") {
        return labels
            .iter()
            .find(|(i, _)| i == id)
            .map_or_else(|| "a former member".to_owned(), |(_, label)| label.clone());
    }
    match actor {
        "cli" => "the command line".to_owned(),
        "system" => "scimd".to_owned(),
        other => other.to_owned(),
    }
}

/// Renders a template as an HTML response with this status.
pub fn render(status: StatusCode, template: &impl Template) -> Result<HttpResponse, AdminError> {
    let html = template.render()?;
    Ok(HttpResponse::build(status)
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        ))
        .body(html))
}

pub fn ok(template: &impl Template) -> Result<HttpResponse, AdminError> {
    render(StatusCode::OK, template)
}

/// 303 to a page of the admin.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// The "Assets" of every template.
pub fn assets() -> Assets {
    Assets::get()
}

/// Percent-encodes a query value.
pub fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Milliseconds, with a decimal below 10 ms where it matters.
pub fn duration_ms(us: i64) -> String {
    if us < 10_000 {
        format!("{:.1}", us as f64 / 1000.0)
    } else {
        (us / 1000).to_string()
    }
}

/// The outcome filter's value: empty for all, else one of `Outcome::as_str`.
pub fn parse_outcome(raw: Option<&str>) -> Result<Option<Outcome>, AdminError> {
    match raw.map(str::trim) {
        None | Some("") | Some("all") => Ok(None),
        Some(raw) => Outcome::parse(raw).map(Some).ok_or_else(|| {
            AdminError::BadRequest("outcome must be all, success, client_error or server_error".into())
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_keep_a_decimal_only_when_short() {
        assert_eq!(duration_ms(0), "0.0");
        assert_eq!(duration_ms(1_234), "1.2");
        assert_eq!(duration_ms(9_999), "10.0");
        assert_eq!(duration_ms(10_000), "10");
        assert_eq!(duration_ms(1_234_567), "1234");
    }

    #[test]
    fn the_outcome_filter_accepts_the_three_outcomes_and_all() {
        assert_eq!(parse_outcome(None).unwrap(), None);
        assert_eq!(parse_outcome(Some("all")).unwrap(), None);
        assert_eq!(
            parse_outcome(Some("server_error")).unwrap(),
            Some(Outcome::ServerError)
        );
        assert!(parse_outcome(Some("5xx")).is_err());
    }
}
