//! Signing in with a login link, signing out, and every way a session ends: each lands on a page that says so.

use crate::support::*;
use actix_web::http::StatusCode;
use scimd_store::testing::TestDb;

fn login_link_sets_the_session_cookie_and_lands_on_sso(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let token = login_token(&ctx, OWNER);
        let landing = get(&app, None, &format!("/admin/login?token={token}")).await;
        assert_eq!(landing.status, StatusCode::OK);
        assert!(landing.body.contains(r#"action="/admin/login""#));
        // The link is not used by merely opening it (mail scanners open links).
        let login_cookie = &landing.set_cookies()[0];
        assert!(login_cookie.starts_with("scimd_login="), "{login_cookie}");
        assert!(login_cookie.contains("HttpOnly") && login_cookie.contains("SameSite=Strict"));

        let (name, nonce) = cookie_value(login_cookie);
        let res = post_login(&app, ORIGIN, &format!("{name}={nonce}"), &token, &nonce).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        assert_eq!(res.location(), url(&ctx, "sso"));
        let session = res
            .set_cookies()
            .into_iter()
            .find(|c| c.starts_with("scimd_session="))
            .unwrap();
        for part in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=43200"] {
            assert!(session.contains(part), "{part} missing from {session}");
        }
        assert!(!session.contains("Secure"), "plain http: no Secure flag");
        assert!(audit_actions(db, &ctx.org).contains(&"admin.login".to_owned()));

        // The same link a second time is refused with a page that says why.
        let again = post_raw(
            &app,
            None,
            "/admin/login",
            &[("token", &token), ("csrf_token", &nonce)],
            Some(ORIGIN),
        )
        .await;
        assert_eq!(
            again.status,
            StatusCode::FORBIDDEN,
            "no login cookie: CSRF refusal"
        );
        let again = post_login(&app, ORIGIN, &format!("{name}={nonce}"), &token, &nonce).await;
        assert_eq!(again.status, StatusCode::UNAUTHORIZED);
        assert!(again.body.contains("This sign-in link no longer works"));
    });
}

fn over_https_the_cookie_is_host_prefixed_and_secure(db: &TestDb) {
    run(async {
        let ctx = ctx_with_url(db, "https://scimd.example.com");
        let app = app(&ctx).await;
        let token = login_token(&ctx, OWNER);
        let landing = get(&app, None, &format!("/admin/login?token={token}")).await;
        let (name, nonce) = cookie_value(&landing.set_cookies()[0]);
        assert_eq!(name, "__Host-scimd_login");
        let res = post_login(
            &app,
            "https://scimd.example.com",
            &format!("{name}={nonce}"),
            &token,
            &nonce,
        )
        .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        let session = res
            .set_cookies()
            .into_iter()
            .find(|c| c.starts_with("__Host-scimd_session="))
            .expect("a __Host- session cookie");
        for part in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(session.contains(part), "{part} missing from {session}");
        }
        assert!(!session.contains("Domain"), "__Host- cookies have no Domain");
        let browser = Browser {
            cookie_name: "__Host-scimd_session",
            cookie: cookie_value(&session).1,
        };
        assert_eq!(
            get(&app, Some(&browser), &url(&ctx, "sso")).await.status,
            StatusCode::OK
        );
    });
}

fn an_invalid_login_link_and_a_login_without_its_form_cookie_are_refused(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let missing = get(&app, None, "/admin/login").await;
        assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
        let token = login_token(&ctx, OWNER);
        let forged = post_raw(
            &app,
            None,
            "/admin/login",
            &[("token", &token), ("csrf_token", "guess")],
            Some(ORIGIN),
        )
        .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        let cross = post_raw(
            &app,
            None,
            "/admin/login",
            &[("token", &token), ("csrf_token", "x")],
            Some("https://evil.example"),
        )
        .await;
        assert_eq!(cross.status, StatusCode::FORBIDDEN);
        // Neither spent the link: it still works.
        login_with_token(&app, &token).await;
        // The landing page checks the link (it names whom it signs in), so a dead one gets no Continue.
        let garbage = get(&app, None, "/admin/login?token=not-a-jwt").await;
        assert_eq!(garbage.status, StatusCode::UNAUTHORIZED);
        assert!(!garbage.body.contains(r#"id="continue""#));
        let used = get(&app, None, &format!("/admin/login?token={token}")).await;
        assert_eq!(used.status, StatusCode::UNAUTHORIZED, "a used link");
    });
}

