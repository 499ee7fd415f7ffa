//! SCIM Provisioning: generate and the one-time reveal, the configured state, regenerate with a grace period,
//! delete with a confirmation.

use crate::support::*;
use actix_web::http::StatusCode;
use scimd_store::testing::TestDb;

fn verify(ctx: &Ctx, token: &str) -> bool {
    let header = format!("Bearer {token}");
    ctx.state.tokens.verify_blocking(&ctx.org, Some(&header)).is_ok()
}

fn generate_reveals_the_token_once_and_never_again(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        set_azure(&ctx);
        let browser = login(&app, &ctx, OWNER).await;
        let before = get(&app, Some(&browser), &url(&ctx, "sso")).await;
        assert!(before.body.contains(r#"id="generate""#));
        assert!(before.body.contains("Generate SCIM Token"));

        let res = post(&app, &browser, &url(&ctx, "scim/token"), &[("expires", "90d")]).await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.header("cache-control"), Some("no-store"));
        assert!(
            res.body.contains(r#"role="dialog""#) && res.body.contains(r#"aria-labelledby="dialog-title""#)
        );
        assert!(res.body.contains("It is shown only once."));
        let endpoint = text_of(&res.body, "endpoint-url");
        let token = text_of(&res.body, "scim-token");
        assert_eq!(endpoint, format!("http://admin.test/scim/v2/{}", ctx.org));
        assert!(token.starts_with("scimd_") && token.len() == 55, "{token}");
        assert!(
            res.body.contains(r#"data-copy="scim-token""#)
                && res.body.contains(r#"data-copy="endpoint-url""#)
        );
        assert!(
            res.body.contains("Expires <time"),
            "a 90-day token shows its expiry"
        );

        let after = get(&app, Some(&browser), &url(&ctx, "sso")).await;
        assert!(!after.body.contains(&token), "the token is gone after the reveal");
        assert_eq!(text_of(&after.body, "scim-status"), "Active");
        assert_eq!(text_of(&after.body, "configured-endpoint-url"), endpoint);
        assert!(
            after.body.contains(&token[token.len() - 4..]),
            "the hint shows the last characters"
        );
        assert!(after.body.contains("by</span> owner@acme.test"));
        assert!(after.body.contains("Not used yet"));
        assert!(after.body.contains(r#"id="delete-scim""#) && after.body.contains(r#"id="regenerate""#));
        // Last used, once the IdP has called.
        assert!(verify(&ctx, &token));
        let used = get(&app, Some(&browser), &url(&ctx, "sso")).await;
        assert!(!used.body.contains("Not used yet"));
        assert!(audit_actions(db, &ctx.org).contains(&"token.generated".to_owned()));
        // A second generate is refused: regenerate is the way.
        let twice = post(&app, &browser, &url(&ctx, "scim/token"), &[("expires", "never")]).await;
        assert_eq!(twice.status, StatusCode::CONFLICT);
        assert!(verify(&ctx, &token));
    });
}

fn generate_needs_an_sso_connection_and_a_known_expiry(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let browser = login(&app, &ctx, OWNER).await;
        let res = post(&app, &browser, &url(&ctx, "scim/token"), &[("expires", "never")]).await;
        assert_eq!(res.status, StatusCode::CONFLICT);
        assert!(res.body.contains("Set up SSO first"));
        set_azure(&ctx);
        let res = post(
            &app,
            &browser,
            &url(&ctx, "scim/token"),
            &[("expires", "forever")],
        )
        .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST);
        assert!(ctx.state.tokens.scim_status_blocking(&ctx.org).unwrap().is_none());
    });
}

fn regenerate_with_a_grace_period_keeps_the_old_token_for_that_long(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        set_azure(&ctx);
        let browser = login(&app, &ctx, ADMIN).await;
        let first = post(&app, &browser, &url(&ctx, "scim/token"), &[("expires", "never")]).await;
        let first = text_of(&first.body, "scim-token");

        let dialog = get(&app, Some(&browser), &url(&ctx, "scim/regenerate")).await;
        assert_eq!(dialog.status, StatusCode::OK);
        for grace in ["1h", "24h", "none"] {
            assert!(
                dialog
                    .body
                    .contains(&format!(r#"id="grace-{grace}" value="{grace}""#))
            );
        }
        assert!(
            dialog
                .body
                .contains("<legend>Keep the current token working for</legend>")
        );

        let res = post(
            &app,
            &browser,
            &url(&ctx, "scim/regenerate"),
            &[("grace", "1h"), ("expires", "1y")],
        )
        .await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.header("cache-control"), Some("no-store"));
        let second = text_of(&res.body, "scim-token");
        assert_ne!(first, second);
        assert!(res.body.contains("The previous token keeps working until"));
        assert!(verify(&ctx, &first) && verify(&ctx, &second));
        let page = get(&app, Some(&browser), &url(&ctx, "sso")).await;
        assert!(page.body.contains(r#"id="grace-banner""#));
        ctx.clock.advance(chrono::Duration::minutes(61));
        assert!(!verify(&ctx, &first), "the grace period is over");
        assert!(verify(&ctx, &second));

        // Immediately: the old one stops now.
        let browser = login(&app, &ctx, ADMIN).await;
        let res = post(
            &app,
            &browser,
            &url(&ctx, "scim/regenerate"),
            &[("grace", "none"), ("expires", "never")],
        )
        .await;
        let third = text_of(&res.body, "scim-token");
        assert!(res.body.contains("The previous token has stopped working."));
        assert!(!verify(&ctx, &second) && verify(&ctx, &third));
        assert!(audit_actions(db, &ctx.org).contains(&"token.regenerated".to_owned()));

        let bad = post(
            &app,
            &browser,
            &url(&ctx, "scim/regenerate"),
            &[("grace", "2h"), ("expires", "never")],
        )
        .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(verify(&ctx, &third), "a refused regenerate changes nothing");
    });
}

fn delete_asks_first_then_revokes_every_token(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        set_azure(&ctx);
        let browser = login(&app, &ctx, OWNER).await;
        let first = post(&app, &browser, &url(&ctx, "scim/token"), &[("expires", "never")]).await;
        let first = text_of(&first.body, "scim-token");
        let second = post(
            &app,
            &browser,
            &url(&ctx, "scim/regenerate"),
            &[("grace", "24h"), ("expires", "never")],
        )
        .await;
        let second = text_of(&second.body, "scim-token");

        let confirm = get(&app, Some(&browser), &url(&ctx, "scim/delete")).await;
        assert_eq!(confirm.status, StatusCode::OK);
        assert!(confirm.body.contains("Delete the SCIM configuration?"));
        assert!(confirm.body.contains(r#"id="confirm-delete""#));

        let res = post(&app, &browser, &url(&ctx, "scim/delete"), &[]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        assert!(
            !verify(&ctx, &first) && !verify(&ctx, &second),
            "both tokens stop at once"
        );
        let page = get(&app, Some(&browser), res.location()).await;
        assert!(page.body.contains("SCIM configuration deleted."));
        assert_eq!(text_of(&page.body, "scim-status"), "Not configured");
        let again = get(&app, Some(&browser), &url(&ctx, "scim/delete")).await;
        assert_eq!(again.status, StatusCode::SEE_OTHER, "nothing left to delete");
        // A new token can be generated afterwards.
        let fresh = post(&app, &browser, &url(&ctx, "scim/token"), &[("expires", "never")]).await;
        assert_eq!(fresh.status, StatusCode::OK);
    });
}

scimd_store::backend_tests!(
    generate_reveals_the_token_once_and_never_again,
    generate_needs_an_sso_connection_and_a_known_expiry,
    regenerate_with_a_grace_period_keeps_the_old_token_for_that_long,
    delete_asks_first_then_revokes_every_token,
);
