//! Security: CSRF token and Origin on every form (refusals change nothing), the headers on every response,
//! no-store on the reveal, escaping of IdP-supplied names, the embedded assets.

use crate::support::*;
use actix_web::http::StatusCode;
use scimd_store::testing::TestDb;

fn a_cross_origin_form_post_is_refused_and_changes_nothing(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        set_azure(&ctx);
        let browser = login(&app, &ctx, OWNER).await;
        let csrf = browser.csrf();
        for origin in ["https://evil.example", "null", "http://admin.test.evil.example"] {
            let res = post_raw(
                &app,
                Some(&browser),
                &url(&ctx, "scim/token"),
                &[("expires", "never"), ("csrf_token", &csrf)],
                Some(origin),
            )
            .await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "Origin {origin}");
            assert!(res.body.contains("not sent from this site"));
        }
        let res = post_raw(
            &app,
            Some(&browser),
            &url(&ctx, "sso/remove"),
            &[("csrf_token", &csrf)],
            Some("https://evil.example"),
        )
        .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        // A Referer from elsewhere (no Origin) and Sec-Fetch-Site: cross-site are refused too.
        let req = actix_web::test::TestRequest::post()
            .uri(&url(&ctx, "scim/token"))
            .insert_header(("cookie", format!("scimd_session={}", browser.cookie)))
            .insert_header(("referer", "https://evil.example/page"))
            .set_form([("expires", "never"), ("csrf_token", csrf.as_str())])
            .to_request();
        assert_eq!(
            actix_web::test::call_service(&app, req).await.status(),
            StatusCode::FORBIDDEN
        );
        let req = actix_web::test::TestRequest::post()
            .uri(&url(&ctx, "scim/token"))
            .insert_header(("cookie", format!("scimd_session={}", browser.cookie)))
            .insert_header(("origin", ORIGIN))
            .insert_header(("sec-fetch-site", "cross-site"))
            .set_form([("expires", "never"), ("csrf_token", csrf.as_str())])
            .to_request();
        assert_eq!(
            actix_web::test::call_service(&app, req).await.status(),
            StatusCode::FORBIDDEN
        );

        assert!(ctx.state.tokens.scim_status_blocking(&ctx.org).unwrap().is_none());
        assert!(ctx.state.connection.get_blocking(&ctx.org).unwrap().is_some());
        // The same request from our own origin works (the refusals were about the origin).
        let ok = post_raw(
            &app,
            Some(&browser),
            &url(&ctx, "scim/token"),
            &[("expires", "never"), ("csrf_token", &csrf)],
            Some(ORIGIN),
        )
        .await;
        assert_eq!(ok.status, StatusCode::OK);
    });
}

fn a_post_without_the_csrf_token_or_with_another_session_s_is_refused_and_changes_nothing(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let browser = login(&app, &ctx, OWNER).await;
        let other = login(&app, &ctx, ADMIN).await;
        let saml = [
            ("entity_id", "https://idp.acme.test"),
            ("sso_url", "https://idp.acme.test/sso"),
            ("certificate", CERT_PEM),
        ];
        let missing = post_raw(&app, Some(&browser), &url(&ctx, "sso/saml"), &saml, Some(ORIGIN)).await;
        assert_eq!(missing.status, StatusCode::FORBIDDEN);
        assert!(missing.body.contains("nothing was changed"));
        let mut foreign = saml.to_vec();
        let other_csrf = other.csrf();
        foreign.push(("csrf_token", &other_csrf));
        let wrong = post_raw(
            &app,
            Some(&browser),
            &url(&ctx, "sso/saml"),
            &foreign,
            Some(ORIGIN),
        )
        .await;
        assert_eq!(wrong.status, StatusCode::FORBIDDEN);
        let mut empty = saml.to_vec();
        empty.push(("csrf_token", ""));
        let blank = post_raw(&app, Some(&browser), &url(&ctx, "sso/saml"), &empty, None).await;
        assert_eq!(blank.status, StatusCode::FORBIDDEN);
        assert!(ctx.state.connection.get_blocking(&ctx.org).unwrap().is_none());
        assert!(!audit_actions(db, &ctx.org).contains(&"sso.saml_set".to_owned()));
        // With its own token the same form is accepted.
        let ok = post(&app, &browser, &url(&ctx, "sso/saml"), &saml).await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER);
    });
}