async fn login_with_token<S, B>(app: &S, token: &str)
where
    S: TestApp<B>,
    B: actix_web::body::MessageBody,
{
    let landing = get(app, None, &format!("/admin/login?token={token}")).await;
    let (name, nonce) = cookie_value(&landing.set_cookies()[0]);
    let res = post_login(app, ORIGIN, &format!("{name}={nonce}"), token, &nonce).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
}

fn logout_ends_the_session_and_the_next_page_says_so(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let browser = login(&app, &ctx, OWNER).await;
        let res = post(&app, &browser, "/admin/logout", &[]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        assert_eq!(res.location(), "/admin/signed-out");
        assert!(res.set_cookies()[0].contains("Max-Age=0"));
        assert!(audit_actions(db, &ctx.org).contains(&"admin.logout".to_owned()));
        let signed_out = get(&app, None, "/admin/signed-out").await;
        assert!(signed_out.body.contains("You are signed out"));

        // The old cookie, replayed, no longer works.
        let after = get(&app, Some(&browser), &url(&ctx, "sso")).await;
        assert_eq!(after.status, StatusCode::UNAUTHORIZED);
        assert!(after.body.contains("Your session has ended"));
        assert!(
            after.set_cookies()[0].contains("Max-Age=0"),
            "the dead cookie is cleared"
        );
    });
}

fn logout_without_the_csrf_token_is_refused_and_keeps_the_session(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let browser = login(&app, &ctx, MEMBER).await;
        let res = post_raw(&app, Some(&browser), "/admin/logout", &[], Some(ORIGIN)).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        assert_eq!(
            get(&app, Some(&browser), &url(&ctx, "sso")).await.status,
            StatusCode::OK
        );
        // Any role may sign out.
        let res = post(&app, &browser, "/admin/logout", &[]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
    });
}

fn an_expired_session_lands_on_a_page_that_says_so(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let browser = login(&app, &ctx, OWNER).await;
        ctx.clock.advance(chrono::Duration::hours(13));
        let res = get(&app, Some(&browser), &url(&ctx, "members")).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        assert!(res.body.contains("Your session has ended"));
    });
}

fn a_deactivated_member_s_very_next_request_fails(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let browser = login(&app, &ctx, ADMIN).await;
        assert_eq!(
            get(&app, Some(&browser), &url(&ctx, "sso")).await.status,
            StatusCode::OK
        );
        deactivate(db, ADMIN);
        let res = get(&app, Some(&browser), &url(&ctx, "sso")).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        assert!(res.body.contains("Your session has ended"));
        let write = post(&app, &browser, &url(&ctx, "scim/delete"), &[]).await;
        assert_eq!(write.status, StatusCode::UNAUTHORIZED);
    });
}

fn a_role_change_applies_on_the_next_request(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        set_azure(&ctx);
        let browser = login(&app, &ctx, ADMIN).await;
        set_role(db, ADMIN, "member");
        let res = post(&app, &browser, &url(&ctx, "scim/token"), &[("expires", "never")]).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        assert!(ctx.state.tokens.scim_status_blocking(&ctx.org).unwrap().is_none());
    });
}

fn without_a_session_pages_ask_to_sign_in(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let root = get(&app, None, "/").await;
        assert_eq!(root.status, StatusCode::SEE_OTHER);
        assert_eq!(root.location(), "/admin");
        let help = get(&app, None, "/admin").await;
        assert_eq!(help.status, StatusCode::OK);
        // What the person can do, and no operator command: the CLI is for whoever runs scimd (docs/OPERATIONS.md).
        assert!(help.body.contains("Ask your organization's owner"));
        assert!(!help.body.contains("scimd admin") && !help.body.contains("SCIMD_"));
        let page = get(&app, None, &url(&ctx, "sso")).await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        assert!(page.body.contains("Sign in required"));
        let garbage = Browser {
            cookie_name: "scimd_session",
            cookie: "not.a.jwt".into(),
        };
        let res = get(&app, Some(&garbage), &url(&ctx, "sso")).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        assert!(res.body.contains("Your session has ended"));
        // Signed in, /admin goes to the org's SSO page.
        let browser = login(&app, &ctx, MEMBER).await;
        let admin = get(&app, Some(&browser), "/admin").await;
        assert_eq!(admin.location(), url(&ctx, "sso"));
    });
}

