//! The audit trail's page: sentences with their actor and target linked, the action and date filters, paging,
//! the export (its JSON for the platform is the server's /api/v1/orgs/{org}/audit: tests/it/audit_api.rs).

use crate::support::*;
use actix_web::http::StatusCode;
use scimd_store::models::audit_events::{self, NewAuditEvent};
use scimd_store::testing::TestDb;

fn append(db: &TestDb, ctx: &Ctx, n: usize, action: &str, minutes_ago: i64) {
    let at = chrono::Utc::now().naive_utc() - chrono::Duration::minutes(minutes_ago);
    db.store
        .write(|conn| {
            for i in 0..n {
                audit_events::append(
                    conn,
                    &NewAuditEvent {
                        org_id: &ctx.org,
                        occurred_at: at,
                        actor: "scim:okta",
                        action,
                        target: Some("<b>target</b>"),
                        details: serde_json::json!({ "i": i }),
                    },
                )?;
            }
            Ok::<_, scimd_store::StoreError>(())
        })
        .unwrap();
}

fn the_page_lists_newest_first_filters_by_action_and_pages(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        append(db, &ctx, 60, "user.created", 5);
        let browser = login(&app, &ctx, ADMIN).await;
        let res = get(&app, Some(&browser), &url(&ctx, "audit")).await;
        assert_eq!(res.status, StatusCode::OK);
        // The admin's own login is the newest event, shown by email.
        let first_row = res
            .body
            .split("<tbody>")
            .nth(1)
            .unwrap()
            .split("</tr>")
            .next()
            .unwrap();
        assert!(
            first_row.contains("admin.login") && first_row.contains(ADMIN),
            "{first_row}"
        );
        assert!(
            res.body
                .contains(r#"<option value="user.created">user.created</option>"#)
        );
        assert!(res.body.contains("&#60;b&#62;target&#60;/b&#62;") || res.body.contains("&lt;b&gt;target"));
        assert!(res.body.contains(r#"id="older""#));

        let filtered = get(&app, Some(&browser), &url(&ctx, "audit?action=admin.login")).await;
        assert!(filtered.body.contains(r#"<option value="admin.login" selected>"#));
        assert!(
            !filtered
                .body
                .contains("<code class=\"action\">user.created</code>")
        );
        assert!(!filtered.body.contains(r#"id="older""#));

        let filtered = get(&app, Some(&browser), &url(&ctx, "audit?action=user.created")).await;
        let older = unescape_amp(href_with(&filtered.body, "before="));
        assert!(older.contains("action=user.created"));
        let page2 = get(&app, Some(&browser), &older).await;
        assert_eq!(
            page2
                .body
                .matches("<code class=\"action\">user.created</code>")
                .count(),
            10
        );
        assert!(page2.body.contains(r#"id="newest""#));
    });
}

/// Appends one event as it was recorded (`at` in the past).
fn append_one(
    db: &TestDb,
    org: &scimd_store::OrgId,
    at: chrono::NaiveDateTime,
    actor: &str,
    action: &str,
    target: Option<&str>,
    details: serde_json::Value,
) {
    db.store
        .write(|conn| {
            audit_events::append(
                conn,
                &NewAuditEvent {
                    org_id: org,
                    occurred_at: at,
                    actor,
                    action,
                    target,
                    details,
                },
            )
        })
        .unwrap();
}

/// The text of an HTML fragment, tags removed, spaces collapsed.
fn plain(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn the_trail_reads_in_sentences_with_the_actor_and_target_linked(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let alice = add_scim_member(db, &ctx.org, "alice@demo.example", "Alice");
        let now = chrono::Utc::now().naive_utc();
        append_one(
            db,
            &ctx.org,
            now - chrono::Duration::minutes(1),
            "idp:scimd_…xc4i",
            "member.deactivated",
            Some(alice.as_str()),
            serde_json::json!({ "dialects": ["Okta path-less replace"], "sessions_revoked": 0 }),
        );
        let browser = login(&app, &ctx, ADMIN).await;
        let res = get(&app, Some(&browser), &url(&ctx, "audit")).await;
        assert_eq!(res.status, StatusCode::OK);
        let sentences: Vec<String> = res
            .body
            .split(r#"<p class="sentence">"#)
            .skip(1)
            .map(|s| plain(s.split("</p>").next().unwrap()))
            .collect();
        assert!(
            sentences.contains(&"Okta (SCIM token …xc4i) deactivated alice@demo.example".to_owned()),
            "{sentences:?}"
        );
        assert!(
            sentences.contains(&"admin@acme.test signed in".to_owned()),
            "{sentences:?}"
        );
        // The actor's token links to the SCIM section, the target to the member's page.
        assert!(res.body.contains(&format!(
            r#"<a href="{}">SCIM token …xc4i</a>"#,
            url(&ctx, "sso#scim")
        )));
        assert!(res.body.contains(&format!(
            r#"<a href="{}">alice@demo.example</a>"#,
            url(&ctx, &format!("members/{alice}"))
        )));
        // One time format, with its zone.
        let time = res.body.split("<time datetime=").nth(1).unwrap();
        let shown = time.split('>').nth(1).unwrap().split('<').next().unwrap();
        assert_eq!(shown.len(), "2026-12-04 14:03:12 UTC".len(), "{shown}");
        assert!(
            shown.ends_with(" UTC") && shown.as_bytes()[4] == b'-' && shown.as_bytes()[13] == b':',
            "{shown}"
        );
        // The raw record stays beside the sentence.
        assert!(
            res.body
                .contains("<code class=\"action\">member.deactivated</code>")
        );
    });
}

fn the_date_filter_and_the_export_keep_to_the_days_and_the_org(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let now = chrono::Utc::now().naive_utc();
        let days_ago = |d: i64| now - chrono::Duration::days(d);
        append_one(
            db,
            &ctx.org,
            days_ago(30),
            "cli",
            "org.limits_configured",
            None,
            serde_json::json!({ "mark": "a-month" }),
        );
        append_one(
            db,
            &ctx.org,
            days_ago(3),
            "cli",
            "org.limits_configured",
            None,
            serde_json::json!({ "mark": "three-days" }),
        );
        let (other, _) = db
            .store
            .write(|conn| {
                scimd_store::models::organizations::create_with_owner(
                    conn,
                    "Other",
                    Some("boss@other.test"),
                    now,
                )
            })
            .unwrap();
        append_one(
            db,
            &other.org_id(),
            days_ago(3),
            "cli",
            "org.limits_configured",
            None,
            serde_json::json!({ "mark": "other-org" }),
        );

        let browser = login(&app, &ctx, ADMIN).await;
        let from = days_ago(10).format("%Y-%m-%d").to_string();
        let to = days_ago(1).format("%Y-%m-%d").to_string();
        let filtered = get(
            &app,
            Some(&browser),
            &url(&ctx, &format!("audit?from={from}&to={to}")),
        )
        .await;
        assert_eq!(filtered.status, StatusCode::OK);
        assert!(filtered.body.contains("three-days"));
        assert!(!filtered.body.contains("a-month"), "before from");
        assert!(!filtered.body.contains("signed in"), "after to");
        assert!(!filtered.body.contains("other-org"));
        assert!(filtered.body.contains(&format!(r#"value="{from}""#)));

        // The export link carries the filter; CSV and JSON hold the same events.
        let export = unescape_amp(href_with(&filtered.body, "audit/export?format=csv"));
        assert!(export.contains(&format!("from={from}")) && export.contains(&format!("to={to}")));
        let csv = get(&app, Some(&browser), &export).await;
        assert_eq!(csv.status, StatusCode::OK);
        assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
        assert!(
            csv.header("content-disposition")
                .unwrap()
                .starts_with("attachment;")
        );
        assert!(
            csv.body
                .starts_with("time,actor,action,target,sentence,details\r\n")
        );
        assert_eq!(csv.body.lines().count(), 2, "{}", csv.body);
        assert!(
            csv.body
                .contains(r#""The command line changed the SCIM API's limits""#),
            "{}",
            csv.body
        );
        assert!(csv.body.contains("three-days") && !csv.body.contains("other-org"));
        let json = get(&app, Some(&browser), &export.replace("format=csv", "format=json"))
            .await
            .json();
        let events = json["events"].as_array().unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["details"]["mark"], "three-days");
        assert_eq!(json["truncated"], false);
        // Everything of the org, and only of the org, without a filter.
        let all = get(&app, Some(&browser), &url(&ctx, "audit/export?format=json"))
            .await
            .json();
        let marks: Vec<&str> = all["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["details"]["mark"].as_str())
            .collect();
        assert_eq!(marks, vec!["three-days", "a-month"]);

        for bad in [
            "audit?from=yesterday",
            "audit/export?to=2026-13-01",
            "audit/export?format=xml",
        ] {
            assert_eq!(
                get(&app, Some(&browser), &url(&ctx, bad)).await.status,
                StatusCode::BAD_REQUEST,
                "{bad}"
            );
        }
        let backwards = url(&ctx, &format!("audit?from={to}&to={from}"));
        assert_eq!(
            get(&app, Some(&browser), &backwards).await.status,
            StatusCode::BAD_REQUEST
        );

        // The export is for owners and admins of this org.
        let member = login(&app, &ctx, MEMBER).await;
        assert_eq!(
            get(&app, Some(&member), &url(&ctx, "audit/export")).await.status,
            StatusCode::FORBIDDEN
        );
        let elsewhere = format!("/admin/orgs/{}/audit/export", other.id);
        assert_eq!(
            get(&app, Some(&browser), &elsewhere).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            get(&app, None, &url(&ctx, "audit/export")).await.status,
            StatusCode::UNAUTHORIZED
        );
    });
}

scimd_store::backend_tests!(
    the_trail_reads_in_sentences_with_the_actor_and_target_linked,
    the_date_filter_and_the_export_keep_to_the_days_and_the_org,
    the_page_lists_newest_first_filters_by_action_and_pages,
);
