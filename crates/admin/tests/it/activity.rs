//! Provisioning activity: the page (newest first, the outcome filter, the chart, paging, escaping, the empty
//! state); its JSON is the platform API's (the server's tests/it/audit_api.rs).

use crate::support::*;
use actix_web::http::StatusCode;
use scimd_store::OrgId;
use scimd_store::models::scim_activity::{self, NewActivity};
use scimd_store::testing::TestDb;

struct Row<'a> {
    minutes_ago: i64,
    method: &'a str,
    path: &'a str,
    status: i32,
    scim_type: Option<&'a str>,
    dialects: &'a [&'a str],
    detail: Option<&'a str>,
}

fn record(db: &TestDb, org: &OrgId, rows: &[Row<'_>]) {
    let now = chrono::Utc::now().naive_utc();
    let rows: Vec<NewActivity> = rows
        .iter()
        .map(|r| NewActivity {
            org_id: org.to_string(),
            occurred_at: now - chrono::Duration::minutes(r.minutes_ago),
            method: r.method.into(),
            path: r.path.into(),
            status: r.status,
            duration_us: 12_345,
            scim_type: r.scim_type.map(str::to_owned),
            dialects: serde_json::to_string(r.dialects).unwrap(),
            detail: r.detail.map(str::to_owned),
        })
        .collect();
    db.store
        .write(|conn| scim_activity::insert_batch(conn, &rows))
        .unwrap();
}

/// A lookup, an Okta deactivation refused with 400, and a failed request whose path and dialect label carry
/// markup.
fn three_requests(db: &TestDb, org: &OrgId) {
    record(
        db,
        org,
        &[
            Row {
                minutes_ago: 90,
                method: "GET",
                path: "/scim/v2/o/Users?filter=userName%20eq%20%22ada%40acme.test%22",
                status: 200,
                scim_type: None,
                dialects: &[],
                detail: None,
            },
            Row {
                minutes_ago: 30,
                method: "PATCH",
                path: "/scim/v2/o/Users/okta-1",
                status: 400,
                scim_type: Some("invalidValue"),
                dialects: &["Okta path-less replace"],
                detail: Some("Attribute 'active' must be a boolean, not \"<b>no</b>\"."),
            },
            Row {
                minutes_ago: 10,
                method: "GET",
                path: "/scim/v2/o/Users/<script>alert(1)</script>",
                status: 503,
                scim_type: None,
                dialects: &["<b>Entra string boolean</b>"],
                detail: None,
            },
        ],
    );
}

/// The rows of the activity table, each as its text.
fn rows(body: &str) -> Vec<String> {
    table_body(body)
        .split("</tr>")
        .filter(|r| r.contains("<td"))
        .map(|r| {
            let mut text = String::new();
            let mut in_tag = false;
            for c in r.chars() {
                match c {
                    '<' => in_tag = true,
                    '>' => {
                        in_tag = false;
                        text.push(' ');
                    }
                    c if !in_tag => text.push(c),
                    _ => {}
                }
            }
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        })
        .collect()
}

fn the_page_lists_requests_newest_first_under_the_chart_with_the_filter_applied(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        three_requests(db, &ctx.org);
        let browser = login(&app, &ctx, ADMIN).await;
        let res = get(&app, Some(&browser), &url(&ctx, "activity")).await;
        assert_eq!(res.status, StatusCode::OK);
        assert!(res.body.contains(&format!(
            r#"href="{}" aria-current="page""#,
            url(&ctx, "activity")
        )));

        // The chart: an inline SVG summarising the 48 hours, with the legend beside it.
        assert!(res.body.contains(r#"<svg class="activity-chart""#));
        assert!(
            res.body
                .contains("over the last 48 hours: 1 succeeded, 1 refused (4xx), 1 failed (5xx)")
        );
        for label in ["succeeded", "refused (4xx)", "failed (5xx)"] {
            assert!(res.body.contains(&format!("</svg>{label}</li>")), "{label}");
        }

        let all = rows(&res.body);
        assert_eq!(all.len(), 3, "{all:?}");
        assert!(
            all[0].contains("503") && all[0].contains("Entra string boolean"),
            "{}",
            all[0]
        );
        assert!(
            all[1].contains("PATCH")
                && all[1].contains("/Users/{id}")
                && all[1].contains("okta-1")
                && all[1].contains("400")
                && all[1].contains("invalidValue")
                && all[1].contains("Okta path-less replace"),
            "{}",
            all[1]
        );
        // The filter as the IdP wrote it, percent-decoding undone; the raw path stays in the title.
        assert!(
            all[2].contains("filter=userName eq &#34;ada@acme.test&#34;")
                || all[2].contains("filter=userName eq &quot;ada@acme.test&quot;"),
            "{}",
            all[2]
        );
        assert!(all[2].contains("200"), "{}", all[2]);
        assert!(
            res.body
                .contains(r#"title="/scim/v2/o/Users?filter=userName%20eq%20%22ada%40acme.test%22""#)
        );
        // scimd's own detail of the refused request, as the IdP was told it, escaped; none for a success.
        assert!(
            all[1].contains("Attribute &#39;active&#39; must be a boolean")
                || all[1].contains("Attribute &#x27;active&#x27; must be a boolean"),
            "{}",
            all[1]
        );
        assert!(!res.body.contains("<b>no</b>"));
        assert_eq!(res.body.matches(r#"<p class="activity-detail">"#).count(), 1);
        assert!(all[2].contains("12"), "the duration in ms: {}", all[2]);
        assert!(res.body.contains(r#"<span class="pill pill-danger">503</span>"#));
        assert!(res.body.contains(r#"<span class="pill pill-warning">400</span>"#));
        assert!(
            res.body
                .contains(r#"<li class="tag">Okta path-less replace</li>"#)
        );

        // Paths and dialect labels are text, never markup.
        assert!(!res.body.contains("<script>alert(1)"));
        assert!(!res.body.contains("<b>Entra"));
        assert!(
            res.body.contains("&#60;script&#62;alert(1)") || res.body.contains("&lt;script&gt;alert(1)"),
            "the path is shown escaped"
        );

        // The filter: only the refused request; the choice stays selected.
        let refused = get(&app, Some(&browser), &url(&ctx, "activity?outcome=client_error")).await;
        assert_eq!(refused.status, StatusCode::OK);
        assert!(refused.body.contains(r#"<option value="client_error" selected>"#));
        let only = rows(&refused.body);
        assert_eq!(only.len(), 1, "{only:?}");
        assert!(only[0].contains("PATCH"));
        // The chart still shows every outcome.
        assert!(
            refused
                .body
                .contains("1 succeeded, 1 refused (4xx), 1 failed (5xx)")
        );

        let none = get(
            &app,
            Some(&browser),
            &url(&ctx, "activity?outcome=success&before=1"),
        )
        .await;
        assert_eq!(none.status, StatusCode::OK);
        assert!(rows(&none.body).is_empty());
        assert!(none.body.contains("No request with this outcome"));
        assert!(!none.body.contains(r#"id="activity-empty""#));

        let bad = get(&app, Some(&browser), &url(&ctx, "activity?outcome=5xx")).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    });
}

fn the_page_pages_by_cursor_keeping_the_filter(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let failed: Vec<String> = (0..60).map(|i| format!("/scim/v2/o/Users/u{i:02}")).collect();
        let rows_in: Vec<Row<'_>> = failed
            .iter()
            .enumerate()
            .map(|(i, path)| Row {
                minutes_ago: 120 - i as i64,
                method: "DELETE",
                path,
                status: if i % 2 == 0 { 500 } else { 204 },
                scim_type: None,
                dialects: &[],
                detail: None,
            })
            .collect();
        record(db, &ctx.org, &rows_in);
        let browser = login(&app, &ctx, ADMIN).await;
        let first = get(&app, Some(&browser), &url(&ctx, "activity?outcome=server_error")).await;
        let page1 = rows(&first.body);
        assert_eq!(page1.len(), 30, "30 failures, one page");
        assert!(!first.body.contains(r#"id="older""#));

        let all = get(&app, Some(&browser), &url(&ctx, "activity")).await;
        let page1 = rows(&all.body);
        assert_eq!(page1.len(), 50);
        assert!(
            page1[0].contains("/Users/{id} id u59"),
            "newest first: {}",
            page1[0]
        );
        let older = unescape_amp(href_with(&all.body, "before="));
        let page2 = get(&app, Some(&browser), &older).await;
        let page2_rows = rows(&page2.body);
        assert_eq!(page2_rows.len(), 10);
        assert!(page2_rows[0].contains("/Users/{id} id u09"), "{}", page2_rows[0]);
        assert!(page2.body.contains(r#"id="newest""#));
        assert!(!page2.body.contains(r#"id="older""#));
    });
}

fn without_requests_the_page_says_so_and_links_to_scim_setup(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        // Another org's requests are not this org's activity.
        let other = crate::support::ctx(db);
        three_requests(db, &other.org);
        let browser = login(&app, &ctx, OWNER).await;
        let res = get(&app, Some(&browser), &url(&ctx, "activity")).await;
        assert_eq!(res.status, StatusCode::OK);
        assert!(
            text_of(&res.body, "activity-empty")
                .contains("No SCIM request has reached this organization in the last 30 days")
        );
        assert!(res.body.contains(&format!(
            r##"<a href="{}#scim" id="activity-setup-link">"##,
            url(&ctx, "sso")
        )));
        assert!(!res.body.contains("activity-chart"));
        assert!(!res.body.contains(r#"id="activity-table""#));
    });
}

scimd_store::backend_tests!(
    the_page_lists_requests_newest_first_under_the_chart_with_the_filter_applied,
    the_page_pages_by_cursor_keeping_the_filter,
    without_requests_the_page_says_so_and_links_to_scim_setup,
);
