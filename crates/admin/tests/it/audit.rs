//! The audit trail: the page (newest first, filter by action, paging) and the JSON API for admins.

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

fn the_json_api_filters_by_action_and_time_and_pages_by_cursor(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        append(db, &ctx, 5, "group.updated", 120);
        append(db, &ctx, 7, "user.created", 5);
        let browser = login(&app, &ctx, ADMIN).await;
        let api = format!("/api/v1/orgs/{}/audit", ctx.org);

        let all = get(&app, Some(&browser), &api).await;
        assert_eq!(all.status, StatusCode::OK);
        assert_eq!(all.header("content-type"), Some("application/json"));
        let json = all.json();
        let events = json["events"].as_array().unwrap();
        assert_eq!(events[0]["action"], "admin.login", "newest first");
        assert!(events[0]["occurred_at"].as_str().unwrap().ends_with('Z'));
        assert!(json["next_cursor"].is_null());

        // Paging by cursor: every user.created once.
        let mut seen = Vec::new();
        let first = format!("{api}?action=user.created&limit=3");
        for e in walk_api(&app, &browser, &first, "events").await {
            assert_eq!(e["action"], "user.created");
            seen.push(e["details"]["i"].as_i64().unwrap());
        }
        assert_eq!(seen, vec![6, 5, 4, 3, 2, 1, 0]);

        // Time: only the old group events are before an hour ago; only the new ones after.
        let hour_ago = (chrono::Utc::now() - chrono::Duration::hours(1))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let before = get(&app, Some(&browser), &format!("{api}?until={hour_ago}"))
            .await
            .json();
        let actions: Vec<&str> = before["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert!(
            actions.len() >= 5
                && actions
                    .iter()
                    .all(|a| *a == "group.updated" || *a == "org.created"),
            "{actions:?}"
        );
        let since = get(
            &app,
            Some(&browser),
            &format!("{api}?since={hour_ago}&action=group.updated"),
        )
        .await
        .json();
        assert!(since["events"].as_array().unwrap().is_empty());

        assert_bad_requests(&app, &browser, &api, "?since=yesterday").await;
    });
}

fn the_json_api_is_for_owners_and_admins_of_that_org(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let api = format!("/api/v1/orgs/{}/audit", ctx.org);
        let anonymous = get(&app, None, &api).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
        let err = anonymous.json();
        assert_eq!(err["error"], "not_signed_in");
        let member = login(&app, &ctx, MEMBER).await;
        let res = get(&app, Some(&member), &api).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        assert_eq!(res.json()["error"], "forbidden");
        let owner = login(&app, &ctx, OWNER).await;
        let other = format!("/api/v1/orgs/{}/audit", scimd_store::OrgId::generate());
        assert_eq!(
            get(&app, Some(&owner), &other).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(get(&app, Some(&owner), &api).await.status, StatusCode::OK);
    });
}

scimd_store::backend_tests!(
    the_page_lists_newest_first_filters_by_action_and_pages,
    the_json_api_filters_by_action_and_time_and_pages_by_cursor,
    the_json_api_is_for_owners_and_admins_of_that_org,
);
