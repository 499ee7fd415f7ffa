//! The audit trail's page: newest first, filter by action, paging (its JSON is the platform API's: the
//! server's tests/it/audit_api.rs).

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

scimd_store::backend_tests!(the_page_lists_newest_first_filters_by_action_and_pages,);