fn every_response_carries_the_security_headers(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        set_azure(&ctx);
        let browser = login(&app, &ctx, OWNER).await;
        let reveal = post(&app, &browser, &url(&ctx, "scim/token"), &[("expires", "never")]).await;
        let responses = [
            get(&app, Some(&browser), &url(&ctx, "sso")).await,
            get(&app, Some(&browser), &url(&ctx, "members")).await,
            get(&app, None, &url(&ctx, "sso")).await,
            get(&app, None, "/admin/nowhere").await,
            get(&app, None, "/").await,
            get(&app, None, "/static/app.css").await,
            reveal,
        ];
        for res in &responses {
            assert_eq!(
                res.header("content-security-policy"),
                Some(
                    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                     frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
                )
            );
            assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
            assert_eq!(res.header("x-frame-options"), Some("DENY"));
            assert_eq!(res.header("referrer-policy"), Some("same-origin"));
        }
        assert_eq!(responses[3].status, StatusCode::NOT_FOUND);
        assert!(responses[3].body.contains("Page not found"));
        assert_eq!(responses[0].header("cache-control"), Some("no-store"));
        // No inline script or style anywhere: the CSP would block it.
        for res in &responses {
            assert!(
                !res.body.contains("<script>")
                    && !res.body.contains(" style=")
                    && !res.body.contains("<style")
            );
            assert!(!res.body.contains("onclick="));
        }
    });
}

fn the_assets_are_embedded_versioned_and_cached_for_long(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let page = get(&app, None, "/admin").await;
        let css_url = page
            .body
            .split("href=\"/static/app.css?v=")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert_eq!(css_url.len(), 12, "a 12-hex-digit content hash");
        for (path, ty) in [
            ("/static/app.css", "text/css; charset=utf-8"),
            ("/static/app.js", "text/javascript; charset=utf-8"),
            ("/static/favicon.svg", "image/svg+xml"),
        ] {
            let res = get(&app, None, path).await;
            assert_eq!(res.status, StatusCode::OK, "{path}");
            assert_eq!(res.header("content-type"), Some(ty));
            assert_eq!(
                res.header("cache-control"),
                Some("public, max-age=31536000, immutable")
            );
            assert!(!res.body.is_empty());
        }
        assert_eq!(
            get(&app, None, "/static/secret.txt").await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            get(&app, None, "/static/..%2FCargo.toml").await.status,
            StatusCode::NOT_FOUND
        );
    });
}

fn member_names_from_the_idp_render_as_text(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        add_scim_member(db, &ctx.org, "x@acme.test", "<img src=x onerror=alert(1)>");
        let browser = login(&app, &ctx, OWNER).await;
        let res = get(&app, Some(&browser), &url(&ctx, "members")).await;
        assert!(!res.body.contains("<img src=x onerror=alert(1)>"));
        assert!(
            res.body.contains("&#60;img src=x onerror=alert(1)&#62;")
                || res.body.contains("&lt;img src=x onerror=alert(1)&gt;")
        );
        // Search terms are echoed escaped too.
        let search = get(&app, Some(&browser), &url(&ctx, "members?q=%22%3E%3Cscript%3E")).await;
        assert!(!search.body.contains("\"><script>"));
    });
}

/// L9: over https every admin response pins https for a year; over plain http nothing is pinned.
fn hsts_is_sent_when_the_public_url_is_https_and_only_then(db: &TestDb) {
    run(async {
        let secure = ctx_with_url(db, "https://scimd.example.com");
        let app = app(&secure).await;
        let owner = login(&app, &secure, OWNER).await;
        let responses = [
            get(&app, None, "/").await,
            get(&app, None, "/admin").await,
            get(&app, None, "/admin/nowhere").await,
            get(&app, None, "/static/app.css").await,
            get(&app, Some(&owner), &url(&secure, "sso")).await,
        ];
        for res in &responses {
            assert_eq!(
                res.header("strict-transport-security"),
                Some("max-age=31536000; includeSubDomains"),
                "{}",
                res.status
            );
        }
        let plain = ctx(db);
        let plain_app = crate::support::app(&plain).await;
        let owner = login(&plain_app, &plain, OWNER).await;
        for res in [
            get(&plain_app, None, "/admin").await,
            get(&plain_app, Some(&owner), &url(&plain, "sso")).await,
        ] {
            assert_eq!(res.header("strict-transport-security"), None);
        }
    });
}

scimd_store::backend_tests!(
    hsts_is_sent_when_the_public_url_is_https_and_only_then,
    a_cross_origin_form_post_is_refused_and_changes_nothing,
    a_post_without_the_csrf_token_or_with_another_session_s_is_refused_and_changes_nothing,
    every_response_carries_the_security_headers,
    the_assets_are_embedded_versioned_and_cached_for_long,
    member_names_from_the_idp_render_as_text,
);
