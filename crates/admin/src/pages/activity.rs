//! Provisioning activity: every SCIM request of the last 30 days, newest first, filtered by outcome, paged by
//! the `seq` cursor, under a chart of the last 48 hours' requests per hour by outcome (`chart.rs`).

use crate::assets::Assets;
use crate::chart;
use crate::error::AdminError;
use crate::session::Authed;
use crate::view::{self, Page, Time, duration_ms, parse_outcome};
use actix_web::HttpResponse;
use actix_web::web::Query;
use askama::Template;
use chrono::Duration;
use scimd_store::models::audit_events;
use scimd_store::models::scim_activity::{self, Activity, Outcome};
use serde::Deserialize;

pub const PAGE_SIZE: i64 = 50;
/// The chart's span: two days, so that "since last night" is always on it.
pub const CHART_HOURS: u32 = 48;
/// On a phone: the last day, in a box half as wide, so that its labels stay readable.
pub const NARROW_CHART_HOURS: u32 = 24;
const NARROW_CHART_WIDTH: f64 = 360.0;

/// The filter's choices: (value, label).
const OUTCOMES: [(&str, &str); 4] = [
    ("", "All outcomes"),
    ("success", "Succeeded (2xx, 3xx)"),
    ("client_error", "Refused (4xx)"),
    ("server_error", "Failed (5xx)"),
];

#[derive(Template)]
#[template(path = "pages/activity.html")]
struct ActivityPage {
    assets: Assets,
    page: Page,
    outcomes: [(&'static str, &'static str); 4],
    outcome: &'static str,
    /// Nothing at all in the retention period: the page is one explanation.
    none_at_all: bool,
    /// Rendered by `chart` from numbers and times only, so they are inserted unescaped. CSS shows one of the
    /// two: the narrow one below 640 px.
    chart: String,
    narrow_chart: String,
    legend: [(&'static str, &'static str); 3],
    rows: Vec<ActivityRow>,
    older_url: Option<String>,
    first_url: Option<String>,
    refusals: Vec<RefusalRow>,
}

/// How many refused sign-ins the page lists (the audit trail keeps them all).
pub const REFUSALS_SHOWN: i64 = 20;

/// A refused SSO sign-in, from its `sso.signin_refused` audit event.
pub struct RefusalRow {
    pub at: Time,
    pub method: String,
    pub reason: String,
    pub meaning: &'static str,
    pub member: Option<String>,
}

impl RefusalRow {
    fn new(e: &scimd_store::models::audit_events::AuditEvent) -> RefusalRow {
        let details: serde_json::Value = serde_json::from_str(&e.details).unwrap_or_default();
        let text = |k: &str| details[k].as_str().unwrap_or("").to_owned();
        let reason = text("reason");
        RefusalRow {
            at: Time::naive(e.occurred_at),
            method: match text("method").as_str() {
                "saml" => "SAML".to_owned(),
                "oidc" => "OpenID Connect".to_owned(),
                other => other.to_owned(),
            },
            meaning: refusal_meaning(&reason),
            reason,
            member: e.target.clone(),
        }
    }
}

/// What an admin should read into a refusal's reason code.
fn refusal_meaning(reason: &str) -> &'static str {
    match reason {
        "not_provisioned" => {
            "The IdP signed in someone who is not a member here: assign them in the IdP and let SCIM provision them."
        }
        "member_inactive" => "The member is deactivated.",
        "identity_ambiguous" => "Two members share the identifier the IdP sent (their externalId).",
        "browser_mismatch" => "The sign-in was finished in another browser than the one that started it.",
        "relay_state_unknown" | "state_mismatch" | "oidc_state_mismatch" => {
            "The sign-in was unknown, already used or older than 10 minutes."
        }
        "saml_unsolicited" => {
            "The IdP started the sign-in (IdP-initiated), which this connection does not allow."
        }
        "saml_replayed" => "The same assertion was used before.",
        "session_cap_passed" => "The IdP's session limit had already passed.",
        r if r.contains("signature") || r.contains("certificate") || r.contains("untrusted") => {
            "The response was not signed by the certificate configured for this connection."
        }
        r if r.contains("audience")
            || r.contains("destination")
            || r.contains("recipient")
            || r.contains("issuer") =>
        {
            "The response was meant for another application: check the entity IDs and URLs on both sides."
        }
        r if r.contains("expired") || r.contains("not_yet") || r.contains("time") => {
            "The response was outside its validity period: check the clocks."
        }
        _ => "The IdP's message failed a check; the reason code says which.",
    }
}

pub struct ActivityRow {
    pub occurred_at: Time,
    pub method: String,
    /// The path as a route, ids templated: `/Users/{id}`.
    pub route: String,
    /// The ids the route's `{id}` stood for, to show beside it.
    pub resource_id: Option<String>,
    /// The query, percent-decoded, one `name=value` per parameter (a filter reads as the IdP wrote it).
    pub query: Vec<String>,
    /// The path as it was requested, for its title.
    pub raw_path: String,
    pub status: i32,
    pub pill: &'static str,
    pub duration_ms: String,
    pub scim_type: Option<String>,
    /// scimd's own `detail` of a refused or failed request: what the IdP was told.
    pub detail: Option<String>,
    pub dialects: Vec<String>,
}

