//! A SAML sign-in ends the browser's previous session although the IdP's POST is cross-site (review 3, L-6),
//! against the real app on both backends. A cross-site POST carries no SameSite=Lax session cookie, so this
//! test's browser posts to the ACS without it; the ACS hands the sign-in off to `GET /sso/{org}/complete`,
//! which (a top-level GET) carries it. That GET ends the previous session, with its `session.revoked` event
//! and audit row, and opens the new one; the hand-off works once, for the browser the ACS answered only, not
//! after it expires, and not for a member deactivated since the ACS.

use crate::scim_client::Reply;
use crate::sso_signin::{self, Browser};
use crate::test_app::TestApp;
use diesel::prelude::*;
use scimd_sso::testing::keys;
use scimd_store::models::audit_events;
use scimd_store::testing::TestDb;
use scimd_store::{OrgId, schema};
use serde_json::Value;

const SESSION: &str = "scimd_session";
const BINDING: &str = "scimd_sso";

/// The details of the org's audit events of `action`, oldest first.
fn audited(env: &TestApp, org: &OrgId, action: &str) -> Vec<Value> {
    env.store
        .read(|conn| audit_events::list(conn, org, Some(action), None, 100))
        .unwrap()
        .into_iter()
        .rev()
        .map(|e| serde_json::from_str(&e.details).unwrap())
        .collect()
}

/// A browser holding only this session cookie.
fn with_session(env: &TestApp, cookie: &str) -> Browser {
    let mut browser = Browser::new(env);
    browser.cookies.insert(SESSION.into(), cookie.into());
    browser
}

/// The org's settings page, as `browser` sees it.
fn page(browser: &mut Browser, org: &OrgId) -> Reply {
    browser.send("GET", &format!("/admin/orgs/{org}/sso"), None)
}

/// Start, IdP, and the ACS's answer to a POST that carries no session cookie (a cross-site POST): the
/// hand-off URL. The browser keeps its session cookie for its next (top-level GET) request.
fn cross_site_acs(browser: &mut Browser, org: &OrgId, name_id: &str, oid: &str) -> String {
    let request = sso_signin::start(browser, org);
    let spec = sso_signin::response(&request, Some(&request.id), name_id, Some(oid));
    let kept = browser.cookies.remove(SESSION);
    let started_binding = browser.cookies.get(BINDING).cloned();
    let reply = sso_signin::post_acs_only(
        browser,
        org,
        &sso_signin::signed_by(&spec, keys::idp()),
        Some(&request.relay_state),
    );
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert!(
        !browser.cookies.contains_key(SESSION),
        "the ACS opens no session: {:?}",
        reply.headers
    );
    // The hand-off is bound to a fresh binding cookie, set by the ACS's answer.
    let binding = browser.cookies.get(BINDING).cloned();
    assert!(
        binding.is_some() && binding != started_binding,
        "{:?}",
        reply.headers
    );
    if let Some(kept) = kept {
        browser.cookies.insert(SESSION.into(), kept);
    }
    let location = reply.header("location").unwrap().to_owned();
    assert!(
        location.starts_with(&format!("/sso/{org}/complete?handoff=")),
        "{location}"
    );
    location
}

