//! The audit trail's export: the filtered events (the page's action and dates) as a CSV or JSON download,
//! newest first, at most [`EXPORT_MAX`] of them, read from the database in pages of [`CHUNK`].

use super::{AuditQuery, filter_of, names_for, sentence};
use crate::error::AdminError;
use crate::session::Authed;
use crate::view::DISPLAY_FORMAT;
use actix_web::HttpResponse;
use actix_web::http::header;
use actix_web::web::Query;
use scimd_store::models::admin_views;
use scimd_store::models::audit_events::AuditEvent;
use serde::Deserialize;

/// The most events one export holds; a narrower date range gets the rest.
pub const EXPORT_MAX: usize = 10_000;
const CHUNK: i64 = 500;

#[derive(Deserialize)]
pub struct ExportFormat {
    #[serde(default)]
    format: String,
}

/// `GET /admin/orgs/{org}/audit/export?format=csv|json&action=&from=&to=`
/// Owners and admins, as the page: the trail names every session, login link and token hint of the org.
pub async fn export_get(
    session: Authed,
    query: Query<AuditQuery>,
    format: Query<ExportFormat>,
) -> Result<HttpResponse, AdminError> {
    session.require_editor()?;
    let json = match format.format.as_str() {
        "" | "csv" => false,
        "json" => true,
        _ => return Err(AdminError::BadRequest("format must be csv or json".into())),
    };
    let (mut filter, _) = filter_of(&query)?;
    filter.before_seq = None;
    let org = session.info.org_id.clone();
    let (events, truncated) = session
        .state
        .store
        .read_async(move |conn| {
            let mut events: Vec<AuditEvent> = Vec::new();
            loop {
                let page = admin_views::audit_page(conn, &org, &filter, CHUNK)?;
                filter.before_seq = page.rows.last().map(|e| e.seq);
                events.extend(page.rows);
                if !page.has_older || events.len() >= EXPORT_MAX {
                    let truncated =
                        events.len() > EXPORT_MAX || (page.has_older && events.len() == EXPORT_MAX);
                    events.truncate(EXPORT_MAX);
                    return Ok::<_, scimd_store::StoreError>((events, truncated));
                }
            }
        })
        .await?;
    let base = format!("/admin/orgs/{}", session.info.org_id);
    let names = names_for(&session, base, &events).await?;
    let stamp = session.state.clock.now_naive().format("%Y%m%d-%H%M%S");
    let (body, content_type, ext) = if json {
        let items: Vec<serde_json::Value> = events
            .iter()
            .map(|e| {
                serde_json::json!({
                    "occurred_at": e.occurred_at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    "actor": e.actor,
                    "action": e.action,
                    "target": e.target,
                    "sentence": sentence::plain(&sentence::sentence(e, &names)),
                    "details": serde_json::from_str::<serde_json::Value>(&e.details).unwrap_or_default(),
                })
            })
            .collect();
        let doc = serde_json::json!({ "events": items, "truncated": truncated });
        (doc.to_string(), "application/json", "json")
    } else {
        let mut out = String::from("time,actor,action,target,sentence,details\r\n");
        for e in &events {
            let fields = [
                e.occurred_at.format(DISPLAY_FORMAT).to_string(),
                e.actor.clone(),
                e.action.clone(),
                e.target.clone().unwrap_or_default(),
                sentence::plain(&sentence::sentence(e, &names)),
                e.details.clone(),
            ];
            let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
            out.push_str(&line.join(","));
            out.push_str("\r\n");
        }
        (out, "text/csv; charset=utf-8", "csv")
    };
    let org_id = &session.info.org_id;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"audit-{org_id}-{stamp}.{ext}\""),
        ))
        .insert_header(("X-Export-Truncated", if truncated { "true" } else { "false" }))
        .body(body))
}

/// A CSV field, quoted; one that a spreadsheet would run as a formula starts with a `'` (OWASP's advice for
/// CSV injection), since names and URLs in the trail come from the IdP.
fn csv_field(raw: &str) -> String {
    let guarded = if raw.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{raw}")
    } else {
        raw.to_owned()
    };
    format!("\"{}\"", guarded.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("a\"b"), "\"a\"\"b\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "\"'=HYPERLINK(1)\"");
        assert_eq!(csv_field("plain"), "\"plain\"");
    }
}
