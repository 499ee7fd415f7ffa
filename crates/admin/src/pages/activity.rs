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
}

pub struct ActivityRow {
    pub occurred_at: Time,
    /// The day without its year (the page covers 30 days; the year is in the `<time>` element's title).
    pub day: String,
    /// `HH:MM:SS`.
    pub clock: String,
    pub method: String,
    pub path: String,
    pub status: i32,
    pub pill: &'static str,
    pub duration_ms: String,
    pub scim_type: Option<String>,
    pub dialects: Vec<String>,
}

impl ActivityRow {
    fn new(a: &Activity) -> ActivityRow {
        ActivityRow {
            occurred_at: Time::naive(a.occurred_at),
            day: a.occurred_at.format("%b %-d").to_string(),
            clock: a.occurred_at.format("%H:%M:%S").to_string(),
            method: a.method.clone(),
            path: a.path.clone(),
            status: a.status,
            pill: match a.outcome() {
                Outcome::Success => "pill-success",
                Outcome::ClientError => "pill-warning",
                Outcome::ServerError => "pill-danger",
            },
            duration_ms: duration_ms(a.duration_us),
            scim_type: a.scim_type.clone(),
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
    })
}