/// Splits a recorded SCIM path (`/scim/v2/{org}/Users/{id}?filter=...`) into its route (`/Users/{id}`), the id
/// and the decoded query parameters.
pub fn route_of(raw: &str) -> (String, Option<String>, Vec<String>) {
    let (path, query) = raw.split_once('?').unwrap_or((raw, ""));
    // `/scim/v2/{org}/rest`: the org is the page's, so it is left out.
    let rest = path
        .strip_prefix("/scim/v2/")
        .and_then(|r| r.split_once('/'))
        .map_or("", |(_, rest)| rest);
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let mut id = None;
    let route: Vec<String> = segments
        .iter()
        .enumerate()
        .map(|(i, seg)| match (i, segments.first()) {
            // `/Users/{id}`, `/Groups/{id}`: the second segment of a resource type is an id.
            (1, Some(&("Users" | "Groups"))) => {
                id = Some(percent_decode(seg));
                "{id}".to_owned()
            }
            _ => percent_decode(seg),
        })
        .collect();
    let query = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| {
            if v.is_empty() {
                k.into_owned()
            } else {
                format!("{k}={v}")
            }
        })
        .collect();
    (format!("/{}", route.join("/")), id, query)
}

fn percent_decode(segment: &str) -> String {
    url::form_urlencoded::parse(format!("s={}", segment.replace('+', "%2B")).as_bytes())
        .next()
        .map_or_else(|| segment.to_owned(), |(_, v)| v.into_owned())
}

impl ActivityRow {
    fn new(a: &Activity) -> ActivityRow {
        let (route, resource_id, query) = route_of(&a.path);
        ActivityRow {
            occurred_at: Time::naive(a.occurred_at),
            method: a.method.clone(),
            route,
            resource_id,
            query,
            raw_path: a.path.clone(),
            status: a.status,
            pill: match a.outcome() {
                Outcome::Success => "pill-success",
                Outcome::ClientError => "pill-warning",
                Outcome::ServerError => "pill-danger",
            },
            duration_ms: duration_ms(a.duration_us),
            scim_type: a.scim_type.clone(),
            detail: a.detail.clone().filter(|_| a.status >= 400),
            dialects: a.dialect_labels(),
        }
    }
}

#[derive(Deserialize)]
pub struct ActivityQuery {
    outcome: Option<String>,
    before: Option<i64>,
}

/// `GET /admin/orgs/{org}/activity?outcome=&before=`
/// Editors only, as the JSON API: the activity shows the IdP's filter lookups (emails in URLs).
pub async fn activity_get(session: Authed, query: Query<ActivityQuery>) -> Result<HttpResponse, AdminError> {
    session.require_editor()?;
    let outcome = parse_outcome(query.outcome.as_deref())?;
    let page = Page::load(&session, "activity").await?;
    let org = session.info.org_id.clone();
    let now = session.state.clock.now_naive();
    let since = chart::hour_of(now) - Duration::hours(i64::from(CHART_HOURS) - 1);
    let before = query.before;
    let refusals_of = org.clone();
    let (mut rows, buckets, any) = session
        .state
        .store
        .read_async(move |conn| {
            let rows = scim_activity::list(conn, &org, outcome, before, PAGE_SIZE + 1)?;
            let buckets = scim_activity::hourly(conn, &org, since)?;
            let any = !rows.is_empty()
                || !buckets.is_empty()
                || !scim_activity::list(conn, &org, None, None, 1)?.is_empty();
            Ok::<_, scimd_store::StoreError>((rows, buckets, any))
        })
        .await?;
    let refusals = session
        .state
        .store
        .read_async(move |conn| {
            audit_events::list(
                conn,
                &refusals_of,
                Some(scimd_tokens::audit::SSO_SIGNIN_REFUSED),
                None,
                REFUSALS_SHOWN,
            )
        })
        .await?
        .iter()
        .map(RefusalRow::new)
        .collect();
    let has_older = rows.len() > usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX));

    let base = page.url("activity");
    let outcome_value = outcome.map_or("", Outcome::as_str);
    let outcome_q = if outcome_value.is_empty() {
        String::new()
    } else {
        format!("outcome={outcome_value}&")
    };
    let older_url = match (has_older, rows.last()) {
        (true, Some(last)) => Some(format!("{base}?{outcome_q}before={}", last.seq)),
        _ => None,
    };
    let first_url = before.map(|_| format!("{base}?{}", outcome_q.trim_end_matches('&')));
    view::ok(&ActivityPage {
        assets: view::assets(),
        page,
        outcomes: OUTCOMES,
        outcome: outcome_value,
        none_at_all: !any,
        chart: chart::hourly_svg(&buckets, now, CHART_HOURS),
        narrow_chart: chart::hourly_svg_sized(&buckets, now, NARROW_CHART_HOURS, NARROW_CHART_WIDTH),
        legend: [
            ("succeeded", chart::SUCCESS_COLOUR),
            ("refused (4xx)", chart::CLIENT_ERROR_COLOUR),
            ("failed (5xx)", chart::SERVER_ERROR_COLOUR),
        ],
        rows: rows.iter().map(ActivityRow::new).collect(),
        older_url,
        first_url,
        refusals,
    })
}

#[cfg(test)]
mod tests {
    use super::route_of;

    #[test]
    fn paths_read_as_routes_with_their_ids_and_decoded_filters() {
        let (route, id, query) =
            route_of("/scim/v2/org1/Users?filter=userName%20eq%20%22ada%40acme.test%22&count=1");
        assert_eq!(route, "/Users");
        assert_eq!(id, None);
        assert_eq!(query, vec![r#"filter=userName eq "ada@acme.test""#, "count=1"]);
        let (route, id, _) = route_of("/scim/v2/org1/Groups/g%2F1");
        assert_eq!((route.as_str(), id.as_deref()), ("/Groups/{id}", Some("g/1")));
        let (route, _, _) = route_of("/scim/v2/org1/ServiceProviderConfig");
        assert_eq!(route, "/ServiceProviderConfig");
    }
}