fn a_saml_sign_in_ends_the_browsers_previous_session(db: &TestDb) {
    let env = &TestApp::init(db);
    let a = env.a.id.clone();
    sso_signin::saml_connection(env, &a, keys::idp(), false);
    sso_signin::create_user(&env.client_a(), "ada@a.example", "oid-ada");
    let lin = sso_signin::create_user(&env.client_a(), "lin@a.example", "oid-lin");

    // An earlier sign-in in this browser: ada's session.
    let mut browser = Browser::new(env);
    let request = sso_signin::start(&mut browser, &a);
    let spec = sso_signin::response(&request, Some(&request.id), "ada@a.example", Some("oid-ada"));
    let first = sso_signin::post_acs(
        &mut browser,
        &a,
        &sso_signin::signed_by(&spec, keys::idp()),
        Some(&request.relay_state),
    );
    assert_eq!(first.status, 303, "{}", first.body);
    let old = browser.cookies[SESSION].clone();
    let logins = audited(env, &a, "admin.login");
    assert_eq!(logins.len(), 1, "{logins:?}");
    let old_id = logins[0]["session_id"].as_str().unwrap().to_owned();

    // Lin signs in in the same browser, the IdP's POST without the session cookie.
    let handoff = cross_site_acs(&mut browser, &a, "lin@a.example", "oid-lin");
    // Nothing is decided yet: the old session still works and no session was opened.
    assert_eq!(page(&mut with_session(env, &old), &a).status, 200);
    assert_eq!(audited(env, &a, "admin.login").len(), 1);

    // Another browser cannot collect the hand-off: not with another binding cookie, nor with none. It stays
    // for the browser it belongs to.
    let mut thief = with_session(env, &old);
    thief
        .cookies
        .insert(BINDING.into(), "another-browsers-binding".into());
    let stolen = thief.send("GET", &handoff, None);
    assert_eq!(stolen.status, 403, "{}", stolen.body);
    assert!(
        stolen.body.contains("Sign-in did not complete"),
        "{}",
        stolen.body
    );
    assert_eq!(thief.send("GET", &handoff, None).status, 403);
    let mut bare = Browser::new(env);
    assert_eq!(bare.send("GET", &handoff, None).status, 403);
    assert!(!bare.cookies.contains_key(SESSION));
    assert_eq!(audited(env, &a, "admin.login").len(), 1);

    // The browser's GET carries its session cookie: the old session ends, the new one opens.
    let binding = browser.cookies[BINDING].clone();
    let done = browser.send("GET", &handoff, None);
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.header("location"),
        Some(format!("/admin/orgs/{a}/sso").as_str())
    );
    let new = browser.cookies[SESSION].clone();
    assert_ne!(new, old);
    assert!(
        !browser.cookies.contains_key(BINDING),
        "the binding cookie is spent"
    );
    assert_eq!(page(&mut with_session(env, &old), &a).status, 401);
    let signed_in = page(&mut browser, &a);
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    assert!(signed_in.body.contains("lin@a.example"), "the page names lin");

    // As with a login link: the old session's end is audited and in the feed as `session.revoked`.
    let ended = audited(env, &a, "admin.logout");
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert_eq!(ended[0]["session_id"], old_id.as_str());
    assert_eq!(ended[0]["reason"], "replaced_by_login");
    let logins = audited(env, &a, "admin.login");
    assert_eq!(logins.len(), 2, "{logins:?}");
    assert_eq!(logins[1]["method"], "saml");
    let key = env.api_key(Some(&a));
    let feed = env
        .client_a()
        .with_base(String::new())
        .with_token(Some(&key))
        .get("/api/v1/events?after=0&types=session.revoked");
    assert_eq!(feed.status, 200, "{}", feed.body);
    let events = feed.json()["events"].as_array().unwrap().clone();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["data"]["session_id"], old_id.as_str());
    assert_eq!(events[0]["data"]["reason"], "replaced_by_login");

    // The hand-off works once: the same browser, its binding cookie back, is refused and opens nothing.
    browser.cookies.insert(BINDING.into(), binding);
    let replay = browser.send("GET", &handoff, None);
    assert_eq!(replay.status, 403, "{}", replay.body);
    assert_eq!(
        page(&mut with_session(env, &new), &a).status,
        200,
        "the replay ended nothing"
    );
    assert_eq!(audited(env, &a, "admin.login").len(), 2);

    // A hand-off past its time is refused, and the session it would replace lives on.
    let late = cross_site_acs(&mut browser, &a, "ada@a.example", "oid-ada");
    let past = scimd_store::Clock::now_naive(&scimd_store::SystemClock) - chrono::TimeDelta::seconds(1);
    let expired = env
        .store
        .write(|conn| {
            Ok::<_, scimd_store::StoreError>(
                diesel::update(schema::sso_handoffs::table)
                    .filter(schema::sso_handoffs::consumed_at.is_null())
                    .set(schema::sso_handoffs::expires_at.eq(past))
                    .execute(conn)?,
            )
        })
        .unwrap();
    assert_eq!(expired, 1);
    let too_late = browser.send("GET", &late, None);
    assert_eq!(too_late.status, 403, "{}", too_late.body);
    assert_eq!(browser.cookies[SESSION], new);
    assert_eq!(page(&mut browser, &a).status, 200);
    assert_eq!(audited(env, &a, "admin.login").len(), 2);
    assert_eq!(audited(env, &a, "admin.logout").len(), 1);
    // The unknown, used and expired hand-offs were anyone's to make up: not audited (review H-1).
    assert!(audited(env, &a, "sso.signin_refused").is_empty());
    // Purged with the pending sign-ins.
    let purged = env
        .store
        .write(|conn| {
            scimd_store::models::sso_signin::purge_expired(
                conn,
                scimd_store::Clock::now_naive(&scimd_store::SystemClock),
                100,
            )
        })
        .unwrap();
    assert!(purged >= 1, "{purged}");
    let left: i64 = env
        .store
        .read(|conn| {
            Ok::<_, scimd_store::StoreError>(
                schema::sso_handoffs::table
                    .filter(schema::sso_handoffs::expires_at.le(past))
                    .count()
                    .get_result(conn)?,
            )
        })
        .unwrap();
    assert_eq!(left, 0);

    // A member deactivated between the ACS and the hand-off is refused there, and that is audited.
    let handoff = cross_site_acs(&mut browser, &a, "lin@a.example", "oid-lin");
    sso_signin::set_active(&env.client_a(), &lin, false);
    let gone = browser.send("GET", &handoff, None);
    assert_eq!(gone.status, 403, "{}", gone.body);
    assert!(
        gone.body.contains("Your access has been removed"),
        "{}",
        gone.body
    );
    let refused = audited(env, &a, "sso.signin_refused");
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0]["reason"], "member_inactive");
    assert_eq!(audited(env, &a, "admin.login").len(), 2);
}

scimd_store::backend_tests!(a_saml_sign_in_ends_the_browsers_previous_session);