fn another_org_in_the_url_is_refused(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let browser = login(&app, &ctx, OWNER).await;
        let other = scimd_store::OrgId::generate();
        let res = get(&app, Some(&browser), &format!("/admin/orgs/{other}/members")).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        assert!(res.body.contains("different organization"));
    });
}

/// L8: before Continue, the landing page names the organization and the email the link signs in to.
fn the_landing_page_names_the_org_and_the_email(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let token = login_token(&ctx, ADMIN);
        let landing = get(&app, None, &format!("/admin/login?token={token}")).await;
        assert_eq!(landing.status, StatusCode::OK);
        assert_eq!(text_of(&landing.body, "signin-org"), "Acme");
        assert_eq!(text_of(&landing.body, "signin-email"), ADMIN);
        assert!(landing.body.contains(r#"id="continue""#));
    });
}

/// L8: signing in through a link ends the session the browser had (a link sent by someone else must not
/// leave the victim's own session alive behind the swapped one).
fn a_login_through_a_link_revokes_the_browsers_previous_session(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let own = login(&app, &ctx, OWNER).await;
        let other = crate::support::ctx(db);
        let token = login_token(&other, OWNER);
        let landing = get(&app, None, &format!("/admin/login?token={token}")).await;
        let (name, nonce) = cookie_value(&landing.set_cookies()[0]);
        let cookie = format!("{name}={nonce}; {}={}", own.cookie_name, own.cookie);
        let res = post_login(&app, ORIGIN, &cookie, &token, &nonce).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        assert_eq!(res.location(), format!("/admin/orgs/{}/sso", other.org));
        let before = get(&app, Some(&own), &url(&ctx, "sso")).await;
        assert_eq!(
            before.status,
            StatusCode::UNAUTHORIZED,
            "the previous session ended"
        );
        assert!(audit_actions(db, &ctx.org).contains(&"admin.logout".to_owned()));
    });
}

/// L9: a session without a request for the idle timeout ends inside its lifetime; requests keep it going.
fn an_idle_session_ends(db: &TestDb) {
    run(async {
        let mut ctx = ctx(db);
        ctx.state.sessions = ctx
            .state
            .sessions
            .clone()
            .with_settings(scimd_tokens::SessionSettings {
                lifetime: chrono::Duration::hours(24),
                idle_timeout: chrono::Duration::hours(2),
            });
        let app = app(&ctx).await;
        let browser = login(&app, &ctx, OWNER).await;
        for _ in 0..2 {
            ctx.clock.advance(chrono::Duration::minutes(90));
            let res = get(&app, Some(&browser), &url(&ctx, "members")).await;
            assert_eq!(res.status, StatusCode::OK);
        }
        ctx.clock.advance(chrono::Duration::hours(2));
        let res = get(&app, Some(&browser), &url(&ctx, "members")).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        assert!(res.body.contains("Your session has ended"));
    });
}

scimd_store::backend_tests!(
    the_landing_page_names_the_org_and_the_email,
    a_login_through_a_link_revokes_the_browsers_previous_session,
    an_idle_session_ends,
    login_link_sets_the_session_cookie_and_lands_on_sso,
    over_https_the_cookie_is_host_prefixed_and_secure,
    an_invalid_login_link_and_a_login_without_its_form_cookie_are_refused,
    logout_ends_the_session_and_the_next_page_says_so,
    logout_without_the_csrf_token_is_refused_and_keeps_the_session,
    an_expired_session_lands_on_a_page_that_says_so,
    a_deactivated_member_s_very_next_request_fails,
    a_role_change_applies_on_the_next_request,
    without_a_session_pages_ask_to_sign_in,
    another_org_in_the_url_is_refused,
);
